"""Attach generated joints to the measured ones (**ours**, not in the JUMPS paper).

The generator reproduces a pose only approximately: after alignment, its wrist may sit
a few centimetres from the measured wrist, and the generated hand then sits as far
from where the hand really is. When the measured joints are kept, each generated joint
is shifted, frame by frame, by the residual ``measured − generated`` of the measured
joints near it in the skeleton: the nearest one (fewest bones; the mean residual when
several are equally near), or, with a ``spread``, every measured joint weighted by
``exp(−extra bones / spread)``, so the residual of one joint counts less than several
around it. The hand follows the measured wrist, the toes the measured ankle, the head
the measured shoulders. On the CMU val split this raised the added-joint AUC of the
shipped model by about 0.04, and the spread of the ``jumps`` stage's default by 0.003
more (see the model card).
"""

from __future__ import annotations

import numpy as np


def attach_to_observed(
    generated: np.ndarray,
    measured: np.ndarray,
    observed: np.ndarray,
    hops: np.ndarray,
    smoothing: float = 0.0,
    spread: float = 0.0,
    chunk: int = 4096,
) -> np.ndarray:
    """Shift every joint by the residuals of the observed joints near it.

    Parameters
    ----------
    generated
        ``(T, J, D)`` generated positions (finite).
    measured
        ``(T, J, D)`` measured positions; read only where ``observed``.
    observed
        ``(T, J)`` bool.
    hops
        ``(J, J)`` bone counts between joints
        (:meth:`posekit.core.skeleton.Skeleton.hop_distances`).
    smoothing
        Standard deviation (frames) of a Gaussian that smooths each joint's residual
        over time before it is passed on (noisy detections then do not shake the joints
        attached to them); 0: no smoothing. Gaps are bridged by the smoothing too.
    spread
        Bones over which residuals spread: a joint not observed in a frame moves by the
        mean of the observed joints' residuals, each weighted by
        ``exp(−(hops − nearest hops) / spread)``; 0: the nearest observed joint(s) only.
    chunk
        Frames worked on at a time (with a margin as wide as the smoothing's kernel, so
        the result is the same): the temporaries stay small however long the sequence.

    Returns
    -------
    numpy.ndarray
        ``(T, J, D)``, of ``generated``'s dtype: without smoothing, observed joints land
        exactly on their measured values (to that precision); the others move with their
        nearest observed joints (an observed joint, without smoothing, by its own
        residual). Frames with no observed joint are returned unchanged.

    Examples
    --------
    A chain 0–1–2 with joint 0 observed: the whole chain moves by joint 0's residual.

    >>> hops = np.array([[0, 1, 2], [1, 0, 1], [2, 1, 0]])
    >>> generated = np.zeros((1, 3, 2))
    >>> measured = np.full((1, 3, 2), np.nan); measured[0, 0] = [1.0, 2.0]
    >>> attach_to_observed(generated, measured, np.array([[True, False, False]]), hops)[0]
    array([[1., 2.],
           [1., 2.],
           [1., 2.]])

    With joints 0 and 1 observed and a spread, joint 2 moves mostly with joint 1, its
    nearest, and also with joint 0, one bone further, weighted ``exp(−1 / spread)``:

    >>> measured[0, 1] = [3.0, 2.0]
    >>> both = np.array([[True, True, False]])
    >>> attach_to_observed(generated, measured, both, hops, spread=1.0)[0, 2].round(3)
    array([2.462, 2.   ])
    """
    margin = int(4.0 * smoothing + 0.5) if smoothing > 0 else 0  # gaussian_filter1d's radius
    shifted = np.empty_like(generated)  # the generated values' precision (float32 from JUMPS)
    for start in range(0, len(generated), chunk):
        low, high = max(start - margin, 0), min(start + chunk + margin, len(generated))
        part = slice(low, high)
        done = _attach(generated[part], measured[part], observed[part], hops, smoothing, spread)
        shifted[start : start + chunk] = done[start - low : start - low + chunk]
    return shifted


def _attach(
    generated: np.ndarray,
    measured: np.ndarray,
    observed: np.ndarray,
    hops: np.ndarray,
    smoothing: float,
    spread: float,
) -> np.ndarray:
    """:func:`attach_to_observed` on frames taken together."""
    residual = np.where(observed[..., None], np.nan_to_num(measured) - generated, 0.0)
    if smoothing > 0:
        from scipy.ndimage import gaussian_filter1d

        # Normalised convolution: the smoothed residual over the smoothed observation mask.
        weight = gaussian_filter1d(observed.astype(float), smoothing, axis=0, mode="nearest")
        total = gaussian_filter1d(residual, smoothing, axis=0, mode="nearest")
        observed = weight > 1e-3
        residual = np.where(observed[..., None], total / np.maximum(weight, 1e-3)[..., None], 0.0)
    # Frames share few observation patterns: the weights are worked out once per
    # pattern (memory and time grow with the patterns, not with the frames).
    patterns, inverse = np.unique(observed, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    shifted = generated.astype(np.result_type(generated, residual), copy=True)
    order = np.argsort(inverse, kind="stable")
    groups = np.split(order, np.cumsum(np.bincount(inverse, minlength=len(patterns)))[:-1])
    for weights, frames in zip(_attachment_weights(patterns, hops, spread), groups, strict=True):
        shifted[frames] += weights @ residual[frames]
    return shifted


def _attachment_weights(patterns: np.ndarray, hops: np.ndarray, spread: float) -> np.ndarray:
    """``(P, J, J)``: row ``k`` of pattern ``p`` spreads joint ``k``'s shift over the
    observed joints: its own when it is observed; else the nearest ones evenly
    (``spread`` 0) or every one by ``exp(−extra hops / spread)``; all zero when nothing
    is observed."""
    distance = np.where(patterns[:, None, :], hops[None], np.inf)
    nearest = distance.min(axis=-1, keepdims=True)
    extra = distance - np.where(np.isfinite(nearest), nearest, 0.0)  # inf where unobserved
    weights = np.exp(-extra / spread) if spread > 0 else (extra == 0).astype(float)
    own = np.eye(len(hops), dtype=bool)[None] & patterns[:, :, None]
    weights = np.where(patterns[:, :, None], own, weights)
    return weights / np.maximum(weights.sum(axis=-1, keepdims=True), 1e-12)
