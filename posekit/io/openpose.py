"""OpenPose: a folder of per-frame ``*_keypoints.json`` files (``--write_json``).

Each file is one frame (OpenPose ``doc/02_output.md``)::

    {"version": 1.3,
     "people": [{"person_id": [-1],
                 "pose_keypoints_2d": [x0, y0, c0, x1, y1, c1, ...],
                 "face_keypoints_2d": [], "hand_left_keypoints_2d": [], ...}]}

and is named ``<video or image name>_<frame, 12 digits>_keypoints.json``. The body
layout follows from the number of keypoints: 25 is BODY_25 (skeleton ``body_25``),
18 is COCO (``coco_18``), 15 is MPI (``mpi_15``), 135 is BODY_135 (its first 25 are
BODY_25B, ``body_25b``); 28 is posekit's own output layout (``mpi_inf_3dhp_28``).
BODY_25B (Pose2Sim's default) also has 25 keypoints: name it with the reader parameter
``skeleton``, or the geometry check picks it (see :mod:`posekit.io._layout_check`).
OpenPose 1.0 called the array ``pose_keypoints``; both names are read.

AlphaPose's ``--format open`` writes the same per-image objects into ``sep-json/``
as ``<image stem>.json``; a folder without ``*_keypoints.json`` files is read from
its ``*.json`` files, so that folder reads too (COCO-18 layout).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, ClassVar, Literal, NamedTuple

import attrs
import numpy as np

from posekit.core.errors import PoseFileError, PoseSequenceError
from posekit.core.presence import DEFAULT_MAX_GAP
from posekit.core.sequence import PoseSequence
from posekit.core.skeleton import HUB_SKELETON
from posekit.io._atomic import atomic_folder, refuse_input
from posekit.io._layout_check import fitting_layout, same_size_skeletons
from posekit.io._notes import noted
from posekit.io._records import (
    individual_numbers,
    layout_for,
    load_json,
    numeric_rows,
    read_head,
    track_id,
)
from posekit.io.frame_order import FrameOrder, number_frames
from posekit.io.tracking import DEFAULT_MAX_DISTANCE, Tracking, tracked_sequence
from posekit.plugins.hookspecs import hookimpl
from posekit.plugins.registry import Registry, get_skeleton

#: Skeleton of a body array by its number of keypoints.
LAYOUTS: dict[int, str] = {
    25: "body_25",
    18: "coco_18",
    15: "mpi_15",
    135: "body_25b",
    28: HUB_SKELETON,
}
#: Face and hand arrays of a person (``parts``), with their keypoint names.
_HAND = ["wrist"] + [
    f"{finger}_{k}" for finger in ("thumb", "index", "middle", "ring", "pinky") for k in range(1, 5)
]
PART_KEYPOINTS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "hands": (
        ("hand_left_keypoints_2d", tuple(f"left_hand_{name}" for name in _HAND)),
        ("hand_right_keypoints_2d", tuple(f"right_hand_{name}" for name in _HAND)),
    ),
    "face": (("face_keypoints_2d", tuple(f"face_{k}" for k in range(70))),),
}
_POSE_KEYS = ("pose_keypoints_2d", "pose_keypoints")
#: The start of one frame file: ``{"version": ..., "people": [...]}`` (OpenPose's, or one
#: of AlphaPose's ``--format open`` ``sep-json`` files).
FRAME_FILE = re.compile(r'\s*\{\s*"(version|people)"\s*:')
_EMPTY_PARTS = (
    "face_keypoints_2d",
    "hand_left_keypoints_2d",
    "hand_right_keypoints_2d",
    "pose_keypoints_3d",
    "face_keypoints_3d",
    "hand_left_keypoints_3d",
    "hand_right_keypoints_3d",
)


class PersonRecord(NamedTuple):
    """One person in one frame, as found in a file."""

    path: Path
    record: str
    field: str
    frame: int
    keypoints: list[Any]
    person_id: int | None


def people_of(
    path: Path,
    data: Any,
    frame: int,
    *,
    record: str = "",
    people_key: str = "people",
    keypoint_keys: tuple[str, ...] = _POSE_KEYS,
) -> list[PersonRecord]:
    """The people of one frame's JSON object (OpenPose's, or AlphaPose's open/cmu).

    Raises
    ------
    PoseFileError
        If the object, its people list or a person is malformed.
    """
    if type(data) is not dict:
        raise PoseFileError(path, f"expected an object with {people_key!r}", record=record or None)
    people = data.get(people_key)
    if type(people) is not list:
        raise PoseFileError(path, "missing or not a list", record=record or None, field=people_key)
    found = []
    for j, person in enumerate(people):
        name = f"{record}{people_key}[{j}]"
        if type(person) is not dict:
            raise PoseFileError(path, "expected an object", record=name)
        key = next((k for k in keypoint_keys if k in person), keypoint_keys[0])
        keypoints = person.get(key)
        if type(keypoints) is not list:
            raise PoseFileError(path, "missing or not a list", record=name, field=key)
        if not keypoints:  # OpenPose writes [] for a person without body keypoints
            continue
        person_id = None
        if "person_id" in person:
            person_id = track_id(person["person_id"])
            if person_id is None:
                raise PoseFileError(
                    path, "expected a number or a list holding one", record=name, field="person_id"
                )
        found.append(PersonRecord(path, name, key, frame, keypoints, person_id))
    return found


def people_to_sequence(
    path: Path,
    people: list[PersonRecord],
    *,
    n_frames: int,
    layouts: dict[int, str],
    skeleton: str | None,
    fps: float | None,
    confidence_threshold: float | None,
    source_software: str,
    tracking: Tracking = "auto",
    track_max_gap: int = DEFAULT_MAX_GAP,
    track_max_distance: float = DEFAULT_MAX_DISTANCE,
    extra_keypoints: tuple[str, ...] = (),
) -> PoseSequence:
    """Build a sequence from the people of all frames (``x, y, c`` per keypoint).

    ``extra_keypoints`` name keypoints appended to each person's body keypoints (hands,
    face); the ``skeleton`` attr still names the body layout (the first keypoints), for
    the caller to check and drop. Keypoints written as ``0, 0, 0`` are
    missing. People are individuals by their
    ``person_id`` when every person has a distinct non-negative one in its frame,
    else as ``tracking`` says (:func:`posekit.io.tracking.individuals`; ``rank``: by
    their order in the frame, ``id_0`` first).
    """
    if not people:
        raise PoseFileError(path, "no person in any frame")
    first = people[0]
    width = len(first.keypoints)
    if width == 0 or width % 3:
        raise PoseFileError(
            first.path,
            f"{width} values: expected x, y, confidence for each keypoint",
            record=first.record,
            field=first.field,
        )
    for person in people:
        if len(person.keypoints) != width:
            raise PoseFileError(
                person.path,
                f"{len(person.keypoints)} values; the first person has {width}",
                record=person.record,
                field=person.field,
            )
    values = numeric_rows(
        [p.keypoints for p in people], lambda i: (people[i].path, people[i].record), first.field
    )
    n_body = width // 3 - len(extra_keypoints)
    layout = layout_for(
        first.path, n_body, layouts, skeleton, record=first.record, field=first.field
    )
    xyc = values.reshape(len(people), width // 3, 3)
    xyc = np.concatenate([xyc[:, : layout.n_keypoints], xyc[:, n_body:]], axis=1)
    return tracked_sequence(
        path,
        frames=np.array([p.frame for p in people], dtype=np.int64),
        points=xyc[..., :2],
        confidence=xyc[..., 2],
        missing=(xyc == 0).all(axis=-1),
        tracks=[p.person_id for p in people],
        tracking=tracking,
        max_gap=track_max_gap,
        max_distance=track_max_distance,
        skeleton=layout.skeleton,
        keypoints=layout.keypoints + tuple(extra_keypoints),
        fps=fps,
        confidence_threshold=confidence_threshold,
        source_software=source_software,
        n_frames=n_frames,
    )


def _with_parts(path: Path, data: Any, parts: tuple[str, ...]) -> Any:
    """``data`` with each person's hand and face arrays of ``parts`` appended to the
    body keypoints (a part OpenPose left empty as ``0, 0, 0`` keypoints: missing)."""
    if not parts or type(data) is not dict or type(data.get("people")) is not list:
        return data
    people = []
    for j, person in enumerate(data["people"]):
        key = next((k for k in _POSE_KEYS if type(person) is dict and k in person), None)
        body = person.get(key) if key is not None else None
        if type(body) is not list or not body:
            people.append(person)
            continue
        values = list(body)
        for part in parts:
            for part_key, names in PART_KEYPOINTS[part]:
                found = person.get(part_key) or []
                if type(found) is not list or len(found) not in (0, 3 * len(names)):
                    raise PoseFileError(
                        path,
                        f"expected an empty list or {3 * len(names)} values",
                        record=f"people[{j}]",
                        field=part_key,
                    )
                values += found or [0.0] * (3 * len(names))
        people.append({**person, key: values})
    return {**data, "people": people}


def _count_parts(data: Any, parts: tuple[str, ...]) -> int:
    """How many non-empty face/hand arrays of ``parts`` the frame's people hold."""
    if type(data) is not dict or type(data.get("people")) is not list:
        return 0
    keys = [key for part in parts for key, _ in PART_KEYPOINTS[part]]
    return sum(
        1
        for person in data["people"]
        if type(person) is dict
        for key in keys
        if type(person.get(key)) is list and person[key]
    )


