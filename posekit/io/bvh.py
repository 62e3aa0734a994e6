"""Biovision BVH motion: hierarchy, channels and forward kinematics to joint positions.

A joint's world rotation is its parent's times the rotations of its channels taken in
the order written (``Zrotation Xrotation Yrotation`` gives ``Rz · Rx · Ry``), and its
position is its parent's plus the parent's rotation applied to ``OFFSET`` plus any
position channels. The root's position channels are its position: its ``OFFSET`` is not
added to them (as Blender's and most BVH tools read it; exporters that write the rest
height there would otherwise lift the whole motion by it). Each ``End Site`` becomes a joint named ``<parent>_end``: it carries
the tip of the last bone of a chain (toe tip, head top, finger tip), so every bone of
the file has both ends among the joints. Positions are in metres after multiplying by
``scale``, the metres per file unit, which BVH does not record; :class:`BvhReader`
guesses it from the size of the skeleton's rest pose when not given.

CMU's BVH conversion (``cmu/bvh/13_29.bvh``) keeps the ASF's length unit, ``1/0.45``
inch (a femur ``OFFSET`` is about 7.6, a standing hip height about 16), so read it with
``scale=CMU_BVH_SCALE``; its first frame is an added T-pose. Its joints nest one deeper
than the ASF bones: an ASF bone's end is the position of the *child* of the BVH joint
named for that bone (ASF ``lfemur`` ends at BVH ``LeftLeg``, ``ltoes`` at
``LeftToeBase_end``), and the ASF ``thorax`` and wrist bones have zero length there.
"""

from __future__ import annotations

import gzip
import math
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar

import attrs
import numpy as np

from posekit.core.errors import PoseFileError
from posekit.core.sequence import PoseSequence
from posekit.io._notes import noted
from posekit.io._values import MAX_CHAIN_DEPTH, checked_fps, is_number
from posekit.io.asf_amc import INCH, MotionCapture, read_text_lines, rotate_about_axes
from posekit.plugins.hookspecs import hookimpl
from posekit.plugins.registry import Registry, get_skeleton

#: Metres per unit of CMU's BVH files (the ASF unit: inches / 0.45).
CMU_BVH_SCALE = INCH / 0.45
#: Units a BVH file may be in, in metres, tried when the scale is not given.
UNITS: dict[str, float] = {"metres": 1.0, "centimetres": 0.01, "millimetres": 0.001,
                           "inches": INCH}
#: The rest-pose size (metres, largest extent: height or arm span) a guessed unit aims at.
PERSON_SIZE = 1.7
#: Rest-pose sizes outside this range (metres) in every unit are said to be implausible.
PLAUSIBLE_SIZE = (0.8, 2.6)

_CHANNELS = {
    f"{axis}{kind}": (kind, axis.lower())
    for axis in "XYZ"
    for kind in ("position", "rotation")
}


@attrs.frozen
class _Joint:
    """One joint of a BVH hierarchy (file units).

    Parameters
    ----------
    name
        Joint name; End Sites are named ``<parent>_end``.
    parent
        Index of the parent joint, ``-1`` for the root.
    offset
        Offset from the parent joint, in the parent's frame.
    channels
        ``(kind, axis)`` pairs in file order, kind ``"position"`` or ``"rotation"``.
    """

    name: str
    parent: int
    offset: tuple[float, float, float]
    channels: tuple[tuple[str, str], ...]


def _tokens(lines: Sequence[str]) -> Iterator[tuple[str, int]]:
    """Tokens of the lines with their 1-based line numbers."""
    for number, line in enumerate(lines, start=1):
        for token in line.split():
            yield token, number


