"""Augmentations of 3D clips in the 28-joint layout, to widen the prior beyond the 13
CMU training subjects (all **ours**; the paper trains on MPI-INF-3DHP as it is).

- :func:`mirror`: the left/right mirrored motion (x negated, left and right joints
  swapped), a plausible motion of a mirror-image person;
- :func:`scale_bones`: every bone vector (child − parent along the 28-joint tree)
  multiplied by a factor, the same for a left bone and its right twin, then the joints
  re-accumulated from the pelvis; the pelvis trajectory is kept, so the feet may float
  or sink a little (invisible in scale-free 2D windows).
"""

from __future__ import annotations

import functools

import numpy as np

from posekit.core.skeleton import Skeleton
from posekit.plugins.registry import get_skeleton

SKELETON = "mpi_inf_3dhp_28"


def mirror(positions: np.ndarray, skeleton: Skeleton | None = None) -> np.ndarray:
    """The left/right mirror image of a motion: x negated, left and right joints swapped.

    Parameters
    ----------
    positions
        ``(..., J, 3)`` world positions (x is the axis negated).
    skeleton
        The layout; default ``mpi_inf_3dhp_28``.

    Examples
    --------
    >>> sk = get_skeleton("mpi_inf_3dhp_28")
    >>> pose = np.zeros((28, 3))
    >>> pose[sk.index("left_hand")] = [0.8, 1.0, 0.1]
    >>> mirror(pose)[sk.index("right_hand")].tolist()
    [-0.8, 1.0, 0.1]
    """
    skeleton = skeleton or get_skeleton(SKELETON)
    out = np.asarray(positions)[..., skeleton.mirror_permutation(), :].copy()
    out[..., 0] *= -1.0
    return out


@functools.cache
def _tree(name: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Joints parents-first, and each joint's left/right-symmetric bone class."""
    skeleton = get_skeleton(name)
    order: list[int] = []
    pending = [skeleton.root]
    while pending:
        joint = pending.pop(0)
        order.append(joint)
        pending.extend(c for c, p in enumerate(skeleton.parents) if p == joint)
    perm = skeleton.mirror_permutation()
    classes = tuple(int(min(j, perm[j])) for j in range(skeleton.n_joints))
    return tuple(order), classes


def bone_factors(rng: np.random.Generator, spread: float, skeleton: str = SKELETON) -> np.ndarray:
    """Per-joint bone scale factors ``U[1 − spread, 1 + spread]``, equal for left/right twins.

    One value is drawn for each joint index in order (so the draws do not depend on
    the tree walk); joint ``j``'s bone (from its parent to ``j``) uses the draw of
    ``min(j, mirror(j))``. The root's factor is unused.

    Examples
    --------
    >>> sk = get_skeleton("mpi_inf_3dhp_28")
    >>> f = bone_factors(np.random.default_rng(0), 0.1)
    >>> bool(f[sk.index("left_knee")] == f[sk.index("right_knee")]), bool(abs(f - 1).max() <= 0.1)
    (True, True)
    """
    if not 0.0 <= spread < 1.0:
        raise ValueError(f"bone scale spread must lie in [0, 1), got {spread}")
    _, classes = _tree(skeleton)
    draws = rng.uniform(1.0 - spread, 1.0 + spread, size=len(classes))
    return draws[list(classes)]


def scale_bones(positions: np.ndarray, factors: np.ndarray, skeleton: str = SKELETON) -> np.ndarray:
    """Scale every bone vector by its factor and re-accumulate the joints from the root.

    Parameters
    ----------
    positions
        ``(..., J, 3)`` positions.
    factors
        ``(J,)``: the factor of the bone ending at each joint (see :func:`bone_factors`).
    skeleton
        The layout's name.

    Examples
    --------
    >>> pose = np.random.default_rng(1).normal(size=(28, 3))
    >>> np.allclose(scale_bones(pose, np.ones(28)), pose)
    True
    >>> sk = get_skeleton("mpi_inf_3dhp_28")
    >>> knee, hip = sk.index("left_knee"), sk.index("left_hip")
    >>> out = scale_bones(pose, np.full(28, 2.0))
    >>> np.allclose(out[knee] - out[hip], 2 * (pose[knee] - pose[hip]))
    True
    """
    positions = np.asarray(positions, dtype=np.float64)
    parents = get_skeleton(skeleton).parents
    order, _ = _tree(skeleton)
    out = np.empty_like(positions)
    for joint in order:
        parent = parents[joint]
        if parent < 0:
            out[..., joint, :] = positions[..., joint, :]
        else:
            bone = positions[..., joint, :] - positions[..., parent, :]
            out[..., joint, :] = out[..., parent, :] + factors[joint] * bone
    return out
