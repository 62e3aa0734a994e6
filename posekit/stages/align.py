"""The ``align`` stage: similarity (Procrustes) alignment of poses, recorded so it can be
undone exactly.

``align`` fits, for each frame or each window of frames and each individual, the
rotation, scale and translation that best map the observed joints onto a target pose,
and applies it. The transforms are stored in the dataset, so ``align: {invert: true}``
later (after stages that keep the frames, e.g. inpainting) puts the poses back where
they were.

Variables it adds (``space_in`` indexes the input coordinate of the rotation)::

    align_rotation     (time, space, space_in, individual)
    align_scale        (time, individual)
    align_translation  (time, space, individual)

An aligned point is ``scale * rotation @ point + translation``. Aligning an aligned
sequence composes the transforms, so one ``invert`` undoes both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import attrs
import numpy as np

from posekit.core.errors import PoseSequenceError
from posekit.core.sequence import PoseSequence
from posekit.ops.procrustes import SimilarityTransform, fit_similarity
from posekit.plugins.hookspecs import hookimpl
from posekit.plugins.registry import Registry

ROTATION, SCALE, TRANSLATION = "align_rotation", "align_scale", "align_translation"
_MEAN_ITERATIONS = 20


@attrs.frozen
class Align:
    """Align poses to a target pose by similarity transforms, or undo an alignment.

    Parameters
    ----------
    per
        ``"frame"``: one transform per frame; ``"window"``: one per window of
        ``window`` consecutive frames (fitted on all their joints together), which
        keeps the motion within a window.
    window
        Frames per window when ``per`` is ``"window"`` (the last may be shorter).
    reference
        A netCDF pose file whose mean pose (of its first individual) is the target;
        its keypoints must include the sequence's. Default: each individual's own
        mean pose over the sequence.
    scale
        Fit a uniform scale too (else rotation and translation only).
    invert
        Undo the alignment recorded in the sequence (the other parameters are then
        ignored).

    Notes
    -----
    The *mean pose* is the generalized Procrustes mean: frames are aligned to a
    current mean and averaged, joint by joint over the frames where the joint is
    observed, until it no longer changes. It is kept in the position, orientation and
    size of the first frame with the most observed joints, so a one-frame reference
    is its own mean. Missing joints (NaN) take no part in a fit and stay NaN; a frame
    with fewer than two observed joints is only translated (see
    :func:`posekit.ops.procrustes.fit_similarity`); where the best scale is not positive
    the frame is fitted without scale. An individual without two observed joints is
    left as it is.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> seq = PoseSequence.from_arrays(rng.normal(size=(6, 3, 17, 1)), skeleton="coco_17")
    >>> aligned = Align()(seq)
    >>> back = Align(invert=True)(aligned)
    >>> bool(np.allclose(back.positions(), seq.positions()))
    True
    """

    per: Literal["frame", "window"] = "frame"
    window: int = attrs.field(default=24)
    reference: Path | None = None
    scale: bool = True
    invert: bool = False

    @window.validator
    def _check_window(self, attribute: attrs.Attribute, value: int) -> None:
        if value < 1:
            raise ValueError(f"window must be at least 1 frame, got {value}")

    def check(self) -> None:
        """Read the reference now (a pipeline calls this before any work), so a missing
        or malformed reference file is reported up front."""
        if self.reference is not None:
            PoseSequence.read_netcdf(self.reference)

    def __call__(self, sequence: PoseSequence) -> PoseSequence:
        if self.invert:
            return _undo(sequence)
        positions = sequence.positions()
        observed = sequence.observed()
        targets = self._targets(sequence, positions, observed)
        transform = self._fit(positions, observed, targets)
        aligned = transform.apply(positions)
        if ROTATION in sequence.dataset:
            transform = _compose(transform, _stored(sequence))
        return _store(sequence.replace(position=aligned), transform)

    def _targets(
        self, sequence: PoseSequence, positions: np.ndarray, observed: np.ndarray
    ) -> np.ndarray:
        """The target pose of each individual, ``(individual, keypoint, space)``."""
        if self.reference is None:
            return np.stack(
                [mean_pose(p, o, self.scale) for p, o in zip(positions, observed, strict=True)]
            )
        reference = PoseSequence.read_netcdf(self.reference)
        missing = [k for k in sequence.keypoints if k not in reference.keypoints]
        if missing or reference.n_space != sequence.n_space:
            raise PoseSequenceError(
                f"reference {self.reference} does not fit the sequence: it has "
                f"{reference.n_space}D keypoints {', '.join(reference.keypoints)}"
            )
        reference = reference.select(keypoints=sequence.keypoints)
        target = mean_pose(reference.positions()[0], reference.observed()[0], self.scale)
        if np.isfinite(target).all(axis=-1).sum() < 2:
            raise PoseSequenceError(
                f"reference {self.reference} has fewer than two observed joints"
            )
        return np.broadcast_to(target, (len(sequence.individuals), *target.shape))

    def _fit(
        self, positions: np.ndarray, observed: np.ndarray, targets: np.ndarray
    ) -> SimilarityTransform:
        """One transform per individual and frame, ``(individual, time, ...)``."""
        n_ind, n_time, n_kp, n_space = positions.shape
        usable = observed & np.isfinite(targets).all(axis=-1)[:, None, :]
        target = np.broadcast_to(targets[:, None], positions.shape)
        if self.per == "frame":
            transform = _fit_positive(positions, target, usable, self.scale)
        else:
            parts = []
            for start in range(0, n_time, self.window):
                frames = slice(start, start + self.window)
                length = len(range(n_time)[frames])
                fitted = _fit_positive(
                    positions[:, frames].reshape(n_ind, length * n_kp, n_space),
                    target[:, frames].reshape(n_ind, length * n_kp, n_space),
                    usable[:, frames].reshape(n_ind, length * n_kp),
                    self.scale,
                )
                parts.append(_repeat(fitted, length))
            transform = SimilarityTransform(
                *(np.concatenate(arrays, axis=1) for arrays in zip(*parts, strict=True))
            )
        # An individual without a usable target is left as it is.
        lost = np.isfinite(targets).all(axis=-1).sum(axis=-1) < 2
        return _where(lost[:, None], _identity(n_ind, n_time, n_space), transform)


def mean_pose(points: np.ndarray, observed: np.ndarray, with_scale: bool = True) -> np.ndarray:
    """The generalized Procrustes mean of a sequence of poses.

    Parameters
    ----------
    points
        ``(time, keypoint, space)``; NaN where missing.
    observed
        ``(time, keypoint)``: True where the joint is observed.
    with_scale
        Let the fits scale the frames too.

    Returns
    -------
    numpy.ndarray
        ``(keypoint, space)`` in the position, orientation and size of the first
        frame with the most observed joints; NaN for joints never observed. All NaN
        if no frame has two observed joints.

    Examples
    --------
    >>> square = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    >>> turned = square @ np.array([[0.0, 1.0], [-1.0, 0.0]]) + 5.0
    >>> mean = mean_pose(np.stack([square, turned]), np.ones((2, 4), bool))
    >>> bool(np.allclose(mean, square))
    True
    """
    counts = observed.sum(axis=-1)
    if counts.max(initial=0) < 2:
        return np.full(points.shape[1:], np.nan)
    first = int(np.argmax(counts))
    anchor = np.where(observed[first, :, None], points[first], np.nan)
    mean = anchor
    for _ in range(_MEAN_ITERATIONS):
        usable = observed & np.isfinite(mean).all(axis=-1)
        aligned = fit_similarity(points, mean[None], usable, with_scale).apply(
            np.where(observed[..., None], points, 0.0)
        )
        weight = observed[..., None]
        total = np.where(weight, aligned, 0.0).sum(axis=0)
        count = weight.sum(axis=0)
        average = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        # Keep the mean in the anchor frame's position, orientation and size.
        known = np.isfinite(average).all(axis=-1) & observed[first]
        average = fit_similarity(average, anchor, known, with_scale).apply(average)
        change = np.nanmax(np.abs(average - mean), initial=0.0)
        mean = average
        if change <= 1e-12 * (1.0 + np.nanmax(np.abs(anchor))):
            break
    return mean


def _fit_positive(
    source: np.ndarray, target: np.ndarray, mask: np.ndarray, with_scale: bool
) -> SimilarityTransform:
    """fit_similarity, refitted without scale where the best scale is not positive."""
    fitted = fit_similarity(source, target, mask, with_scale)
    bad = ~(fitted.scale > 1e-12)
    if not bad.any():
        return fitted
    return _where(bad, fit_similarity(source, target, mask, with_scale=False), fitted)


def _where(
    condition: np.ndarray, chosen: SimilarityTransform, other: SimilarityTransform
) -> SimilarityTransform:
    """Elementwise choice between two batches of transforms of equal batch shape."""
    return SimilarityTransform(
        np.where(condition[..., None, None], chosen.rotation, other.rotation),
        np.where(condition, chosen.scale, other.scale),
        np.where(condition[..., None], chosen.translation, other.translation),
    )


def _identity(n_ind: int, n_time: int, n_space: int) -> SimilarityTransform:
    return SimilarityTransform(
        np.broadcast_to(np.eye(n_space), (n_ind, n_time, n_space, n_space)),
        np.ones((n_ind, n_time)),
        np.zeros((n_ind, n_time, n_space)),
    )


def _repeat(transform: SimilarityTransform, length: int) -> tuple[np.ndarray, ...]:
    """A per-window transform ``(individual, ...)`` repeated over its frames."""
    return tuple(
        np.repeat(np.expand_dims(part, 1), length, axis=1)
        for part in (transform.rotation, transform.scale, transform.translation)
    )


def _compose(second: SimilarityTransform, first: SimilarityTransform) -> SimilarityTransform:
    """The transform ``second ∘ first``."""
    rotation = second.rotation @ first.rotation
    translation = (
        second.scale[..., None] * (second.rotation @ first.translation[..., None])[..., 0]
        + second.translation
    )
    return SimilarityTransform(rotation, second.scale * first.scale, translation)


def _store(sequence: PoseSequence, transform: SimilarityTransform) -> PoseSequence:
    """The sequence with the transforms as dataset variables."""
    dataset = sequence.dataset.copy()
    dataset[ROTATION] = (("individual", "time", "space", "space_in"), transform.rotation)
    dataset[SCALE] = (("individual", "time"), transform.scale)
    dataset[TRANSLATION] = (("individual", "time", "space"), transform.translation)
    dataset[ROTATION] = dataset[ROTATION].transpose("time", "space", "space_in", "individual")
    dataset[SCALE] = dataset[SCALE].transpose("time", "individual")
    dataset[TRANSLATION] = dataset[TRANSLATION].transpose("time", "space", "individual")
    return PoseSequence(dataset)


def _stored(sequence: PoseSequence) -> SimilarityTransform:
    """The transforms recorded in a sequence, ``(individual, time, ...)``."""
    dataset = sequence.dataset
    return SimilarityTransform(
        dataset[ROTATION].transpose("individual", "time", "space", "space_in").values,
        dataset[SCALE].transpose("individual", "time").values,
        dataset[TRANSLATION].transpose("individual", "time", "space").values,
    )


def _undo(sequence: PoseSequence) -> PoseSequence:
    """Apply the inverse of the recorded alignment and drop the record."""
    if ROTATION not in sequence.dataset:
        raise PoseSequenceError(
            "nothing to invert: the sequence has no 'align_rotation' variable "
            "(was it aligned by the 'align' stage?)"
        )
    restored = _stored(sequence).inverse().apply(sequence.positions())
    dataset = sequence.replace(position=restored).dataset.drop_vars([ROTATION, SCALE, TRANSLATION])
    return PoseSequence(dataset)


@hookimpl
def posekit_register_stages(registry: Registry) -> None:
    """Register the ``align`` stage."""
    registry.add_stage("align", Align)