class _Hierarchy:
    """Recursive-descent reader of the HIERARCHY section."""

    def __init__(self, path: Path, lines: Sequence[str]) -> None:
        self.path = path
        self.stream = _tokens(lines)
        self.line = 0
        self.joints: list[_Joint] = []

    def next(self, what: str) -> str:
        try:
            token, self.line = next(self.stream)
        except StopIteration:
            raise PoseFileError(self.path, f"file ends where {what} was expected",
                                line=self.line) from None
        return token

    def expect(self, expected: str) -> None:
        token = self.next(repr(expected))
        if token != expected:
            raise PoseFileError(self.path, f"expected {expected!r}, got {token!r}", line=self.line)

    def number(self, what: str) -> float:
        token = self.next(what)
        try:
            value = float(token)
        except ValueError:
            raise PoseFileError(self.path, f"{what}: expected a number, got {token!r}",
                                line=self.line) from None
        if not math.isfinite(value):
            raise PoseFileError(self.path, f"{what}: value must be finite", line=self.line)
        return value

    def offset(self) -> tuple[float, float, float]:
        self.expect("OFFSET")
        return (self.number("OFFSET x"), self.number("OFFSET y"), self.number("OFFSET z"))

    def add(self, name: str, line: int, parent: int, offset: tuple, channels: tuple) -> int:
        if any(joint.name == name for joint in self.joints):
            raise PoseFileError(self.path, f"joint name {name!r} used twice", line=line)
        self.joints.append(_Joint(name, parent, offset, channels))
        return len(self.joints) - 1

    def joint(self, parent: int) -> None:
        """Read ``<name> { OFFSET … CHANNELS … children }`` after ROOT or JOINT."""
        depth, above = 0, parent
        while above >= 0:
            depth, above = depth + 1, self.joints[above].parent
        if depth >= MAX_CHAIN_DEPTH:
            raise PoseFileError(
                self.path, f"joints nested more than {MAX_CHAIN_DEPTH} deep", line=self.line
            )
        name = self.next("a joint name")
        name_line = self.line
        self.expect("{")
        offset = self.offset()
        self.expect("CHANNELS")
        count_token = self.next("a channel count")
        if not count_token.isdecimal():
            raise PoseFileError(self.path, f"expected a channel count, got {count_token!r}",
                                line=self.line)
        channels = []
        for _ in range(int(count_token)):
            token = self.next("a channel name")
            if token not in _CHANNELS:
                raise PoseFileError(
                    self.path,
                    f"unknown channel {token!r}; expected one of {', '.join(_CHANNELS)}",
                    line=self.line,
                )
            channels.append(_CHANNELS[token])
        index = self.add(name, name_line, parent, offset, tuple(channels))
        while True:
            token = self.next("JOINT, End Site or '}'")
            if token == "}":
                return
            if token == "JOINT":
                self.joint(index)
            elif token == "End":
                end_line = self.line
                self.expect("Site")
                self.expect("{")
                self.add(f"{name}_end", end_line, index, self.offset(), ())
                self.expect("}")
            else:
                raise PoseFileError(
                    self.path, f"expected JOINT, End Site or '}}', got {token!r}", line=self.line
                )


def read_bvh(path: str | Path, *, scale: float) -> MotionCapture:
    """Read a BVH file and compute its joint positions.

    Parameters
    ----------
    path
        The BVH file (plain or gzip, any line endings).
    scale
        Metres per file unit (BVH files do not say): ``CMU_BVH_SCALE`` for CMU's
        conversion, ``0.01`` for centimetres, ``0.0254`` for inches.

    Returns
    -------
    MotionCapture
        Every joint and End Site (``<parent>_end``) in file order, in metres, axes as in
        the file; ``fps = 1 / Frame Time``.

    Raises
    ------
    posekit.core.errors.PoseFileError
        If the file is malformed: a bad hierarchy, a frame line with the wrong number
        of values or a value that is not a number, fewer or more frames than
        ``Frames:`` says. The error names the line.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.bvh"
    >>> _ = path.write_text(
    ...     "HIERARCHY\\nROOT Hips\\n{\\n OFFSET 0 0 0\\n"
    ...     " CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\\n"
    ...     " End Site\\n {\\n  OFFSET 0 -50 0\\n }\\n}\\n"
    ...     "MOTION\\nFrames: 2\\nFrame Time: 0.0333333\\n0 90 0 0 0 0\\n0 90 0 0 90 0\\n"
    ... )
    >>> motion = read_bvh(path, scale=0.01)
    >>> motion.joint_names, round(motion.fps, 3)
    (('Hips', 'Hips_end'), 30.0)
    >>> motion.positions[1, 1].round(3) + 0.0
    array([ 0. ,  0.9, -0.5])
    """
    path = Path(path)
    joints, frame_time, values = _parse(path)
    return MotionCapture(
        tuple(joint.name for joint in joints),
        tuple(joint.parent for joint in joints),
        _forward_kinematics(joints, values) * scale,
        1.0 / frame_time,
        str(path),
    )


