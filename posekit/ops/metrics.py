"""Evaluation metrics for pose sequences (numpy only).

Positions are arrays ``(..., T, J, D)``: frames, joints, coordinates (D = 2 for
PCKh), with optional leading batch dimensions. Missing values are NaN. A missing
ground-truth value excludes that entry; a missing prediction where the ground truth
exists counts as wrong (infinite error). See ``EVALUATION.md`` for the protocol.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

AUC_THRESHOLDS: NDArray[np.float64] = np.arange(101) / 100
"""The 101 PCKh thresholds 0, 0.01, ..., 1.00 (head units) averaged by :func:`auc`."""


def head_size(gt: ArrayLike, head_top_index: int, neck_index: int) -> NDArray[np.float64]:
    """Per-frame head size: the distance between the ground-truth head top and neck.

    Parameters
    ----------
    gt
        Ground-truth positions, shape ``(..., T, J, D)``.
    head_top_index, neck_index
        Joint indices of the head top and the neck.

    Returns
    -------
    numpy.ndarray
        Head sizes, shape ``(..., T)``; NaN where either joint is missing.

    Examples
    --------
    >>> gt = np.array([[[0.0, 0.0], [0.0, 3.0], [4.0, 0.0]]])
    >>> head_size(gt, head_top_index=2, neck_index=1)
    array([5.])
    """
    gt = np.asarray(gt, dtype=float)
    return np.linalg.norm(gt[..., head_top_index, :] - gt[..., neck_index, :], axis=-1)


def normalized_errors(pred: ArrayLike, gt: ArrayLike, head: ArrayLike) -> NDArray[np.float64]:
    """Per-joint position errors in head units.

    Parameters
    ----------
    pred, gt
        Predicted and ground-truth positions, shape ``(..., T, J, D)``.
    head
        Head sizes, shape ``(..., T)`` (see :func:`head_size`).

    Returns
    -------
    numpy.ndarray
        Errors, shape ``(..., T, J)``: ``|pred - gt| / head``; ``inf`` where the
        prediction is missing (non-finite); NaN (excluded from every metric) where
        the ground truth is missing or the head size is missing or not positive.

    Examples
    --------
    >>> gt = np.zeros((1, 3, 2))
    >>> pred = np.array([[[0.0, 1.0], [np.nan, 0.0], [3.0, 4.0]]])
    >>> gt[0, 2] = np.nan
    >>> normalized_errors(pred, gt, head=np.array([2.0]))
    array([[0.5, inf, nan]])
    """
    pred = np.asarray(pred, dtype=float)
    gt = np.asarray(gt, dtype=float)
    head = np.asarray(head, dtype=float)[..., None]
    with np.errstate(invalid="ignore", divide="ignore"):
        errors = np.linalg.norm(pred - gt, axis=-1) / head
    valid = np.isfinite(gt).all(axis=-1) & np.isfinite(head) & (head > 0)
    predicted = np.isfinite(pred).all(axis=-1)
    return np.where(valid, np.where(predicted, errors, np.inf), np.nan)


def pckh(errors: ArrayLike, thresholds: ArrayLike) -> NDArray[np.float64]:
    """Percentage of correct keypoints: the share of errors at or below each threshold.

    Parameters
    ----------
    errors
        Errors in head units, any shape (see :func:`normalized_errors`); NaN entries
        are excluded, ``inf`` ones count as wrong.
    thresholds
        Thresholds in head units, shape ``(K,)``.

    Returns
    -------
    numpy.ndarray
        PCKh per threshold, shape ``(K,)``, in [0, 1]; NaN if no entry is valid.

    Examples
    --------
    >>> pckh(np.array([0.05, 0.3, np.inf, np.nan]), [0.1, 0.5])
    array([0.33333333, 0.66666667])
    """
    values = np.asarray(errors, dtype=float)
    values = values[~np.isnan(values)]
    levels = np.asarray(thresholds, dtype=float)
    if values.size == 0:
        return np.full(levels.shape, np.nan)
    return np.mean(values[None, :] <= levels[:, None], axis=1)


def auc(errors: ArrayLike) -> float:
    """Area under the PCKh curve: the mean PCKh over :data:`AUC_THRESHOLDS`.

    Parameters
    ----------
    errors
        Errors in head units, any shape; NaN entries are excluded.

    Returns
    -------
    float
        The AUC in [0, 1]; NaN if no entry is valid.

    Examples
    --------
    >>> auc(np.array([0.0, np.inf]))
    0.5
    """
    return float(np.mean(pckh(errors, AUC_THRESHOLDS)))


def _mean_distance(
    pred: NDArray[np.float64], gt: NDArray[np.float64], mask: NDArray[np.bool_]
) -> float:
    """Mean Euclidean distance over the entries selected by ``mask`` and finite ``gt``."""
    keep = np.broadcast_to(mask, gt.shape[:-1]) & np.isfinite(gt).all(axis=-1)
    return float(np.mean(np.linalg.norm(pred - gt, axis=-1)[keep]))


def _mask(mask: ArrayLike | None) -> NDArray[np.bool_]:
    return np.asarray(True if mask is None else mask, dtype=bool)


def mpjpe(pred: ArrayLike, gt: ArrayLike, mask: ArrayLike | None = None) -> float:
    """Mean per-joint position error (in the positions' units).

    Parameters
    ----------
    pred, gt
        Predicted and ground-truth positions, shape ``(..., T, J, D)``.
    mask
        Entries to include, boolean, broadcastable to ``(..., T, J)``; None: all.
        Entries with missing ground truth are always excluded; a missing prediction
        among the included entries makes the result NaN.

    Returns
    -------
    float
        The mean Euclidean error; NaN if no entry is included.

    Examples
    --------
    >>> gt = np.zeros((2, 2, 2))
    >>> pred = gt + [3.0, 4.0]
    >>> mpjpe(pred, gt)
    5.0
    >>> mpjpe(pred, gt, mask=np.array([[True, False], [False, False]]))
    5.0
    """
    pred = np.asarray(pred, dtype=float)
    gt = np.asarray(gt, dtype=float)
    with np.errstate(invalid="ignore"):
        return _mean_distance(pred, gt, _mask(mask))


def mpjve(pred: ArrayLike, gt: ArrayLike, mask: ArrayLike | None = None) -> float:
    """Mean per-joint velocity error: MPJPE of the frame-to-frame differences.

    Parameters
    ----------
    pred, gt
        Predicted and ground-truth positions, shape ``(..., T, J, D)``, T >= 2.
    mask
        Entries to include, boolean, broadcastable to ``(..., T, J)``; None: all.
        A velocity is included where both of its frames are.

    Returns
    -------
    float
        The mean Euclidean error of the velocities; NaN if none is included.

    Examples
    --------
    >>> gt = np.cumsum(np.ones((4, 3, 2)), axis=0)
    >>> mpjve(gt + 7.0, gt)  # a constant offset has no velocity error
    0.0
    """
    pred = np.asarray(pred, dtype=float)
    gt = np.asarray(gt, dtype=float)
    mask = np.broadcast_to(_mask(mask), gt.shape[:-1])
    with np.errstate(invalid="ignore"):
        return _mean_distance(
            np.diff(pred, axis=-3), np.diff(gt, axis=-3), mask[..., 1:, :] & mask[..., :-1, :]
        )


def jitter(pred: ArrayLike, gt: ArrayLike) -> float:
    """Excess jitter: mean acceleration magnitude of ``pred`` minus that of ``gt``.

    The acceleration is the second difference along frames. Both means run over the
    same entries: those where both accelerations are finite.

    Parameters
    ----------
    pred, gt
        Predicted and ground-truth positions, shape ``(..., T, J, D)``, T >= 3.

    Returns
    -------
    float
        Positive when the prediction shakes more than the ground truth; NaN if no
        entry is finite.

    Examples
    --------
    >>> gt = np.zeros((4, 1, 2))
    >>> pred = gt.copy()
    >>> pred[1, 0, 0] = 1.0  # one spike: x = 0, 1, 0, 0; accelerations -2, 1
    >>> jitter(pred, gt)
    1.5
    >>> jitter(gt, gt)
    0.0
    """
    return excess_jitter(accelerations(pred), accelerations(gt))


def accelerations(positions: ArrayLike) -> NDArray[np.float64]:
    """Acceleration magnitudes: the norm of the second difference along frames.

    Parameters
    ----------
    positions
        Shape ``(..., T, J, D)``, T >= 3.

    Returns
    -------
    numpy.ndarray
        Shape ``(..., T - 2, J)``; NaN where a frame of the difference is missing.

    Examples
    --------
    >>> accelerations(np.array([[[0.0, 0.0]], [[1.0, 0.0]], [[0.0, 0.0]]]))
    array([[2.]])
    """
    return np.linalg.norm(np.diff(np.asarray(positions, dtype=float), n=2, axis=-3), axis=-1)


def excess_jitter(pred_acc: ArrayLike, gt_acc: ArrayLike) -> float:
    """Mean of ``pred_acc`` minus mean of ``gt_acc``, both over the entries where both
    are finite (see :func:`jitter`); NaN if there is none.

    Examples
    --------
    >>> excess_jitter([2.0, 1.0, np.nan], [0.0, 0.0, 5.0])
    1.5
    """
    pred_acc, gt_acc = np.asarray(pred_acc, dtype=float), np.asarray(gt_acc, dtype=float)
    keep = np.isfinite(pred_acc) & np.isfinite(gt_acc)
    if not keep.any():
        return float("nan")
    return float(np.mean(pred_acc[keep]) - np.mean(gt_acc[keep]))


def summarize(
    pred: ArrayLike,
    gt: ArrayLike,
    groups: Mapping[str, Sequence[int]],
    head_top_index: int,
    neck_index: int,
    thresholds: Sequence[float] = (0.1, 0.5, 1.0),
) -> dict[str, dict[str, float]]:
    """PCKh, AUC and mean error per joint group.

    Parameters
    ----------
    pred, gt
        Predicted and ground-truth 2D positions, shape ``(..., T, J, 2)``.
    groups
        Group name to joint indices (e.g. ``"all"``, ``"added"``, ``"input"``).
    head_top_index, neck_index
        Joint indices that define the per-frame head size (from ``gt``).
    thresholds
        PCKh thresholds to report, in head units.

    Returns
    -------
    dict
        For each group, its :func:`metric_row` (errors in head units).

    Examples
    --------
    >>> gt = np.zeros((1, 3, 2))
    >>> gt[0, 1] = [0.0, 1.0]
    >>> pred = gt + [0.2, 0.0]
    >>> summarize(pred, gt, {"all": [0, 1, 2], "head": [0, 1]}, 1, 0)["head"]
    {'pckh@0.1': 0.0, 'pckh@0.5': 1.0, 'pckh@1': 1.0, 'auc': 0.801980198019802, 'mean_error': 0.2, 'missing': 0.0, 'count': 2}
    """
    errors = normalized_errors(pred, gt, head_size(gt, head_top_index, neck_index))
    return {name: metric_row(errors[..., list(joints)], thresholds) for name, joints in groups.items()}


def metric_row(errors: ArrayLike, thresholds: Sequence[float]) -> dict[str, float]:
    """The metrics of a set of normalized errors (any shape; NaN entries are excluded,
    infinite ones are missing predictions).

    Returns
    -------
    dict
        ``"pckh@<t>"`` per threshold (``t`` formatted with ``:g``), ``"auc"``,
        ``"mean_error"`` (over the finite errors: the predicted entries),
        ``"missing"`` (the share of missing predictions) and ``"count"`` (the entries).

    Examples
    --------
    >>> metric_row(np.array([0.0, 0.2, np.inf, np.nan]), [0.5])
    {'pckh@0.5': 0.6666666666666666, 'auc': 0.6006600660066006, 'mean_error': 0.1, 'missing': 0.3333333333333333, 'count': 3}
    """
    errors = np.asarray(errors, dtype=float)
    valid = errors[~np.isnan(errors)]
    finite = valid[np.isfinite(valid)]
    row: dict[str, float] = {
        f"pckh@{t:g}": float(p) for t, p in zip(thresholds, pckh(valid, thresholds), strict=True)
    }
    row["auc"] = auc(valid)
    row["mean_error"] = float(np.mean(finite)) if finite.size else float("nan")
    row["missing"] = float(np.mean(np.isinf(valid))) if valid.size else float("nan")
    row["count"] = int(valid.size)
    return row
