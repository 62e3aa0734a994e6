"""Telling the user what a reader guessed or left out.

A reader that guesses (a layout, a unit) or drops data the file holds says so twice:
as a Python warning, which the command line prints, and as an entry of the
sequence's provenance ``log``, which stays with the data.
"""

from __future__ import annotations

import warnings
from typing import Any

from posekit.core.sequence import PoseSequence


def noted(sequence: PoseSequence, reader: str, message: str, **parameters: Any) -> PoseSequence:
    """Warn with ``message`` and return ``sequence`` with a ``read`` log entry for it.

    Examples
    --------
    >>> import numpy as np, warnings
    >>> seq = PoseSequence.from_arrays(np.zeros((2, 2, 17, 1)), skeleton="coco_17")
    >>> with warnings.catch_warnings(record=True):
    ...     seq = noted(seq, "bvh", "a.bvh: unit guessed", scale=0.01)
    >>> seq.log[0]["parameters"]
    {'reader': 'bvh', 'note': 'a.bvh: unit guessed', 'scale': 0.01}
    """
    warnings.warn(message, UserWarning, stacklevel=3)
    return sequence.with_log("read", {"reader": reader, "note": message, **parameters})
