"""Operations on pose arrays and sequences: remapping between skeletons, Procrustes
alignment and metrics. They depend on :mod:`posekit.core` only."""
