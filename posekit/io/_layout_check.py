"""Does a file's geometry fit the keypoint layout it is read with?

Two layouts can have the same number of keypoints (OpenPose's BODY_25 and BODY_25B
both have 25; index 1 is the neck in one and the left eye in the other), so the count
alone cannot tell them apart. The skeleton trees can: in the right layout every bone
joins two points that lie close together on the body, in a wrong one many bones cross
it. :func:`bone_score` measures that, and :func:`fitting_layout` compares the layout
chosen with every registered skeleton of the same size.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import attrs
import numpy as np

from posekit.core.skeleton import Skeleton

#: Another layout fits better when its bones are this much shorter (median ratio).
BETTER_BY = 0.7
#: Records (people in frames) with at least this many observed keypoints are compared.
MIN_OBSERVED = 5


def bone_score(points: np.ndarray, skeleton: Skeleton) -> float:
    """Median bone length of ``skeleton``'s tree over the records, relative to each
    record's size (the diagonal of the box around its observed keypoints).

    Parameters
    ----------
    points
        ``(records, keypoints, space)``, NaN where missing; the keypoints in
        ``skeleton``'s order (more columns than joints are ignored).
    skeleton
        The layout to measure.

    Returns
    -------
    float
        Smaller is a better fit; NaN when no record has :data:`MIN_OBSERVED`
        observed keypoints.

    Examples
    --------
    >>> from posekit.plugins.registry import get_skeleton
    >>> line = np.stack([np.zeros(17), np.arange(17.0)], axis=-1)[None]  # 17 points, 1 apart
    >>> round(bone_score(line, get_skeleton("coco_17")), 2)  # bones 2.9 long on average / 16
    0.18
    """
    points = points[:, : skeleton.n_joints]
    observed = np.isfinite(points).all(axis=-1)
    usable = observed.sum(axis=1) >= MIN_OBSERVED
    if not usable.any():
        return float("nan")
    points, observed = points[usable], observed[usable]
    filled = np.where(observed[..., None], points, np.nan)
    size = np.linalg.norm(np.nanmax(filled, axis=1) - np.nanmin(filled, axis=1), axis=-1)
    children = np.array([c for c, _ in skeleton.bones])
    parents = np.array([p for _, p in skeleton.bones])
    length = np.linalg.norm(filled[:, children] - filled[:, parents], axis=-1)
    relative = length / np.where(size > 0, size, np.nan)[:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # records without a bone
        per_record = np.nanmean(relative, axis=1)
    finite = per_record[np.isfinite(per_record)]
    return float(np.median(finite)) if finite.size else float("nan")


@attrs.frozen
class LayoutFit:
    """The result of comparing a layout with the others of its size.

    ``better`` is the best-fitting other layout (None when the chosen one fits as
    well as any), with the scores of both.
    """

    chosen: str
    better: str | None
    chosen_score: float
    better_score: float

    def message(self, path: Path, named: bool) -> str:
        """What to tell the user (``named``: the layout was the user's choice)."""
        ratio = (
            f"{self.chosen!r}'s bones are {self.chosen_score / self.better_score:.1f}x as "
            f"long as {self.better!r}'s on these points"
        )
        if named:
            return (
                f"{path}: the keypoints do not look like {self.chosen!r} ({ratio}); check "
                "the reader parameter 'skeleton'"
            )
        return (
            f"{path}: the keypoints look like {self.better!r}, not {self.chosen!r} "
            f"({ratio}): read as {self.better!r}; pass the reader parameter 'skeleton' "
            "to choose"
        )


def fitting_layout(points: np.ndarray, chosen: Skeleton, others: list[Skeleton]) -> LayoutFit:
    """Compare ``chosen`` with other layouts of as many joints on the same points.

    Examples
    --------
    >>> from posekit.plugins.registry import get_skeleton
    >>> body_25, body_25b = get_skeleton("body_25"), get_skeleton("body_25b")
    >>> points = np.random.default_rng(0).normal(size=(4, 25, 2))
    >>> fitting_layout(points, body_25, [body_25b]).chosen
    'body_25'
    """
    chosen_score = bone_score(points, chosen)
    best, best_score = None, float("nan")
    for other in others:
        if other.name == chosen.name or other.n_joints != chosen.n_joints:
            continue
        score = bone_score(points, other)
        if np.isfinite(score) and not best_score <= score:
            best, best_score = other.name, score
    if best is None or not (np.isfinite(chosen_score) and best_score < BETTER_BY * chosen_score):
        return LayoutFit(chosen.name, None, chosen_score, best_score)
    return LayoutFit(chosen.name, best, chosen_score, best_score)


def same_size_skeletons(n_joints: int) -> list[Skeleton]:
    """Every registered skeleton with ``n_joints`` joints (candidates for a file);
    broken skeleton files are skipped (``posekit skeletons`` reports them)."""
    from posekit.core.errors import PosekitError
    from posekit.plugins.registry import get_registry

    registry = get_registry()
    found = []
    for name in registry.skeleton_files:
        try:
            skeleton = registry.skeleton(name)
        except PosekitError:
            continue
        if skeleton.n_joints == n_joints:
            found.append(skeleton)
    return found