def _parse(path: Path) -> tuple[list[_Joint], float, np.ndarray]:
    """The joints, the frame time and the ``(frames, channels)`` values of a BVH file."""
    lines = read_text_lines(path)
    motion_at = next(
        (i for i, line in enumerate(lines) if line.strip().upper() == "MOTION"), None
    )
    if motion_at is None:
        raise PoseFileError(path, "no MOTION section")
    hierarchy = _Hierarchy(path, lines[:motion_at])
    hierarchy.expect("HIERARCHY")
    hierarchy.expect("ROOT")
    hierarchy.joint(-1)
    extra = next(hierarchy.stream, None)
    if extra is not None:
        raise PoseFileError(path, f"unexpected {extra[0]!r} after the root joint", line=extra[1])
    joints = hierarchy.joints
    n_frames, frame_time, first = _motion_header(path, lines, motion_at)
    n_channels = sum(len(joint.channels) for joint in joints)
    values = _frames(path, lines, first, n_frames, n_channels)
    return joints, frame_time, values


def rest_pose_size(joints: Sequence[_Joint]) -> float:
    """Largest extent (file units) of the rest pose: every rotation zero, the root at
    the origin (a standing person's height, or the arm span of a T-pose)."""
    n_channels = sum(len(joint.channels) for joint in joints)
    rest = _forward_kinematics(joints, np.zeros((1, n_channels)))[0]
    return float((rest.max(axis=0) - rest.min(axis=0)).max())


def guess_unit(size: float) -> tuple[str, float]:
    """The unit of :data:`UNITS` that makes a rest pose of ``size`` file units closest
    to :data:`PERSON_SIZE` (by ratio); centimetres for a skeleton of no size.

    Examples
    --------
    >>> guess_unit(170.0), guess_unit(68.0), guess_unit(1.8)
    (('centimetres', 0.01), ('inches', 0.0254), ('metres', 1.0))
    """
    if not (math.isfinite(size) and size > 0):
        return "centimetres", UNITS["centimetres"]
    return min(UNITS.items(), key=lambda item: abs(math.log(size * item[1] / PERSON_SIZE)))


def _motion_header(path: Path, lines: Sequence[str], motion_at: int) -> tuple[int, float, int]:
    """``Frames:`` count, ``Frame Time:`` and the index of the first frame line."""
    found: dict[str, tuple[str, int]] = {}
    index = motion_at + 1
    while len(found) < 2 and index < len(lines):
        line = lines[index].strip()
        index += 1
        if not line:
            continue
        label, _, value = line.partition(":")
        key = " ".join(label.split()).lower()
        if key not in ("frames", "frame time") or key in found:
            raise PoseFileError(path, f"expected 'Frames:' and 'Frame Time:', got {line!r}",
                                line=index)
        found[key] = (value.strip(), index)
    if len(found) < 2:
        raise PoseFileError(path, "file ends before 'Frames:' and 'Frame Time:'", line=index)
    count, count_line = found["frames"]
    if not count.isdecimal():
        raise PoseFileError(path, f"Frames: expected a count, got {count!r}", line=count_line)
    time, time_line = found["frame time"]
    try:
        frame_time = float(time)
    except ValueError:
        frame_time = math.nan
    if not (math.isfinite(frame_time) and frame_time > 0):
        raise PoseFileError(path, f"Frame Time: expected a positive number, got {time!r}",
                            line=time_line)
    return int(count), frame_time, index


