"""Resampling pose sequences to another frame rate by linear interpolation in time.

Output frame ``k`` lies at time ``k / fps_out`` (the first frame is kept) and takes
the linear interpolation of the two input frames around it; frames are emitted up to
the last input frame, so the output covers ``floor((T - 1) · fps_out / fps_in) + 1``
frames. When ``fps_in`` is a multiple of ``fps_out`` (CMU's 120 fps to 30 fps) this
is exactly every ``fps_in / fps_out``-th frame. No low-pass filter is applied first.
"""

from __future__ import annotations

import math

import numpy as np

from posekit.core.sequence import PoseSequence


def resampled_length(n_frames: int, fps_in: float, fps_out: float) -> int:
    """Number of output frames for ``n_frames`` input frames.

    Examples
    --------
    >>> resampled_length(121, 120, 30), resampled_length(120, 120, 30), resampled_length(1, 120, 30)
    (31, 30, 1)
    """
    if not (fps_in > 0 and fps_out > 0):
        raise ValueError(f"frame rates must be positive, got {fps_in} and {fps_out}")
    if n_frames <= 0:
        return 0
    # A small tolerance so that e.g. 120 -> 30 keeps the last exact frame.
    return math.floor((n_frames - 1) * fps_out / fps_in + 1e-9) + 1


def _sample_points(n_frames: int, fps_in: float, fps_out: float) -> tuple[np.ndarray, np.ndarray]:
    """Left input frame index and interpolation weight of each output frame."""
    n_out = resampled_length(n_frames, fps_in, fps_out)
    where = np.arange(n_out, dtype=np.float64) * (fps_in / fps_out)
    nearest = np.rint(where)
    where = np.where(np.abs(where - nearest) < 1e-9, nearest, where)  # exact hits
    left = np.minimum(np.floor(where).astype(np.int64), max(n_frames - 1, 0))
    weight = where - left
    return left, weight


def resample_array(values: np.ndarray, fps_in: float, fps_out: float, *, axis: int = 0) -> np.ndarray:
    """Resample an array along its time axis by linear interpolation.

    Parameters
    ----------
    values
        Any array with time along ``axis``.
    fps_in, fps_out
        Input and output frame rates.
    axis
        The time axis.

    Returns
    -------
    numpy.ndarray
        Float array with ``resampled_length(T, fps_in, fps_out)`` frames along ``axis``.

    Notes
    -----
    An output frame that falls exactly on an input frame copies it; otherwise it is
    NaN when either neighbouring input value is NaN.

    Examples
    --------
    >>> resample_array(np.arange(9.0), 120, 30).tolist()
    [0.0, 4.0, 8.0]
    >>> resample_array(np.arange(4.0), 30, 60).tolist()
    [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
    """
    values = np.moveaxis(np.asarray(values, dtype=np.float64), axis, 0)
    n_frames = values.shape[0]
    left, weight = _sample_points(n_frames, fps_in, fps_out)
    right = np.minimum(left + 1, n_frames - 1)
    w = weight.reshape((-1,) + (1,) * (values.ndim - 1))
    out = values[left] * (1.0 - w) + values[right] * w
    exact = weight == 0.0
    out[exact] = values[left[exact]]
    return np.moveaxis(out, 0, axis)


def resample_sequence(sequence: PoseSequence, fps: float) -> PoseSequence:
    """A PoseSequence resampled to ``fps`` frames per second.

    Positions and confidences are interpolated linearly; an output joint is imputed
    when an input frame it draws on is.

    Parameters
    ----------
    sequence
        A sequence with a known ``fps``.
    fps
        The new frame rate.

    Raises
    ------
    ValueError
        If the sequence has no frame rate.

    Examples
    --------
    >>> seq = PoseSequence.from_arrays(np.zeros((121, 3, 31, 1)), skeleton="cmu_31", fps=120)
    >>> out = resample_sequence(seq, 30)
    >>> out.n_frames, out.fps
    (31, 30.0)
    """
    if sequence.fps is None:
        raise ValueError("the sequence has no frame rate (fps attr); set it before resampling")
    fps_in = sequence.fps
    position = resample_array(sequence.positions(), fps_in, fps, axis=1)
    confidence = resample_array(sequence.confidences(), fps_in, fps, axis=1)
    left, weight = _sample_points(sequence.n_frames, fps_in, fps)
    right = np.minimum(left + 1, sequence.n_frames - 1)
    flags = sequence.imputed_flags()
    imputed = flags[:, left] | (flags[:, right] & (weight > 0)[None, :, None])
    out = PoseSequence.from_arrays(
        np.moveaxis(position, (0, 1, 2, 3), (3, 0, 2, 1)),
        np.moveaxis(confidence, (0, 1, 2), (2, 0, 1)),
        skeleton=sequence.skeleton,
        keypoints=sequence.keypoints,
        individuals=sequence.individuals,
        fps=fps,
        imputed=np.moveaxis(imputed, (0, 1, 2), (2, 0, 1)),
    )
    attrs = {k: v for k, v in sequence.dataset.attrs.items() if k not in ("fps", "time_unit")}
    out.dataset.attrs.update(attrs)
    return out.with_log("resample", {"fps_in": fps_in, "fps_out": float(fps)})