def _frame_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*_keypoints.json")) or sorted(folder.glob("*.json"))


@attrs.frozen
class OpenPoseReader:
    """Read OpenPose ``*_keypoints.json`` files: a folder of them (one per frame) or one.

    Parameters
    ----------
    skeleton
        The body layout (``body_25``, ``body_25b``, ``coco_18``, ``mpi_15`` or any
        skeleton whose joint count fits); default by the number of keypoints (see the
        module docstring), checked against the geometry.
    fps
        Frames per second (the files have none); None gives time in frames.
    confidence_threshold
        Keypoints with a lower confidence lose their position; confidence is kept.
    frame_order
        How file names become frames (:mod:`posekit.io.frame_order`): ``number`` (the
        last number of the name), ``sequential`` (the files sorted by name),
        ``file_name`` (natural order of the names) or ``auto`` (``number`` unless the
        numbers cannot be frame numbers: a name without one, a single file, numbers
        over 100 times sparser than the files; then ``file_name``, with a message).
    tracking
        Individuals when ``person_id`` is ``-1`` (OpenPose's default) or repeats
        (:mod:`posekit.io.tracking`): ``auto`` links detections into tracks, ``rank``
        makes ``id_0`` the first person of each file (the behaviour before posekit
        tracked), ``none`` refuses such files.
    track_max_gap
        Frames a track may be missing and still continue (``tracking: auto``).
    track_max_distance
        Farthest link between frames, in person sizes (``tracking: auto``).

    parts
        What to read of each person: ``body`` always, ``hands`` (``hand_left`` /
        ``hand_right_keypoints_2d``, 21 points each, named ``left_hand_wrist``,
        ``left_hand_thumb_1`` ...) and ``face`` (``face_keypoints_2d``, 70 points,
        ``face_0`` ...). With hands or face the sequence has no ``skeleton`` (the
        keypoints are no longer a body layout); without them, face and hand keypoints
        in the files are dropped with a warning.

    Notes
    -----
    The frame axis runs over the frames of ``frame_order``; frames without a file or
    without people are NaN. Keypoints written ``0, 0, 0`` (not found) are NaN with
    confidence 0; a person with an empty ``pose_keypoints_2d`` is not there (missing
    in that frame). When the keypoints fit another layout of the same size much better
    than the one chosen (their skeleton's bones are shorter,
    :mod:`posekit.io._layout_check`), the reader takes that layout if none was named,
    or keeps the named one; both with a warning and a ``read`` entry in the log.
    ``person_id`` is OpenPose's track id: when every person has a distinct
    non-negative one in its frame, individuals are ``id_<person_id>``; otherwise
    ``tracking`` assigns them and the provenance log says so (``individuals``). A
    single ``.json`` file reads as one frame (``auto``).

    Examples
    --------
    >>> import json, tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> person = {"person_id": [-1], "pose_keypoints_2d": [1.0, 2.0, 0.9] * 25}
    >>> for frame in (0, 2):
    ...     name = f"clip_{frame:012d}_keypoints.json"
    ...     _ = (folder / name).write_text(json.dumps({"version": 1.3, "people": [person]}))
    >>> seq = OpenPoseReader().read(folder)
    >>> seq.skeleton, seq.n_frames, bool(np.isnan(seq.positions()[0, 1]).all())
    ('body_25', 3, True)
    >>> OpenPoseReader().read(folder / "clip_000000000002_keypoints.json").n_frames
    1
    """

    suffixes: ClassVar[tuple[str, ...]] = ("", ".json")
    skeleton: str | None = None
    fps: float | None = None
    confidence_threshold: float | None = None
    frame_order: FrameOrder = "auto"
    tracking: Tracking = "auto"
    track_max_gap: int = DEFAULT_MAX_GAP
    track_max_distance: float = DEFAULT_MAX_DISTANCE
    parts: tuple[Literal["body", "hands", "face"], ...] = attrs.field(
        default=("body",), converter=tuple, validator=attrs.validators.deep_iterable(
            attrs.validators.in_(("body", "hands", "face"))
        )
    )

    @classmethod
    def sniff(cls, path: Path) -> bool:
        """True for a folder with ``*_keypoints.json`` files, or ``*.json`` with people,
        and for one such file (an object with ``people`` and OpenPose's ``version``)."""
        if not path.is_dir():
            head = read_head(path, 4096)
            return FRAME_FILE.match(head) is not None
        if next(path.glob("*_keypoints.json"), None) is not None:
            return True
        first = next(path.glob("*.json"), None)
        return first is not None and '"people"' in read_head(first, 4096)

    def read(self, path: Path) -> PoseSequence:
        """Read the folder (or the file).

        Raises
        ------
        PoseFileError
            If it holds no frame files, two files claim one frame, or a file is
            malformed (naming the file, the person and the field).
        """
        path = Path(path)
        files = _frame_files(path) if path.is_dir() else [path]
        if not files:
            raise PoseFileError(path, "no frames: the folder has no *_keypoints.json files")
        names = [file.name for file in files]
        order = number_frames(path, names, self.frame_order, records=names)
        people: list[PersonRecord] = []
        dropped = 0
        for file in files:
            data = load_json(file)
            dropped += _count_parts(data, self._dropped_parts)
            people += people_of(file, _with_parts(file, data, self._kept_parts),
                                order.of[file.name])
        sequence = people_to_sequence(
            path,
            people,
            n_frames=order.n_frames,
            layouts=LAYOUTS,
            skeleton=self.skeleton,
            fps=self.fps,
            confidence_threshold=self.confidence_threshold,
            source_software="OpenPose",
            tracking=self.tracking,
            track_max_gap=self.track_max_gap,
            track_max_distance=self.track_max_distance,
            extra_keypoints=tuple(
                name for part in self._kept_parts for _, names in PART_KEYPOINTS[part]
                for name in names
            ),
        )
        if dropped:
            sequence = noted(
                sequence,
                "openpose",
                f"{path}: {dropped} face/hand arrays dropped; pass the reader parameter "
                "parts: [body, hands, face] to keep them",
                dropped=dropped,
            )
        sequence = self._checked_layout(path, sequence)
        if self._kept_parts:
            sequence = sequence.with_attrs(skeleton=None)
        return order.logged(sequence)

    @property
    def _kept_parts(self) -> tuple[str, ...]:
        return tuple(part for part in ("hands", "face") if part in self.parts)

    @property
    def _dropped_parts(self) -> tuple[str, ...]:
        return tuple(part for part in ("hands", "face") if part not in self.parts)

    def _checked_layout(self, path: Path, sequence: PoseSequence) -> PoseSequence:
        """The sequence in the layout its geometry fits (see the class notes)."""
        if sequence.skeleton is None:  # the readers always name one; nothing to check
            return sequence
        chosen = get_skeleton(sequence.skeleton)
        records = sequence.positions().reshape(-1, sequence.n_keypoints, sequence.n_space)
        fit = fitting_layout(records, chosen, same_size_skeletons(chosen.n_joints))
        if fit.better is None:
            return sequence
        named = self.skeleton is not None
        if not named:
            better = get_skeleton(fit.better)
            names = [*better.joint_names, *sequence.keypoints[better.n_joints :]]
            dataset = sequence.dataset.assign_coords(keypoint=names)
            sequence = PoseSequence(dataset).with_attrs(skeleton=better.name)
        return noted(
            sequence, "openpose", fit.message(path, named), skeleton=sequence.skeleton
        )