def _frames(
    path: Path, lines: Sequence[str], first: int, n_frames: int, n_channels: int
) -> np.ndarray:
    """The ``(frames, channels)`` values; all at once when regular, else line by line."""
    numbered = [(i + 1, line) for i, line in enumerate(lines[first:], start=first) if line.strip()]
    if len(numbered) == n_frames:
        tokens = " ".join(line for _, line in numbered).split()
        if len(tokens) == n_frames * n_channels:
            try:
                values = np.fromiter(map(float, tokens), np.float64, len(tokens))
            except ValueError:
                values = None
            if values is not None and np.isfinite(values).all():
                return values.reshape(n_frames, n_channels)
    # Irregular: find the first faulty line; the loop cannot end without one.
    rows = []
    for frame, (number, line) in enumerate(numbered):
        if frame == n_frames:
            raise PoseFileError(path, f"more frame lines than 'Frames: {n_frames}'", line=number)
        tokens = line.split()
        record = f"frame {frame}"
        if len(tokens) != n_channels:
            raise PoseFileError(
                path, f"expected {n_channels} values, got {len(tokens)}", record=record,
                line=number,
            )
        try:
            row = [float(t) for t in tokens]
        except ValueError:
            bad = next(t for t in tokens if not is_number(t))
            raise PoseFileError(path, f"expected a number, got {bad!r}", record=record,
                                line=number) from None
        if not all(map(math.isfinite, row)):
            raise PoseFileError(path, "values must be finite", record=record, line=number)
        rows.append(row)
    raise PoseFileError(
        path, f"file ends after {len(rows)} of {n_frames} frames", line=len(lines)
    )



def _forward_kinematics(joints: Sequence[_Joint], values: np.ndarray) -> np.ndarray:
    """World positions ``(frames, joints, 3)`` in file units, vectorised over frames."""
    n_frames = values.shape[0]
    positions = np.empty((n_frames, len(joints), 3))
    rotations: list[np.ndarray] = []
    column = 0
    for k, joint in enumerate(joints):
        span = values[:, column : column + len(joint.channels)]
        column += len(joint.channels)
        moves = any(kind == "position" for kind, _ in joint.channels)
        # the root's position channels replace its OFFSET (see the module notes)
        start = (0.0, 0.0, 0.0) if joint.parent < 0 and moves else joint.offset
        offset = np.broadcast_to(np.asarray(start, dtype=np.float64), (n_frames, 3))
        for i, (kind, axis) in enumerate(joint.channels):
            if kind == "position":
                offset = offset + np.eye(3)["xyz".index(axis)] * span[:, i : i + 1]
        turns = [i for i, (kind, _) in enumerate(joint.channels) if kind == "rotation"]
        axes = "".join(joint.channels[i][1] for i in turns)
        if joint.parent < 0:
            positions[:, k] = offset
            parent_rotation = np.broadcast_to(np.eye(3), (n_frames, 3, 3))
        else:
            parent_rotation = rotations[joint.parent]
            moved = np.einsum("tij,tj->ti", parent_rotation, offset)
            positions[:, k] = positions[:, joint.parent] + moved
        if turns:
            rotations.append(rotate_about_axes(parent_rotation, axes, np.radians(span[:, turns])))
        else:
            rotations.append(parent_rotation)
    return positions


# -- posekit reader ---------------------------------------------------------------------

#: Where each joint of ``cmu_31`` (the end of an ASF bone) is in CMU's BVH conversion:
#: the BVH joint *below* the one named for the bone (see the module notes); the ASF
#: ``thorax`` and wrist bones have zero length there, so their ends coincide with the
#: starts of the neck and the finger bases.
CMU_BVH_JOINTS: dict[str, str] = {
    "root": "Hips",
    **{
        f"{s}{bone}": f"{side}{joint}"
        for s, side in (("l", "Left"), ("r", "Right"))
        for bone, joint in (
            ("hipjoint", "UpLeg"),
            ("femur", "Leg"),
            ("tibia", "Foot"),
            ("foot", "ToeBase"),
            ("toes", "ToeBase_end"),
            ("clavicle", "Arm"),
            ("humerus", "ForeArm"),
            ("radius", "Hand"),
            ("wrist", "FingerBase"),
            ("hand", "HandIndex1"),
            ("fingers", "HandIndex1_end"),
        )
    },
    "lthumb": "LThumb_end",
    "rthumb": "RThumb_end",
    "lowerback": "Spine",
    "upperback": "Spine1",
    "thorax": "Neck",
    "lowerneck": "Neck1",
    "upperneck": "Head",
    "head": "Head_end",
}


