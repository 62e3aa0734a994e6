"""Where an individual was present: the frames every filling stage may fill.

A frame is *detected* for an individual when any of its keypoints has a position or a
confidence (a detection record: readers give frames nobody was found in NaN positions
and NaN confidences). The individual is *present* from its first to its last detected
frame, across absences of at most ``max_gap`` frames; longer absences and the frames
before the first and after the last detection are not presence. Filling stages
(``jumps``, ``interpolate`` and the baselines) create values only where the individual
is present, so a person seen in 76 frames of 1,235 never comes out with 1,235.
"""

from __future__ import annotations

import numpy as np

from posekit.core.sequence import PoseSequence

#: Longest absence (frames) bridged by default: about a second of video.
DEFAULT_MAX_GAP = 30


def check_max_gap(instance: object, attribute: object, value: int | None) -> None:
    """attrs validator of a stage's ``max_gap``: None or an int of 0 or more."""
    if value is not None and value < 0:
        raise ValueError(f"max_gap must be 0 or more (or None), got {value}")


def bridge_gaps(detected: np.ndarray, max_gap: int | None) -> np.ndarray:
    """Presence along the last axis: detected frames and the absences between them
    of at most ``max_gap`` frames (None: every absence between the first and the last
    detection).

    Parameters
    ----------
    detected
        ``(..., T)`` bool.
    max_gap
        Longest absence bridged, in frames; 0 bridges none.

    Returns
    -------
    numpy.ndarray
        ``(..., T)`` bool; False before the first and after the last detected frame.

    Examples
    --------
    >>> seen = np.array([0, 1, 0, 0, 1, 0, 0, 0, 1, 0], bool)
    >>> bridge_gaps(seen, 2).astype(int).tolist()
    [0, 1, 1, 1, 1, 0, 0, 0, 1, 0]
    >>> bridge_gaps(seen, None).astype(int).tolist()
    [0, 1, 1, 1, 1, 1, 1, 1, 1, 0]
    """
    if max_gap is not None and max_gap < 0:
        raise ValueError(f"max_gap must be 0 or more (or None), got {max_gap}")
    detected = np.asarray(detected, dtype=bool)
    n_frames = detected.shape[-1]
    frames = np.arange(n_frames)
    # Frame of the previous / next detection (inclusive) of every frame.
    previous = np.maximum.accumulate(np.where(detected, frames, -1), axis=-1)
    following = np.flip(
        np.minimum.accumulate(np.flip(np.where(detected, frames, n_frames), -1), axis=-1), -1
    )
    inside = (previous >= 0) & (following < n_frames)
    if max_gap is None:
        return inside
    return detected | (inside & (following - previous - 1 <= max_gap))


def detected_frames(sequence: PoseSequence) -> np.ndarray:
    """``(individual, time)``: True where any keypoint has a position or a confidence.

    Examples
    --------
    >>> position = np.full((4, 2, 3, 1), np.nan)
    >>> position[1] = 5.0
    >>> detected_frames(PoseSequence.from_arrays(position, keypoints=list("abc"))).tolist()
    [[False, True, False, False]]
    """
    has_position = np.isfinite(sequence.positions()).all(axis=-1)
    has_confidence = np.isfinite(sequence.confidences())
    return (has_position | has_confidence).any(axis=-1)


def presence(sequence: PoseSequence, max_gap: int | None = DEFAULT_MAX_GAP) -> np.ndarray:
    """``(individual, time)``: where each individual is present (see the module).

    Examples
    --------
    >>> position = np.full((8, 2, 1, 1), np.nan)
    >>> position[[2, 4]] = 1.0
    >>> seq = PoseSequence.from_arrays(position, keypoints=["a"])
    >>> presence(seq, max_gap=1).astype(int).tolist()
    [[0, 0, 1, 1, 1, 0, 0, 0]]
    """
    return bridge_gaps(detected_frames(sequence), max_gap)


def keep_present(
    source: PoseSequence, filled: PoseSequence, max_gap: int | None = DEFAULT_MAX_GAP
) -> PoseSequence:
    """``filled`` with nothing outside the presence of ``source``'s individuals.

    ``filled`` is what a stage made of ``source`` (same individuals and frames).
    Outside the presence every position and confidence is NaN and nothing is
    imputed; since ``source`` holds nothing there, only created values are removed.

    Examples
    --------
    >>> position = np.full((6, 2, 1, 1), np.nan)
    >>> position[2] = 1.0
    >>> source = PoseSequence.from_arrays(position, keypoints=["a"])
    >>> everywhere = source.replace(position=np.ones((1, 6, 1, 2)))
    >>> keep_present(source, everywhere).observed()[0, :, 0].astype(int).tolist()
    [0, 0, 1, 0, 0, 0]
    """
    present = presence(source, max_gap)  # (I, T)
    return filled.replace(
        position=np.where(present[..., None, None], filled.positions(), np.nan),
        confidence=np.where(present[..., None], filled.confidences(), np.nan),
        imputed=filled.imputed_flags() & present[..., None],
    )
