"""Window normalization: the scale-free coordinates the JUMPS networks see.

Each window of ``F`` frames of 28 joints (``mpi_inf_3dhp_28``, 2D) is translated so
that its mean pelvis position over the window is at the origin, and divided by its
mean 2D torso length (the distance from neck to pelvis, averaged over the window's
frames). This is posekit's choice (**ours**; the paper does not say how it
normalizes): one translation and one scale per window, so the motion within the
window (its trajectory, its changes of apparent size) is kept.

After normalization, for every window:

- the mean pelvis position over the window is ``(0, 0)``;
- the mean neck–pelvis distance over the window is ``1``.

:func:`denormalize_windows` is the exact inverse. At inference the output is mapped
back to image coordinates through Procrustes instead (see :mod:`posekit.ops.procrustes`).
"""

from __future__ import annotations

import warnings

import numpy as np

#: Index of the pelvis and the neck in the ``mpi_inf_3dhp_28`` layout.
PELVIS = 4
NECK = 5

#: Smallest mean torso length accepted, in the input's units (pixels for images).
MIN_TORSO_LENGTH = 1e-6


class DegenerateWindowError(ValueError):
    """A window whose torso length is zero, too small or unknown cannot be normalized."""


def window_center_and_scale(
    positions: np.ndarray, *, pelvis: int = PELVIS, neck: int = NECK
) -> tuple[np.ndarray, np.ndarray]:
    """The translation and scale of :func:`normalize_windows`, without applying them.

    Parameters
    ----------
    positions
        ``(..., F, J, 2)`` windows (any number of leading axes).
    pelvis, neck
        Joint indices of the pelvis and the neck.

    Returns
    -------
    center
        ``(..., 2)``: mean pelvis position over the window's frames.
    scale
        ``(...)``: mean neck–pelvis distance over the window's frames.

    Notes
    -----
    Frames whose pelvis (or neck) is missing (NaN) are left out of the means; a window
    with no such frame gives NaN.

    Examples
    --------
    >>> windows = np.zeros((3, 24, 28, 2))
    >>> windows[..., NECK, 1] = -2.0
    >>> center, scale = window_center_and_scale(windows)
    >>> center.shape, scale.tolist()
    ((3, 2), [2.0, 2.0, 2.0])
    """
    positions = np.asarray(positions, dtype=np.float64)
    if positions.ndim < 3 or positions.shape[-1] != 2:
        raise ValueError(f"expected windows of shape (..., F, J, 2), got {positions.shape}")
    pelvis_xy = positions[..., :, pelvis, :]
    torso = np.linalg.norm(positions[..., :, neck, :] - pelvis_xy, axis=-1)
    with warnings.catch_warnings():  # all-NaN windows give NaN, silently
        warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)
        center = np.nanmean(pelvis_xy, axis=-2)
        scale = np.nanmean(torso, axis=-1)
    return center, scale


def normalize_windows(
    positions: np.ndarray,
    *,
    pelvis: int = PELVIS,
    neck: int = NECK,
    min_scale: float = MIN_TORSO_LENGTH,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Translate each window to its mean pelvis and divide by its mean torso length.

    Parameters
    ----------
    positions
        ``(..., F, 28, 2)`` windows in image coordinates; NaN marks missing joints.
    pelvis, neck
        Joint indices of the pelvis and the neck (``mpi_inf_3dhp_28`` by default).
    min_scale
        Windows whose mean torso length is below this (or not finite) are rejected.

    Returns
    -------
    normalized
        ``(..., F, 28, 2)``, same dtype family as the input (float32 stays float32).
    center
        ``(..., 2)``: the mean pelvis position that was subtracted.
    scale
        ``(...)``: the mean torso length that was divided by.

    Raises
    ------
    DegenerateWindowError
        If a window's torso length is zero, below ``min_scale`` or unknown; the message
        gives the first such window's index. Drop such windows first with
        :func:`valid_windows`.

    Notes
    -----
    NaN positions stay NaN; they are left out of the center and scale (see
    :func:`window_center_and_scale`).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> windows = rng.normal(size=(5, 24, 28, 2)) * 100 + 500
    >>> normalized, center, scale = normalize_windows(windows)
    >>> np.allclose(normalized[..., PELVIS, :].mean(axis=-2), 0)
    True
    >>> torso = np.linalg.norm(normalized[..., NECK, :] - normalized[..., PELVIS, :], axis=-1)
    >>> np.allclose(torso.mean(axis=-1), 1)
    True
    >>> np.allclose(denormalize_windows(normalized, center, scale), windows)
    True
    """
    array = np.asarray(positions)
    dtype = array.dtype if np.issubdtype(array.dtype, np.floating) else np.float64
    center, scale = window_center_and_scale(array, pelvis=pelvis, neck=neck)
    bad = ~(np.isfinite(scale) & (scale >= min_scale)) | ~np.isfinite(center).all(axis=-1)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise DegenerateWindowError(
            f"{int(bad.sum())} window(s) have a mean torso (neck-pelvis) length below "
            f"{min_scale:g} or no observed pelvis/neck, first at index {first} "
            f"(torso length {float(scale[bad].flat[0])!r}); drop them with valid_windows()"
        )
    normalized = (array - center[..., None, None, :]) / scale[..., None, None, None]
    return normalized.astype(dtype, copy=False), center, scale


def denormalize_windows(
    normalized: np.ndarray, center: np.ndarray, scale: np.ndarray
) -> np.ndarray:
    """Inverse of :func:`normalize_windows`: ``normalized · scale + center``.

    Parameters
    ----------
    normalized
        ``(..., F, J, 2)`` normalized windows.
    center
        ``(..., 2)``.
    scale
        ``(...)``.

    Examples
    --------
    >>> denormalize_windows(np.ones((1, 2, 28, 2)), np.array([[10.0, 20.0]]), np.array([2.0]))[0, 0, 0]
    array([12., 22.])
    """
    normalized = np.asarray(normalized)
    center = np.asarray(center, dtype=np.float64)
    scale = np.asarray(scale, dtype=np.float64)
    out = normalized * scale[..., None, None, None] + center[..., None, None, :]
    if np.issubdtype(normalized.dtype, np.floating):
        out = out.astype(normalized.dtype, copy=False)
    return out


def valid_windows(
    positions: np.ndarray,
    *,
    pelvis: int = PELVIS,
    neck: int = NECK,
    min_scale: float = MIN_TORSO_LENGTH,
) -> np.ndarray:
    """``(...)`` boolean mask of the windows :func:`normalize_windows` accepts.

    Examples
    --------
    >>> windows = np.zeros((2, 24, 28, 2))
    >>> windows[1, :, NECK, 1] = 50.0
    >>> valid_windows(windows).tolist()
    [False, True]
    """
    center, scale = window_center_and_scale(positions, pelvis=pelvis, neck=neck)
    return np.isfinite(scale) & (scale >= min_scale) & np.isfinite(center).all(axis=-1)