@attrs.frozen
class BvhReader:
    """Read a BVH motion as 3D joint positions (metres).

    A file with the joints of CMU's BVH conversion (``Hips``, ``LHipJoint``,
    ``LeftUpLeg``, …) is renamed to the ``cmu_31`` skeleton as :data:`CMU_BVH_JOINTS`
    says (its ``skeleton`` attr is then ``cmu_31``: remap it to ``mpi_inf_3dhp_28``);
    any other file keeps its own joints (End Sites as ``<parent>_end``) and has no
    skeleton.

    Parameters
    ----------
    scale
        Metres per file unit (BVH does not say). Default: ``CMU_BVH_SCALE`` for CMU's
        conversion, else guessed from the size of the rest pose (the unit of
        :data:`UNITS` that makes it closest to a 1.7 m person), with a warning and a
        ``read`` entry in the log naming the unit.
    first_frame
        Frames before it are dropped (CMU's conversion starts with an added T-pose:
        pass 1).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.bvh"
    >>> _ = path.write_text(
    ...     "HIERARCHY\\nROOT Hips\\n{\\n OFFSET 0 0 0\\n"
    ...     " CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\\n"
    ...     " End Site\\n {\\n  OFFSET 0 -50 0\\n }\\n}\\n"
    ...     "MOTION\\nFrames: 2\\nFrame Time: 0.0333333\\n0 90 0 0 0 0\\n0 90 0 0 90 0\\n"
    ... )
    >>> seq = BvhReader(scale=0.01).read(path)
    >>> seq.keypoints, seq.n_frames, round(seq.fps, 3), seq.skeleton
    (['Hips', 'Hips_end'], 2, 30.0, None)
    """

    suffixes: ClassVar[tuple[str, ...]] = (".bvh", ".bvh.gz")
    scale: float | None = None
    first_frame: int = attrs.field(default=0, validator=attrs.validators.ge(0))

    @classmethod
    def sniff(cls, path: Path) -> bool:
        """True if the first non-empty line is ``HIERARCHY``."""
        try:
            with open(path, "rb") as handle:
                opener = gzip.open if handle.read(2) == b"\x1f\x8b" else open
            with opener(path, "rt", encoding="latin-1") as handle:
                for line in handle:
                    if line.strip():
                        return line.strip().upper() == "HIERARCHY"
        except (OSError, EOFError, zlib.error):
            return False
        return False

    def read(self, path: Path) -> PoseSequence:
        """Read the motion; raises :class:`~posekit.core.errors.PoseFileError` if malformed."""
        path = Path(path)
        joints, frame_time, values = _parse(path)
        motion = MotionCapture(
            tuple(joint.name for joint in joints),
            tuple(joint.parent for joint in joints),
            _forward_kinematics(joints, values[self.first_frame :]),
            1.0 / frame_time,
            str(path),
        )
        is_cmu = set(CMU_BVH_JOINTS.values()) <= set(motion.joint_names)
        guess = None
        if self.scale is not None:
            scale = self.scale
        elif is_cmu:
            scale = CMU_BVH_SCALE
        else:
            size = rest_pose_size(joints)
            unit, scale = guess_unit(size)
            guess = f"{path}: BVH has no unit; the rest pose is {size:g} units tall: read as {unit}"
            if not PLAUSIBLE_SIZE[0] <= size * scale <= PLAUSIBLE_SIZE[1]:
                guess += f" ({size * scale:.2f} m: no unit gives a person's size)"
            guess += "; pass the reader parameter 'scale' (metres per unit) to choose"
        positions = motion.positions * scale
        names, skeleton = list(motion.joint_names), None
        if is_cmu:
            names = list(get_skeleton("cmu_31").joint_names)
            positions = positions[:, [motion.joint_index(CMU_BVH_JOINTS[j]) for j in names]]
            skeleton = "cmu_31"
        sequence = PoseSequence.from_arrays(
            positions.transpose(0, 2, 1)[..., None],
            skeleton=skeleton,
            keypoints=names,
            fps=checked_fps(path, motion.fps),
            source_software="BVH",
            source_file=str(path),
        )
        return sequence if guess is None else noted(sequence, "bvh", guess, scale=scale)


@hookimpl
def posekit_register_readers(registry: Registry) -> None:
    """Register the BVH reader."""
    registry.add_reader("bvh", BvhReader)
