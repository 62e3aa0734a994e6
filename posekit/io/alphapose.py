"""AlphaPose: ``alphapose-results.json``, one record per detected person.

AlphaPose's default output (``doc/output.md``, ``write_json`` in
``alphapose/utils/pPose_nms.py``) is a list of records::

    [{"image_id": "12.jpg", "category_id": 1,
      "keypoints": [x0, y0, c0, x1, y1, c1, ...], "score": 2.8,
      "box": [x, y, w, h], "idx": [[1.0]]}, ...]

- ``image_id`` is the image file name; for a video it is ``"<frame>.jpg"`` with the
  frame counted from 0. The frame number is the last number of the name's stem
  (plain integers, as ``--eval`` writes, are frame numbers too).
- ``keypoints`` fixes the layout by its length: 17 keypoints are COCO (skeleton
  ``coco_17``), 26 are Halpe-26 (``halpe_26``); whole-body models keep their body
  part: the first 23 of COCO-WholeBody's 133 (body and feet, ``coco_wholebody_23``),
  the first 26 of Halpe-136. 28 is
  posekit's own output layout (``mpi_inf_3dhp_28``, see :class:`AlphaPoseWriter`).
- ``idx`` is the track id when tracking was on (a number, or a list of the ids of
  the boxes merged into the pose, the first being the pose's own, e.g. ``[[1.0]]``).
  Without tracking AlphaPose writes the same id (0) for everybody, so ids that
  repeat within a frame are ignored.

``--format open`` and ``--format cmu`` write instead an object keyed by image name,
each value OpenPose-style: ``{"version": ..., "people": [{"pose_keypoints_2d": [...]}]}``
(``"bodies": [{"joints": [...]}]`` for cmu), in OpenPose's COCO-18 order (skeleton
``coco_18``; AlphaPose computes the neck as the shoulders' midpoint, for COCO-17
models). Those records carry neither score nor track id.
"""

from __future__ import annotations

import json
import re
from array import array
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

import attrs
import numpy as np

from posekit.core.errors import PoseFileError, PoseSequenceError
from posekit.core.presence import DEFAULT_MAX_GAP
from posekit.core.sequence import PoseSequence
from posekit.core.skeleton import HUB_SKELETON
from posekit.io._atomic import atomic_file, refuse_input
from posekit.io._records import (
    as_float,
    individual_numbers,
    is_id,
    json_array_items,
    layout_for,
    load_json,
    numeric_rows,
    read_head,
    track_id,
)
from posekit.io.frame_order import FrameOrder, number_frames
from posekit.io.openpose import FRAME_FILE, PersonRecord, people_of, people_to_sequence
from posekit.io.tracking import DEFAULT_MAX_DISTANCE, Tracking, tracked_sequence
from posekit.plugins.hookspecs import hookimpl
from posekit.plugins.registry import Registry

#: Records turned into one array at a time: bounds the JSON objects held while reading.
_BLOCK = 4096

#: Skeleton of a record by its number of keypoints (whole-body: its body part).
LAYOUTS: dict[int, str] = {
    17: "coco_17",
    26: "halpe_26",
    28: HUB_SKELETON,
    133: "coco_wholebody_23",
    136: "halpe_26",
}
#: Layout of the ``--format open`` / ``cmu`` output.
OPEN_LAYOUTS: dict[int, str] = {18: "coco_18"}
_STRING_IMAGE_ID = re.compile(r'"image_id"\s*:\s*"')


