"""Confidence thresholds on pose sequences."""

from __future__ import annotations

import numpy as np

from posekit.core.sequence import PoseSequence


def drop_low_confidence(sequence: PoseSequence, threshold: float) -> PoseSequence:
    """Mark joints whose confidence is below ``threshold`` as missing.

    Their position becomes NaN; the confidence is kept so the reason stays visible. A
    NaN confidence (unknown) is not below any threshold.

    Examples
    --------
    >>> conf = np.array([0.9, 0.1]).reshape(1, 2, 1)
    >>> seq = PoseSequence.from_arrays(np.ones((1, 2, 2, 1)), conf, keypoints=["a", "b"])
    >>> drop_low_confidence(seq, 0.3).observed()[0, 0].tolist()
    [True, False]
    """
    low = sequence.confidences() < threshold
    return sequence.replace(position=np.where(low[..., None], np.nan, sequence.positions()))
