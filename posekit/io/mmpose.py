"""MMPose: the predictions JSON of ``MMPoseInferencer`` and of MMPose's demo scripts.

Layouts read (MMPose 1.x, ``mmpose/apis/inferencers/base_mmpose_inferencer.py``,
``split_instances`` in ``mmpose/structures/utils.py``, ``demo/topdown_demo_with_mmdet.py``):

- a video through the inferencer (``pred_out_dir``): ``[{"frame_id": 0, "instances":
  [...]}, ...]`` with ``frame_id`` counted from 0;
- an image through the inferencer: the list of instances of that image (one frame);
- the demo's ``--save-predictions``: ``{"meta_info": {...}, "instance_info": ...}``
  where ``instance_info`` is the list of ``{"frame_id", "instances"}`` of a video,
  ``frame_id`` counted from 1 (the demo counts before reading a frame), or the list
  of instances of one image.

An instance is ``{"keypoints": [[x, y], ...], "keypoint_scores": [s, ...],
"bbox": [[x1, y1, x2, y2]], "bbox_score": s}``; 3D models give ``[x, y, z]``
keypoints. The skeleton follows from the number of keypoints: in 2D 17 is COCO
(``coco_17``), 26 is Halpe-26 (``halpe_26``), 133 (COCO-WholeBody) and 136
(Halpe-136) keep their first 23 / 26 body and feet keypoints (``coco_wholebody_23``,
``halpe_26``); in 3D 17 is Human3.6M
(``h36m_17``, MMPose's 3D lifters). 28 is posekit's ``mpi_inf_3dhp_28``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import attrs
import numpy as np

from posekit.core.errors import PoseFileError
from posekit.core.presence import DEFAULT_MAX_GAP
from posekit.core.sequence import PoseSequence
from posekit.core.skeleton import HUB_SKELETON
from posekit.io._records import (
    MAX_FRAME_DIGITS,
    layout_for,
    load_json,
    numeric_rows,
    read_head,
    track_id,
)
from posekit.io.tracking import DEFAULT_MAX_DISTANCE, Tracking, tracked_sequence
from posekit.plugins.hookspecs import hookimpl
from posekit.plugins.registry import Registry

#: Skeleton by number of keypoints, for 2D and for 3D keypoints.
LAYOUTS_2D: dict[int, str] = {
    17: "coco_17",
    26: "halpe_26",
    28: HUB_SKELETON,
    133: "coco_wholebody_23",
    136: "halpe_26",
}
LAYOUTS_3D: dict[int, str] = {17: "h36m_17", 28: HUB_SKELETON}


@attrs.frozen
class _Instances:
    """The instances of a file, flattened: record names, frames and raw fields."""

    records: list[str] = attrs.field(factory=list)
    frames: list[int] = attrs.field(factory=list)
    keypoints: list[Any] = attrs.field(factory=list)
    scores: list[Any] = attrs.field(factory=list)
    tracks: list[int | None] = attrs.field(factory=list)

    def add(self, path: Path, instance: Any, record: str, frame: int) -> None:
        if type(instance) is not dict:
            raise PoseFileError(path, "expected an object", record=record)
        for field in ("keypoints", "keypoint_scores"):
            if type(instance.get(field)) is not list:
                raise PoseFileError(path, "missing or not a list", record=record, field=field)
        track = None
        if "track_id" in instance:
            track = track_id(instance["track_id"])
            if track is None:
                raise PoseFileError(path, "expected a number", record=record, field="track_id")
        self.records.append(record)
        self.frames.append(frame)
        self.keypoints.append(instance["keypoints"])
        self.scores.append(instance["keypoint_scores"])
        self.tracks.append(track)


def _list(path: Path, value: Any, record: str | None, field: str | None) -> list[Any]:
    if type(value) is not list:
        raise PoseFileError(path, "expected a list", record=record, field=field)
    return value


@attrs.frozen
class MMPoseReader:
    """Read MMPose predictions (inferencer or demo JSON, video or image).

    Parameters
    ----------
    fps
        Frames per second (the files have none); None gives time in frames.
    confidence_threshold
        Keypoints with a lower ``keypoint_scores`` lose their position; the
        confidence is kept.
    skeleton
        Skeleton name for a layout the keypoint count does not tell (it must fit).
    tracking
        Individuals when the instances have no ``track_id``
        (:mod:`posekit.io.tracking`): ``auto`` links detections into tracks, ``rank``
        makes ``id_0`` the highest mean keypoint score of each frame, ``none`` refuses
        such files.
    track_max_gap
        Frames a track may be missing and still continue (``tracking: auto``).
    track_max_distance
        Farthest link between frames, in person sizes (``tracking: auto``).

    Notes
    -----
    The frame axis runs from 0 to the last frame; frames without instances are NaN.
    Instances with a ``track_id`` (unique within each frame) are individuals
    ``id_<track>``; otherwise posekit assigns the ids as ``tracking`` says, and says so
    in a warning and in the provenance log.

    Examples
    --------
    >>> import json, tempfile
    >>> path = Path(tempfile.mkdtemp()) / "clip.json"
    >>> instance = {"keypoints": [[1.0, 2.0]] * 17, "keypoint_scores": [0.9] * 17}
    >>> frames = [{"frame_id": 0, "instances": [instance]}, {"frame_id": 1, "instances": []}]
    >>> _ = path.write_text(json.dumps(frames))
    >>> seq = MMPoseReader().read(path)
    >>> seq.skeleton, seq.n_frames
    ('coco_17', 2)
    """

    suffixes: ClassVar[tuple[str, ...]] = (".json",)
    fps: float | None = None
    confidence_threshold: float | None = None
    skeleton: str | None = None
    tracking: Tracking = "auto"
    track_max_gap: int = DEFAULT_MAX_GAP
    track_max_distance: float = DEFAULT_MAX_DISTANCE

    @classmethod
    def sniff(cls, path: Path) -> bool:
        """True for JSON holding MMPose's ``keypoint_scores`` or ``instance_info``."""
        head = read_head(path)
        return head.lstrip()[:1] in ("[", "{") and (
            '"keypoint_scores"' in head or '"instance_info"' in head
        )

    def read(self, path: Path) -> PoseSequence:
        """Read the file.

        Raises
        ------
        PoseFileError
            If the file is not MMPose's JSON, holds no instance, or an instance is
            malformed (naming it, e.g. ``[3].instances[1]``, and the field).
        """
        path = Path(path)
        data = load_json(path)
        prefix, first_frame = "", 0
        if isinstance(data, dict):
            if "instance_info" not in data:
                raise PoseFileError(
                    path,
                    "expected a list (MMPoseInferencer) or an object with 'instance_info' "
                    "(MMPose demo)",
                )
            data, prefix, first_frame = data["instance_info"], "instance_info", 1
        items = _list(path, data, None, prefix or None)
        if not items:
            raise PoseFileError(path, "no frame and no instance in the file", field=prefix or None)
        found = _Instances()
        if type(items[0]) is dict and "instances" in items[0]:
            n_frames = 0
            for i, item in enumerate(items):
                record = f"{prefix}[{i}]"
                if type(item) is not dict:
                    raise PoseFileError(path, "expected an object", record=record)
                frame_id = item.get("frame_id")
                if type(frame_id) is not int or not first_frame <= frame_id < 10**MAX_FRAME_DIGITS:
                    raise PoseFileError(
                        path,
                        f"expected an integer from {first_frame}",
                        record=record,
                        field="frame_id",
                    )
                instances = _list(path, item.get("instances"), record, "instances")
                for j, instance in enumerate(instances):
                    found.add(path, instance, f"{record}.instances[{j}]", frame_id - first_frame)
                n_frames = max(n_frames, frame_id - first_frame + 1)
        else:
            for j, instance in enumerate(items):
                found.add(path, instance, f"{prefix}[{j}]", 0)
            n_frames = 1
        return self._sequence(path, found, n_frames)

    def _sequence(self, path: Path, found: _Instances, n_frames: int) -> PoseSequence:
        if not found.records:
            raise PoseFileError(path, "no instance in any frame")

        def locate(i: int) -> tuple[Path, str]:
            return path, found.records[i]

        points = numeric_rows(found.keypoints, locate, "keypoints", ndim=3)
        if points.shape[2] not in (2, 3):
            raise PoseFileError(
                path,
                "expected [x, y] or [x, y, z] per keypoint",
                record=found.records[0],
                field="keypoints",
            )
        n, n_keypoints, n_space = points.shape
        scores = numeric_rows(found.scores, locate, "keypoint_scores")
        if scores.shape != (n, n_keypoints):
            bad = next((i for i, s in enumerate(found.scores) if len(s) != n_keypoints), 0)
            raise PoseFileError(
                path,
                f"expected {n_keypoints} scores, one per keypoint",
                record=found.records[bad],
                field="keypoint_scores",
            )
        layout = layout_for(
            path,
            n_keypoints,
            LAYOUTS_2D if n_space == 2 else LAYOUTS_3D,
            self.skeleton,
            record=found.records[0],
            field="keypoints",
        )
        points, scores = points[:, : layout.n_keypoints], scores[:, : layout.n_keypoints]
        with np.errstate(invalid="ignore"):
            mean_score = scores.mean(axis=1)
        return tracked_sequence(
            path,
            frames=np.array(found.frames, dtype=np.int64),
            points=points,
            confidence=scores,
            missing=np.zeros(scores.shape, bool),
            tracks=None if None in found.tracks else found.tracks,
            scores=mean_score,
            tracking=self.tracking,
            max_gap=self.track_max_gap,
            max_distance=self.track_max_distance,
            skeleton=layout.skeleton,
            keypoints=layout.keypoints,
            fps=self.fps,
            confidence_threshold=self.confidence_threshold,
            source_software="MMPose",
            n_frames=n_frames,
        )


@hookimpl
def posekit_register_readers(registry: Registry) -> None:
    """Register the MMPose reader."""
    registry.add_reader("mmpose", MMPoseReader)