@attrs.frozen
class OpenPoseWriter:
    """Write a folder of OpenPose ``<name>_<frame>_keypoints.json`` files.

    One file per frame (``<name>`` is the folder's name, the frame has 12 digits), with
    one person per individual observed in that frame: ``person_id`` is the individual's
    number (``id_3`` -> ``[3]``) and ``pose_keypoints_2d`` its keypoints in the
    sequence's own joint order (remap first, e.g. ``seq.remap("body_25")``, for
    OpenPose's layout). Missing keypoints are written ``0, 0, 0``; a NaN confidence
    of an observed keypoint is written 0.

    The files are written into a temporary folder that then replaces ``path``; an
    existing ``path`` is replaced only if it holds nothing but ``*_keypoints.json``.

    Examples
    --------
    >>> import tempfile
    >>> seq = PoseSequence.from_arrays(np.ones((2, 2, 25, 1)), skeleton="body_25")
    >>> out = Path(tempfile.mkdtemp()) / "clip"
    >>> OpenPoseWriter().write(seq, out)
    >>> sorted(p.name for p in out.iterdir())[0]
    'clip_000000000000_keypoints.json'
    """

    suffix: ClassVar[str] = ""

    def write(self, sequence: PoseSequence, path: Path) -> None:
        """Write the folder atomically.

        Raises
        ------
        PoseSequenceError
            If the sequence is 3D (``pose_keypoints_2d`` holds 2D keypoints).
        PoseFileError
            If ``path`` is the sequence's input or a folder holding other files.
        """
        path = Path(path)
        refuse_input(sequence, path)
        if sequence.n_space != 2:
            raise PoseSequenceError(
                "OpenPose's pose_keypoints_2d holds 2D keypoints; the sequence is 3D"
            )
        position = sequence.positions()
        observed = np.isfinite(position).all(axis=-1)
        confidence = np.nan_to_num(sequence.confidences(), nan=0.0)
        values = np.concatenate([position, confidence[..., None]], axis=-1)
        values[~observed] = 0.0
        present = observed.any(axis=-1)
        numbers = individual_numbers(sequence.individuals)
        with atomic_folder(path, lambda p: p.name.endswith("_keypoints.json")) as folder:
            for frame in range(sequence.n_frames):
                people = [
                    {
                        "person_id": [numbers[i]],
                        "pose_keypoints_2d": values[i, frame].ravel().tolist(),
                        **{part: [] for part in _EMPTY_PARTS},
                    }
                    for i in np.flatnonzero(present[:, frame])
                ]
                text = json.dumps({"version": 1.3, "people": people})
                (folder / f"{path.name}_{frame:012d}_keypoints.json").write_text(text, "utf-8")


@hookimpl
def posekit_register_readers(registry: Registry) -> None:
    """Register the OpenPose reader."""
    registry.add_reader("openpose", OpenPoseReader)


@hookimpl
def posekit_register_writers(registry: Registry) -> None:
    """Register the OpenPose writer."""
    registry.add_writer("openpose", OpenPoseWriter)
