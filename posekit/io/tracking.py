"""Individuals of files without track ids: detections linked into tracks over time.

AlphaPose without ``--pose_track``, COCO results and OpenPose write the people of each
frame, not people over time. :class:`Tracker` links them: frame by frame, the live
tracks and the new detections are paired by :func:`scipy.optimize.linear_sum_assignment`
on the mean keypoint distance between each track's predicted pose (its last pose moved
by its velocity) and the detection, in units of the person's size (the diagonal of the
keypoints' bounding box); pairs sharing fewer than :data:`MIN_SHARED` keypoints are
compared by the overlap (IoU) of their keypoints' boxes instead. A pair farther than
``max_distance`` (or with an overlap under :data:`MIN_OVERLAP`) is never linked; a
track missing for more than ``max_gap`` frames ends; a detection left over starts a
new track.

:func:`individuals` decides who each record is: the file's own ids when every record
has one and they are distinct within each frame, else ids from the tracker (``tracking:
auto``), from the rank in the frame (``rank``, the behaviour before posekit tracked),
or an error (``none``). Ids posekit assigned are said in the sequence's provenance log
(stage ``individuals``) and in a logging message. :func:`tracked_sequence` is what the
readers call: it masks the missing keypoints, finds the individuals and assembles the
sequence (:func:`posekit.io._records.assemble`).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import attrs
import numpy as np

from posekit.core.errors import PoseFileError
from posekit.core.presence import DEFAULT_MAX_GAP
from posekit.core.sequence import PoseSequence
from posekit.io._records import assemble, individuals_by_rank, individuals_from_tracks

logger = logging.getLogger(__name__)

#: How readers name individuals when the file has no usable track ids.
Tracking = Literal["auto", "none", "rank"]
#: The values of :data:`Tracking`.
TRACKING_MODES: tuple[str, ...] = ("auto", "none", "rank")
#: Default farthest link, in person sizes (mean keypoint distance / box diagonal).
DEFAULT_MAX_DISTANCE = 0.5
#: Fewer shared keypoints than this: compare boxes instead of keypoints.
MIN_SHARED = 3
#: Smallest box overlap (IoU) linked when keypoints cannot be compared.
MIN_OVERLAP = 0.1


@attrs.frozen
class Tracker:
    """Link per-frame detections into tracks (see the module docstring).

    Parameters
    ----------
    max_gap
        Frames a track may be missing and still continue; after a longer absence the
        person gets a new track.
    max_distance
        Farthest link: mean keypoint distance from the track's predicted pose, in
        person sizes (the diagonal of the keypoints' bounding box).

    Examples
    --------
    Two people crossing: one walks right, the other left, and they meet at frame 2.

    >>> frames = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    >>> x = np.array([0.0, 8.0, 2.0, 6.0, 4.0, 4.0, 6.0, 2.0])
    >>> body = np.array([[0.0, 0.0], [0.0, 4.0], [1.0, 8.0]])  # three keypoints
    >>> points = body[None] + np.stack([x, np.zeros(8)], axis=-1)[:, None]
    >>> Tracker().link(frames, points).tolist()
    [0, 1, 0, 1, 0, 1, 0, 1]
    """

    max_gap: int = attrs.field(default=DEFAULT_MAX_GAP, validator=attrs.validators.ge(0))
    max_distance: float = attrs.field(
        default=DEFAULT_MAX_DISTANCE, validator=attrs.validators.gt(0)
    )

    def link(
        self, frames: np.ndarray, points: np.ndarray, scores: np.ndarray | None = None
    ) -> np.ndarray:
        """The track (0, 1, … in order of first appearance) of every detection.

        Parameters
        ----------
        frames
            ``(n,)`` frame of each detection.
        points
            ``(n, K, D)`` keypoints; NaN where missing.
        scores
            ``(n,)`` detection scores: within a frame, higher scores are matched and
            numbered first (default: the order of the records).
        """
        from scipy.optimize import linear_sum_assignment

        n = len(frames)
        points = np.asarray(points, dtype=np.float64)
        valid = np.isfinite(points).all(axis=-1)
        secondary = np.arange(n) if scores is None else -np.nan_to_num(scores, nan=-np.inf)
        order = np.lexsort((np.arange(n), secondary, frames))
        starts = np.flatnonzero(np.r_[True, np.diff(frames[order]) != 0, True])
        track_of = np.full(n, -1, dtype=np.int64)
        tracks: list[_Track] = []
        for begin, end in itertools.pairwise(starts):
            found = order[begin:end]
            frame = int(frames[found[0]])
            live = [t for t in tracks if frame - t.frame - 1 <= self.max_gap]
            matched: dict[int, _Track] = {}
            if live:
                cost = self._cost(live, frame, points[found], valid[found])
                rows, cols = linear_sum_assignment(np.where(np.isfinite(cost), cost, 1e9))
                matched = {c: live[r] for r, c in zip(rows, cols, strict=True)
                           if np.isfinite(cost[r, c])}  # fmt: skip
            for column, detection in enumerate(found):
                track = matched.get(column)
                if track is None:
                    track = _Track.start(len(tracks), frame, points[detection], valid[detection])
                    tracks.append(track)
                else:
                    track.update(frame, points[detection], valid[detection])
                track_of[detection] = track.number
        return track_of

    def _cost(
        self, live: list[_Track], frame: int, points: np.ndarray, valid: np.ndarray
    ) -> np.ndarray:
        """``(tracks, detections)`` cost: distance in person sizes, inf when not linkable."""
        predicted = np.stack([t.predicted(frame) for t in live])  # (A, K, D)
        seen = np.stack([t.valid for t in live])  # (A, K)
        shared = seen[:, None] & valid[None]  # (A, B, K)
        n_shared = shared.sum(axis=-1)
        with np.errstate(invalid="ignore"):
            gaps = np.linalg.norm(predicted[:, None] - points[None], axis=-1)  # (A, B, K)
        mean_gap = np.where(shared, gaps, 0.0).sum(axis=-1) / np.maximum(n_shared, 1)
        track_size = np.array([t.size for t in live])
        size = np.maximum(track_size[:, None], _diagonal(points, valid)[None])
        with np.errstate(invalid="ignore", divide="ignore"):
            distance = np.where(size > 0, mean_gap / size, np.where(mean_gap == 0, 0.0, np.inf))
        distance = np.where(distance <= self.max_distance, distance, np.inf)
        overlap = _iou(_boxes(predicted, seen)[:, None], _boxes(points, valid)[None])
        by_box = np.where(overlap >= MIN_OVERLAP, self.max_distance * (1.0 - overlap), np.inf)
        return np.where(n_shared >= min(MIN_SHARED, points.shape[1]), distance, by_box)


@attrs.define(eq=False)
class _Track:
    """A track's last pose, where it was seen, its velocity and size."""

    number: int
    frame: int
    points: np.ndarray
    valid: np.ndarray
    velocity: np.ndarray
    size: float

    @classmethod
    def start(cls, number: int, frame: int, points: np.ndarray, valid: np.ndarray) -> _Track:
        """A new track at a detection: no velocity yet."""
        return cls(number, frame, points, valid, np.zeros(points.shape[-1]), _size(points, valid))

    def predicted(self, frame: int) -> np.ndarray:
        """The last pose moved by the velocity to ``frame``."""
        return self.points + self.velocity * (frame - self.frame)

    def update(self, frame: int, points: np.ndarray, valid: np.ndarray) -> None:
        """Continue the track with a detection."""
        velocity = np.zeros(points.shape[-1])
        shared = self.valid & valid
        if shared.any():
            moved = points[shared].mean(axis=0) - self.points[shared].mean(axis=0)
            velocity = moved / (frame - self.frame)
        self.size = _size(points, valid, self.size)
        self.frame, self.points, self.valid, self.velocity = frame, points, valid, velocity


def _size(points: np.ndarray, valid: np.ndarray, previous: float = 0.0) -> float:
    """A detection's size (its box diagonal), or ``previous`` when it has none."""
    diagonal = float(_diagonal(points[None], valid[None])[0])
    return diagonal if diagonal > 0 else previous


def _boxes(points: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``(n, 2, D)`` corners of the valid keypoints' boxes (NaN when none is valid)."""
    mask = valid[..., None]
    with np.errstate(invalid="ignore"):
        low = np.min(points, axis=-2, where=mask, initial=np.inf)
        high = np.max(points, axis=-2, where=mask, initial=-np.inf)
    empty = ~valid.any(axis=-1)
    low[empty], high[empty] = np.nan, np.nan
    return np.stack([low, high], axis=-2)


def _diagonal(points: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``(n,)`` diagonal of the valid keypoints' boxes; 0 when fewer than two."""
    box = _boxes(points, valid)
    return np.nan_to_num(np.linalg.norm(box[..., 1, :] - box[..., 0, :], axis=-1))


def _iou(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Intersection over union of boxes ``(..., 2, D)``; 0 for empty or flat boxes."""
    low = np.maximum(first[..., 0, :], second[..., 0, :])
    high = np.minimum(first[..., 1, :], second[..., 1, :])
    with np.errstate(invalid="ignore"):
        inter = np.prod(np.clip(high - low, 0.0, None), axis=-1)
        union = (
            np.prod(first[..., 1, :] - first[..., 0, :], axis=-1)
            + np.prod(second[..., 1, :] - second[..., 0, :], axis=-1)
            - inter
        )
        overlap = np.where(union > 0, inter / union, 0.0)
    return np.nan_to_num(overlap)


@attrs.frozen
class Individuals:
    """Which individual each record is, and how the ids were found.

    ``assigned_by`` is None when the ids are the file's own, else ``"tracker"`` or
    ``"rank"`` with the settings in ``settings``.
    """

    slots: np.ndarray
    names: list[str]
    assigned_by: str | None = None
    settings: dict[str, Any] = attrs.field(factory=dict)

    def logged(self, sequence: PoseSequence) -> PoseSequence:
        """``sequence`` with an ``individuals`` log entry when posekit assigned the ids."""
        if self.assigned_by is None:
            return sequence
        return sequence.with_log(
            "individuals", {"assigned_by": f"posekit {self.assigned_by}", **self.settings}
        )


def ids_origin(sequence: PoseSequence) -> str | None:
    """How posekit assigned the individual ids, from the provenance log (None: the
    ids are the file's own or nobody says).

    Examples
    --------
    >>> seq = PoseSequence.from_arrays(np.zeros((1, 2, 1, 1)), keypoints=["a"])
    >>> ids_origin(seq.with_log("individuals", {"assigned_by": "posekit tracker", "max_gap": 30}))
    'assigned by posekit tracker (max_gap=30)'
    """
    entries = [e for e in sequence.log if e.get("stage") == "individuals"]
    if not entries:
        return None
    settings = dict(entries[-1].get("parameters", {}))
    by = settings.pop("assigned_by", "posekit")
    return f"assigned by {by} ({', '.join(f'{k}={v}' for k, v in settings.items())})"


def individuals(
    path: Path,
    frames: np.ndarray,
    points: np.ndarray,
    *,
    tracks: np.ndarray | None,
    scores: np.ndarray | None = None,
    tracking: str = "auto",
    max_gap: int = DEFAULT_MAX_GAP,
    max_distance: float = DEFAULT_MAX_DISTANCE,
) -> Individuals:
    """The individuals of a file's records, as the reader option ``tracking`` says.

    Parameters
    ----------
    path
        The file (for messages).
    frames, points
        ``(n,)`` frame and ``(n, K, D)`` keypoints (NaN where missing) of each record.
    tracks
        ``(n,)`` the file's track ids, or None when some record has none (or a
        negative one, "untracked").
    scores
        ``(n,)`` detection scores (order within a frame), if the file has them.
    tracking
        ``auto``: link detections into tracks (:class:`Tracker`); ``rank``: ``id_0``
        is the best score (or the first record) of each frame, ``id_1`` the next;
        ``none``: only the file's ids, an error without them.
    max_gap, max_distance
        The tracker's settings (:class:`Tracker`).

    Raises
    ------
    PoseFileError
        With ``tracking="none"`` when the file has no usable track ids.

    Examples
    --------
    >>> frames = np.array([0, 0, 1])
    >>> points = np.array([[[0.0, 0.0], [0.0, 9.0]], [[50.0, 0.0], [50.0, 9.0]],
    ...                    [[49.0, 0.0], [49.0, 9.0]]])
    >>> found = individuals(Path("a.json"), frames, points, tracks=None)
    >>> found.slots.tolist(), found.names, found.assigned_by
    ([0, 1, 1], ['id_0', 'id_1'], 'tracker')
    """
    if tracking not in TRACKING_MODES:
        raise ValueError(f"tracking must be one of {', '.join(TRACKING_MODES)}, got {tracking!r}")
    own = None if tracks is None else individuals_from_tracks(frames, tracks)
    if own is not None:
        return Individuals(*own)
    why = "no track ids" if tracks is None else "track ids that repeat within a frame"
    if tracking == "none":
        raise PoseFileError(
            path,
            f"the file has {why} and tracking is 'none'; use tracking 'auto' to link "
            "detections into tracks, or 'rank'",
        )
    if tracking == "rank":
        slots, names = individuals_by_rank(frames, scores)
        found = Individuals(slots, names, "rank", {"tracking": "rank"})
    else:
        tracker = Tracker(max_gap=max_gap, max_distance=max_distance)
        slots = tracker.link(frames, points, scores)
        names = [f"id_{i}" for i in range(int(slots.max()) + 1 if len(slots) else 0)]
        found = Individuals(slots, names, "tracker", {"tracking": "auto", **attrs.asdict(tracker)})
    logger.warning(
        "%s: the file has %s; posekit assigned %d individual ids (%s)",
        path, why, len(found.names),
        ", ".join(f"{key}={value}" for key, value in found.settings.items()),
    )  # fmt: skip
    return found


def tracked_sequence(
    path: Path,
    *,
    frames: np.ndarray,
    points: np.ndarray,
    confidence: np.ndarray,
    missing: np.ndarray,
    tracks: Sequence[int | None] | np.ndarray | None,
    scores: np.ndarray | None = None,
    tracking: str = "auto",
    max_gap: int = DEFAULT_MAX_GAP,
    max_distance: float = DEFAULT_MAX_DISTANCE,
    skeleton: str | None,
    keypoints: Sequence[str],
    fps: float | None,
    confidence_threshold: float | None,
    source_software: str,
    n_frames: int | None = None,
) -> PoseSequence:
    """The sequence of a file's records, individuals found as ``tracking`` says.

    The steps every reader of per-frame detections takes: the keypoints ``missing``
    marks are hidden from the tracker, :func:`individuals` says who each record is,
    :func:`~posekit.io._records.assemble` lays the records out, and the provenance log
    says when posekit assigned the ids.

    Parameters
    ----------
    path
        The file read (for messages and ``source_file``).
    frames, points, confidence, missing
        ``(n,)`` frame, ``(n, K, D)`` keypoints, ``(n, K)`` confidences and ``(n, K)``
        True where the file marks a keypoint as not found, of each record.
    tracks
        ``(n,)`` the file's track ids; they are used when every record has one
        (not None) and none is negative ("untracked"); None when the file has none.
    scores
        ``(n,)`` detection scores (order within a frame), if the file has them.
    tracking, max_gap, max_distance
        As in :func:`individuals`.
    skeleton, keypoints, fps, confidence_threshold, source_software, n_frames
        As in :func:`~posekit.io._records.assemble`.

    Examples
    --------
    >>> points = np.array([[[0.0, 0.0], [0.0, 9.0]], [[1.0, 0.0], [1.0, 9.0]]])
    >>> seq = tracked_sequence(
    ...     Path("a.json"), frames=np.array([0, 1]), points=points,
    ...     confidence=np.ones((2, 2)), missing=np.zeros((2, 2), bool), tracks=[7, 7],
    ...     skeleton=None, keypoints=["a", "b"], fps=None, confidence_threshold=None,
    ...     source_software="demo")
    >>> seq.individuals, seq.n_frames
    (['id_7'], 2)
    """
    found = individuals(
        path, frames, np.where(missing[..., None], np.nan, points),
        tracks=_usable_tracks(tracks, len(frames)),
        scores=scores, tracking=tracking, max_gap=max_gap, max_distance=max_distance,
    )  # fmt: skip
    sequence = assemble(
        path,
        frames=frames,
        slots=found.slots,
        individuals=found.names,
        points=points,
        confidence=confidence,
        missing=missing,
        skeleton=skeleton,
        keypoints=keypoints,
        fps=fps,
        confidence_threshold=confidence_threshold,
        source_software=source_software,
        n_frames=n_frames,
    )
    return found.logged(sequence)


def _usable_tracks(
    tracks: Sequence[int | None] | np.ndarray | None, n_records: int
) -> np.ndarray | None:
    """The file's track ids as an array when every record has one and none is negative
    ("untracked"), else None.

    Examples
    --------
    >>> _usable_tracks([3, 1], 2), _usable_tracks([3, None], 2), _usable_tracks([3, -1], 2)
    (array([3, 1]), None, None)
    """
    if tracks is None or len(tracks) != n_records:
        return None
    if not isinstance(tracks, np.ndarray):
        if any(track is None for track in tracks):
            return None
        tracks = np.array(tracks, dtype=np.int64)
    return tracks if (tracks >= 0).all() else None