@attrs.frozen
class AlphaPoseReader:
    """Read an AlphaPose results file (default, ``open`` or ``cmu`` format).

    Parameters
    ----------
    fps
        Frames per second (AlphaPose files have none); None gives time in frames.
    confidence_threshold
        Keypoints with a lower confidence lose their position; confidence is kept.
    skeleton
        Skeleton name for a layout the keypoint count does not tell (it must fit).
    frame_order
        How image names become frames (:mod:`posekit.io.frame_order`): ``number``
        (the last number of the name), ``sequential`` (the order of the records),
        ``file_name`` (natural order of the names) or ``auto`` (``number`` unless the
        numbers cannot be frame numbers: a name without one, a single image, numbers
        over 100 times sparser than the images; then ``file_name``, with a message).
    tracking
        Individuals when the file has no track ids (:mod:`posekit.io.tracking`):
        ``auto`` links detections into tracks, ``rank`` makes ``id_0`` the highest
        ``score`` of each frame (the behaviour before posekit tracked), ``none``
        refuses such files.
    track_max_gap
        Frames a track may be missing and still continue (``tracking: auto``).
    track_max_distance
        Farthest link between frames, in person sizes (``tracking: auto``).

    Notes
    -----
    The frame axis runs from 0 to the last frame; frames nobody was found in are NaN
    rows. Keypoints written ``0, 0, 0`` are missing (NaN position, confidence 0):
    AlphaPose itself never writes them, posekit's writer does for missing joints. With
    track ids (``idx``) individuals are ``id_<track>``. Without them (AlphaPose without
    ``--pose_track`` writes 0 for everybody, so ids repeating in a frame count as none)
    the ids come from ``tracking``; the provenance log says so (``individuals``).

    Examples
    --------
    >>> import json, tempfile
    >>> path = Path(tempfile.mkdtemp()) / "alphapose-results.json"
    >>> records = [{"image_id": f"{f}.jpg", "category_id": 1, "score": 2.5,
    ...             "keypoints": [10.0, 20.0, 0.9] * 26} for f in (0, 3)]
    >>> _ = path.write_text(json.dumps(records))
    >>> seq = AlphaPoseReader(fps=30).read(path)
    >>> seq.skeleton, seq.n_frames, seq.individuals
    ('halpe_26', 4, ['id_0'])
    """

    suffixes: ClassVar[tuple[str, ...]] = (".json",)
    fps: float | None = None
    confidence_threshold: float | None = None
    skeleton: str | None = None
    frame_order: FrameOrder = "auto"
    tracking: Tracking = "auto"
    track_max_gap: int = DEFAULT_MAX_GAP
    track_max_distance: float = DEFAULT_MAX_DISTANCE

    @classmethod
    def sniff(cls, path: Path) -> bool:
        """True for a JSON list of records with AlphaPose's ``box``/``idx`` or a string
        ``image_id``, or an object of AlphaPose's open/cmu format."""
        head = read_head(path).lstrip()
        if head.startswith("["):
            return (
                '"keypoints"' in head
                and '"image_id"' in head
                and (
                    '"idx"' in head or '"box"' in head or _STRING_IMAGE_ID.search(head) is not None
                )
            )
        return (
            head.startswith("{") and '"AlphaPose' in head and FRAME_FILE.match(head) is None
        )

    def read(self, path: Path) -> PoseSequence:
        """Read the file.

        Raises
        ------
        PoseFileError
            If the file is not JSON, has no detection, or a record is malformed
            (naming the record, e.g. ``[12]``, and the field).
        """
        path = Path(path)
        records = json_array_items(path)
        if records is not None:
            return self._read_records(path, records)
        data = load_json(path)
        if isinstance(data, dict):
            return self._read_open(path, data)
        raise PoseFileError(
            path,
            "expected a list of detections (AlphaPose's default output) or an object "
            "keyed by image name (--format open/cmu)",
        )

    def _read_records(self, path: Path, records: Iterable[Any]) -> PoseSequence:
        # Per-record numbers in typed arrays, not lists of Python objects that would
        # stay scattered over the heap the parsed records come and go on.
        image_of = array("q")
        scores = array("d")
        tracks = array("q")
        blocks: list[np.ndarray] = []  # keypoints, _BLOCK records at a time
        rows: list[Any] = []
        images: dict[int | str, int] = {}  # image name -> its index
        first_records = array("q")  # the first record of each image
        width = -1
        for i, record in enumerate(records):
            if type(record) is not dict:
                raise PoseFileError(path, "expected an object", record=f"[{i}]")
            keypoints = record.get("keypoints")
            if type(keypoints) is not list:
                raise PoseFileError(
                    path, "missing or not a list", record=f"[{i}]", field="keypoints"
                )
            if len(keypoints) != width:
                if width >= 0:
                    raise PoseFileError(
                        path,
                        f"{len(keypoints)} values; the first record has {width}",
                        record=f"[{i}]",
                        field="keypoints",
                    )
                width = len(keypoints)
            image_id = record.get("image_id")
            if not is_id(image_id):
                raise PoseFileError(
                    path,
                    f"expected an image name or number, got {image_id!r}",
                    record=f"[{i}]",
                    field="image_id",
                )
            if image_id not in images:
                images[image_id] = len(images)
                first_records.append(i)
            image_of.append(images[image_id])
            rows.append(keypoints)
            if len(rows) == _BLOCK:
                blocks.append(_numbers(path, rows, i + 1 - len(rows)))
                rows = []
            score = as_float(record.get("score", np.nan))
            if score is None:
                raise PoseFileError(path, "expected a number", record=f"[{i}]", field="score")
            scores.append(score)
            if len(tracks) == i and "idx" in record:
                track = track_id(record["idx"])
                if track is None:
                    raise PoseFileError(
                        path,
                        "expected a track id: a number or a list holding one",
                        record=f"[{i}]",
                        field="idx",
                    )
                tracks.append(track)
        n = len(image_of)
        if not n:
            raise PoseFileError(path, "no detection in the file")
        if width == 0 or width % 3:
            raise PoseFileError(
                path,
                f"{width} values: expected x, y, score for each keypoint",
                record="[0]",
                field="keypoints",
            )
        layout = layout_for(
            path, width // 3, LAYOUTS, self.skeleton, record="[0]", field="keypoints"
        )
        if rows:
            blocks.append(_numbers(path, rows, n - len(rows)))
        xyc = np.concatenate(blocks).reshape(n, width // 3, 3)[:, : layout.n_keypoints]
        del blocks
        names = list(images)
        order = number_frames(
            path, names, self.frame_order, records=[f"[{i}]" for i in first_records],
            field="image_id",
        )  # fmt: skip
        frames = np.array([order.of[name] for name in names], dtype=np.int64)[
            np.frombuffer(image_of, np.int64)
        ]
        sequence = tracked_sequence(
            path,
            frames=frames,
            points=xyc[..., :2],
            confidence=xyc[..., 2],
            missing=(xyc == 0).all(axis=-1),
            tracks=np.frombuffer(tracks, np.int64),
            scores=np.frombuffer(scores, np.float64),
            tracking=self.tracking,
            max_gap=self.track_max_gap,
            max_distance=self.track_max_distance,
            skeleton=layout.skeleton,
            keypoints=layout.keypoints,
            fps=self.fps,
            confidence_threshold=self.confidence_threshold,
            source_software="AlphaPose",
            n_frames=order.n_frames,
        )
        return order.logged(sequence)

    def _read_open(self, path: Path, data: dict[str, Any]) -> PoseSequence:
        people: list[PersonRecord] = []
        names = list(data)
        order = number_frames(
            path, names, self.frame_order, records=[f"[{name!r}]" for name in names]
        )
        for name, entry in data.items():
            cmu = isinstance(entry, dict) and "bodies" in entry and "people" not in entry
            people += people_of(
                path,
                entry,
                order.of[name],
                record=f"[{name!r}].",
                people_key="bodies" if cmu else "people",
                keypoint_keys=("joints",) if cmu else ("pose_keypoints_2d",),
            )
        if not people:
            raise PoseFileError(path, "no detection in the file")
        sequence = people_to_sequence(
            path,
            people,
            n_frames=order.n_frames,
            layouts=OPEN_LAYOUTS,
            skeleton=self.skeleton,
            fps=self.fps,
            confidence_threshold=self.confidence_threshold,
            source_software="AlphaPose",
            tracking=self.tracking,
            track_max_gap=self.track_max_gap,
            track_max_distance=self.track_max_distance,
        )
        return order.logged(sequence)



def _numbers(path: Path, rows: list[Any], start: int) -> np.ndarray:
    """``rows`` (records ``start``, ``start + 1``, ...) as a float array."""
    return numeric_rows(rows, lambda i: (path, f"[{start + i}]"), "keypoints")

@attrs.frozen
class AlphaPoseWriter:
    """Write an AlphaPose results file (the default list format).

    One record per individual and frame with at least one observed joint:
    ``image_id`` is ``"<frame>.jpg"`` (frame counted from 0), ``category_id`` 1,
    ``keypoints`` the ``x, y, confidence`` of every joint in the sequence's own joint
    order, ``score`` the mean confidence of its observed joints, ``box`` ``[x, y, w, h]``
    around them and ``idx`` the individual's number (``id_3`` -> 3).

    Joint order: the sequence's skeleton. posekit's output layout is
    ``mpi_inf_3dhp_28`` (``seq.remap("mpi_inf_3dhp_28")``), whose 28 joints are, in
    order: spine3, spine4, spine2, spine, pelvis, neck, head, head_top,
    left_clavicle, left_shoulder, left_elbow, left_wrist, left_hand, right_clavicle,
    right_shoulder, right_elbow, right_wrist, right_hand, left_hip, left_knee,
    left_ankle, left_foot, left_toe, right_hip, right_knee, right_ankle, right_foot,
    right_toe. :class:`AlphaPoseReader` recognises 28 keypoints as this layout.

    Missing joints are written ``0, 0, 0`` and a NaN confidence of an observed joint
    as 0, so the file is strict JSON. The file has no frame count: frames after the
    last one with an observed joint are not in it. The file is written to a temporary
    file, then renamed.

    Examples
    --------
    >>> import tempfile
    >>> seq = PoseSequence.from_arrays(np.ones((3, 2, 28, 2)), skeleton="mpi_inf_3dhp_28")
    >>> path = Path(tempfile.mkdtemp()) / "alphapose-results.json"
    >>> AlphaPoseWriter().write(seq, path)
    >>> AlphaPoseReader().read(path).individuals
    ['id_0', 'id_1']
    """

    suffix: ClassVar[str] = ".json"

    def write(self, sequence: PoseSequence, path: Path) -> None:
        """Write the file atomically.

        Raises
        ------
        PoseSequenceError
            If the sequence is 3D.
        PoseFileError
            If ``path`` is the sequence's input.
        """
        path = Path(path)
        refuse_input(sequence, path)
        if sequence.n_space != 2:
            raise PoseSequenceError("AlphaPose keypoints are 2D; the sequence is 3D")
        position = sequence.positions()
        observed = np.isfinite(position).all(axis=-1)
        confidence = np.nan_to_num(sequence.confidences(), nan=0.0)
        values = np.concatenate([position, confidence[..., None]], axis=-1)
        values[~observed] = 0.0
        n_observed = observed.sum(axis=-1)
        score = np.where(observed, confidence, 0.0).sum(axis=-1) / np.maximum(n_observed, 1)
        mask = observed[..., None]
        low = np.min(position, axis=2, where=mask, initial=np.inf)
        high = np.max(position, axis=2, where=mask, initial=-np.inf)
        numbers = individual_numbers(sequence.individuals)
        records = [
            {
                "image_id": f"{frame}.jpg",
                "category_id": 1,
                "keypoints": values[i, frame].ravel().tolist(),
                "score": float(score[i, frame]),
                "box": [*low[i, frame].tolist(), *(high[i, frame] - low[i, frame]).tolist()],
                "idx": numbers[i],
            }
            for frame in range(sequence.n_frames)
            for i in np.flatnonzero(n_observed[:, frame])
        ]
        with atomic_file(path) as handle:
            json.dump(records, handle)


@hookimpl
def posekit_register_readers(registry: Registry) -> None:
    """Register the AlphaPose reader."""
    registry.add_reader("alphapose", AlphaPoseReader)


@hookimpl
def posekit_register_writers(registry: Registry) -> None:
    """Register the AlphaPose writer."""
    registry.add_writer("alphapose", AlphaPoseWriter)
