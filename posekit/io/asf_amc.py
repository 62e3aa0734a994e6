"""Acclaim ASF skeletons and AMC motions, with forward kinematics to joint positions.

An ASF file describes a skeleton of bones, each with a ``direction`` and ``length``
(the bone vector in the rest pose, in world axes), a local coordinate frame given by
``axis`` angles and their order (``axis 0 0 20 XYZ``), and the degrees of freedom
(``dof``) whose values the AMC file lists, frame by frame, in the ``dof`` order.

Forward kinematics follows the Acclaim convention (as in CMU's mocapPlayer): with
``C`` the rotation of a bone's ``axis`` and ``M`` its motion rotation for a frame,
the bone's world rotation is ``L = L_parent · C · M · C⁻¹`` and its end lies at
``end = end_parent + L · (direction · length)``. Rotations given as a sequence of
axes (``axis … XYZ``, ``dof rx ry rz``, ``:root order … RX RY RZ``) turn about fixed
axes in that sequence, so ``XYZ`` gives ``M = Rz · Ry · Rx``. Translation dofs
(``tx ty tz``) move the bone's start in its local frame (``L_parent · C · t``) and
``l`` stretches the bone: its vector becomes ``direction · (length + l)``. The root
is at ``position + O · t`` with ``t`` its translation channels, and turns by
``O · M · O⁻¹`` with ``O`` the rotation of its ``orientation`` (in ``axis`` order);
CMU's files set both presets to zero.

Units: lengths and root translations are multiplied by ``0.0254 / u`` to give metres,
``u`` being the ASF's ``:units length`` value (1 if absent). This reads the length unit
as inches scaled by ``u``, which is how VICON BodyBuilder writes it (CMU: ``length
0.45``, so metres = value / 0.45 × 0.0254); pass ``scale`` to override. Angles are in
``:units angle`` (``deg`` unless ``rad``); an AMC's own ``:DEGREES`` or ``:RADIANS``
header takes precedence for its values. Axes are as in the file (CMU: Y up).
"""

from __future__ import annotations

import gzip
import math
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import ClassVar

import attrs
import numpy as np

from posekit.core.errors import PoseFileError
from posekit.core.sequence import PoseSequence
from posekit.plugins.hookspecs import hookimpl
from posekit.plugins.registry import Registry, get_skeleton

#: Metres in an inch: the length unit of a VICON ASF before its ``:units length`` factor.
INCH = 0.0254

_AXES = "xyz"
_BONE_DOFS = frozenset({"rx", "ry", "rz", "tx", "ty", "tz", "l"})
_ROOT_DOFS = frozenset({"rx", "ry", "rz", "tx", "ty", "tz"})


def _as_name_tuple(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(str(v) for v in values)


def _as_index_tuple(values: Sequence[int]) -> tuple[int, ...]:
    return tuple(int(v) for v in values)


def _as_positions(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


@attrs.frozen(eq=False)
class MotionCapture:
    """Joint positions of one motion-capture take.

    Parameters
    ----------
    joint_names
        Joint names; a joint's parent comes before it.
    parents
        Index of each joint's parent, ``-1`` for the root.
    positions
        World positions in metres, shape ``(frames, joints, 3)``, axes as in the file.
    fps
        Frames per second.
    source_file
        The motion file read.

    Examples
    --------
    >>> import numpy as np
    >>> motion = MotionCapture(("root", "hip"), (-1, 0), np.zeros((4, 2, 3)), 120.0, "a.amc")
    >>> motion.n_frames, motion.joint_index("hip")
    (4, 1)
    """

    joint_names: tuple[str, ...] = attrs.field(converter=_as_name_tuple)
    parents: tuple[int, ...] = attrs.field(converter=_as_index_tuple)
    positions: np.ndarray = attrs.field(converter=_as_positions, repr=False)
    fps: float = attrs.field(converter=float)
    source_file: str = attrs.field(converter=str)

    def __attrs_post_init__(self) -> None:
        n_joints = len(self.joint_names)
        if len(self.parents) != n_joints:
            raise ValueError(f"{len(self.parents)} parents for {n_joints} joints")
        if self.positions.ndim != 3 or self.positions.shape[1:] != (n_joints, 3):
            raise ValueError(
                f"positions must have shape (frames, {n_joints}, 3), got {self.positions.shape}"
            )
        if not (math.isfinite(self.fps) and self.fps > 0):
            raise ValueError(f"fps must be positive, got {self.fps}")

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return self.positions.shape[0]

    def joint_index(self, name: str) -> int:
        """Index of a joint by name.

        Raises
        ------
        KeyError
            If there is no such joint.
        """
        try:
            return self.joint_names.index(name)
        except ValueError:
            raise KeyError(f"no joint {name!r} in {self.source_file}") from None


@attrs.frozen
class AsfBone:
    """One bone of an ASF skeleton, as written in the file (file units).

    Parameters
    ----------
    name
        Bone name; its end is the joint of that name.
    parent
        Name of the parent bone, or ``"root"``.
    direction
        Bone direction in the rest pose, world axes.
    length
        Bone length.
    axis
        Angles of the bone's local frame, in the skeleton's angle unit.
    axis_order
        Order of the ``axis`` rotations, e.g. ``"xyz"``.
    dof
        Degrees of freedom in AMC order, from ``rx ry rz tx ty tz l``.
    """

    name: str
    parent: str
    direction: tuple[float, float, float]
    length: float
    axis: tuple[float, float, float]
    axis_order: str
    dof: tuple[str, ...]


@attrs.frozen
class AsfSkeleton:
    """An ASF skeleton: the root and its bones, parents before children.

    Parameters
    ----------
    bones
        Bones in depth-first order of the ``:hierarchy`` (parents first).
    root_order
        The root's AMC channels in order, e.g. ``("tx", "ty", "tz", "rx", "ry", "rz")``.
    root_axis
        Order of the root's ``orientation`` rotations.
    root_position, root_orientation
        The root's preset position (file length units) and orientation.
    length_unit
        The ``:units length`` value.
    angle_unit
        ``"deg"`` or ``"rad"``.
    source_file
        The ASF file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "01.asf"
    >>> _ = path.write_text(
    ...     ":units\\n length 0.45\\n:root\\n order TX TY TZ RX RY RZ\\n axis XYZ\\n"
    ...     ":bonedata\\n begin\\n name femur\\n direction 0 -1 0\\n length 9\\n"
    ...     " axis 0 0 0 XYZ\\n dof rx\\n end\\n:hierarchy\\n begin\\n root femur\\n end\\n"
    ... )
    >>> skeleton = read_asf(path)
    >>> skeleton.joint_names, skeleton.parents
    (('root', 'femur'), (-1, 0))
    >>> skeleton.rest_positions()[1].round(4)
    array([ 0.   , -0.508,  0.   ])
    """

    bones: tuple[AsfBone, ...]
    root_order: tuple[str, ...]
    root_axis: str
    root_position: tuple[float, float, float]
    root_orientation: tuple[float, float, float]
    length_unit: float
    angle_unit: str
    source_file: str

    @property
    def joint_names(self) -> tuple[str, ...]:
        """``"root"`` followed by the bone names (each bone's end)."""
        return ("root", *(bone.name for bone in self.bones))

    @property
    def parents(self) -> tuple[int, ...]:
        """Index of each joint's parent in :attr:`joint_names`, ``-1`` for the root."""
        names = self.joint_names
        return (-1, *(names.index(bone.parent) for bone in self.bones))

    @property
    def scale(self) -> float:
        """Metres per file length unit: ``0.0254 / length_unit``."""
        return INCH / self.length_unit

    def channel_counts(self) -> dict[str, int]:
        """Number of AMC values per frame of the root and of every bone (0 without dofs)."""
        return {"root": len(self.root_order), **{bone.name: len(bone.dof) for bone in self.bones}}

    def rest_positions(self, scale: float | None = None) -> np.ndarray:
        """Joint positions with every channel zero, shape ``(joints, 3)``, metres.

        Parameters
        ----------
        scale
            Metres per file unit; default :attr:`scale`.
        """
        zeros = {name: np.zeros((1, n)) for name, n in self.channel_counts().items()}
        return forward_kinematics(self, zeros, scale=scale)[0]


def rotate_about_axes(matrices: np.ndarray, axes: str, angles: np.ndarray) -> np.ndarray:
    """``matrices · R[axes[0]](angles[..., 0]) · R[axes[1]](angles[..., 1]) · …``.

    Each elementary rotation only mixes two columns, so a chain costs a few array
    operations per axis instead of a batched matrix product.

    Parameters
    ----------
    matrices
        Matrices to rotate, shape ``(..., 3, 3)`` (broadcast against ``angles``).
    axes
        Axis letters (``"x"``, ``"y"``, ``"z"``, any case), one per angle.
    angles
        Angles in radians, shape ``(..., len(axes))``.

    Returns
    -------
    numpy.ndarray
        A new array of shape ``(..., 3, 3)``. Applied to column vectors, the last axis
        turns first: Acclaim's fixed-axis sequences (``XYZ`` meaning ``Rz · Ry · Rx``)
        pass their axes reversed, BVH's channel order is used as written.

    Examples
    --------
    >>> import numpy as np
    >>> turn = rotate_about_axes(np.eye(3), "z", np.array([np.pi / 2]))
    >>> (turn @ [1.0, 0.0, 0.0]).round(6) + 0.0
    array([0., 1., 0.])
    """
    angles = np.asarray(angles, dtype=np.float64)
    shape = np.broadcast_shapes(np.shape(matrices), angles.shape[:-1] + (3, 3))
    out = np.array(np.broadcast_to(matrices, shape), dtype=np.float64)
    for k, axis in enumerate(axes.lower()):
        a = _AXES.index(axis)
        i, j = (a + 1) % 3, (a + 2) % 3
        cos = np.cos(angles[..., k])[..., None]
        sin = np.sin(angles[..., k])[..., None]
        col_i, col_j = out[..., :, i].copy(), out[..., :, j].copy()
        out[..., :, i] = col_i * cos + col_j * sin
        out[..., :, j] = col_j * cos - col_i * sin
    return out


def _fixed_axes(axes: str | Sequence[str], angles: np.ndarray) -> tuple[str, np.ndarray]:
    """Axes and angles of a fixed-axis sequence, reversed for :func:`rotate_about_axes`."""
    return "".join(axes)[::-1], np.asarray(angles, dtype=np.float64)[..., ::-1]


def forward_kinematics(
    skeleton: AsfSkeleton, channels: Mapping[str, np.ndarray], *, scale: float | None = None
) -> np.ndarray:
    """World positions of the root and of every bone end, for all frames at once.

    Parameters
    ----------
    skeleton
        The skeleton.
    channels
        ``"root"`` and each bone with dofs mapped to its AMC values, shape
        ``(frames, n_channels)`` in the order of ``root_order`` or the bone's ``dof``;
        angles in ``skeleton.angle_unit``, lengths in file units.
    scale
        Metres per file length unit; default ``skeleton.scale``.

    Returns
    -------
    numpy.ndarray
        Positions in metres, shape ``(frames, joints, 3)``, joints as
        ``skeleton.joint_names``.

    Notes
    -----
    With ``G = L · C`` (the bone's local frame in world axes), ``L = L_parent · C · M · C⁻¹``
    becomes ``G = G_parent · (C_parent⁻¹ · C) · M`` and the bone vector is
    ``G · (C⁻¹ · direction) · length``, which needs no batched matrix product.

    Examples
    --------
    >>> bone = AsfBone("shin", "root", (0.0, -1.0, 0.0), 10.0, (0.0, 0.0, 0.0), "xyz", ("rx",))
    >>> skeleton = AsfSkeleton((bone,), ("tx", "ty", "tz", "rx", "ry", "rz"), "xyz",
    ...                        (0.0, 0.0, 0.0), (0.0, 0.0, 0.0), 1.0, "deg", "a.asf")
    >>> channels = {"root": np.zeros((1, 6)), "shin": np.array([[90.0]])}
    >>> forward_kinematics(skeleton, channels, scale=1.0)[0, 1].round(6) + 0.0
    array([  0.,   0., -10.])
    """
    root = np.asarray(channels["root"], dtype=np.float64)
    n_frames = root.shape[0]
    to_radians = math.pi / 180.0 if skeleton.angle_unit == "deg" else 1.0
    names = skeleton.joint_names
    positions = np.empty((n_frames, len(names), 3))

    orientation = np.multiply(skeleton.root_orientation, to_radians)
    orient = rotate_about_axes(np.eye(3), *_fixed_axes(skeleton.root_axis, orientation))
    axes_frames = [orient]
    root_frame = np.broadcast_to(orient, (n_frames, 3, 3))
    world_frames = [_apply_motion(root_frame, skeleton.root_order, root, to_radians)]
    positions[:, 0] = skeleton.root_position + _translation(skeleton.root_order, root) @ orient.T
    for k, bone in enumerate(skeleton.bones, start=1):
        parent = names.index(bone.parent)
        values = np.asarray(channels.get(bone.name, np.zeros((n_frames, 0))), dtype=np.float64)
        axes = rotate_about_axes(
            np.eye(3), *_fixed_axes(bone.axis_order, np.multiply(bone.axis, to_radians))
        )
        relative = axes_frames[parent].T @ axes
        base = (world_frames[parent].reshape(-1, 3) @ relative).reshape(n_frames, 3, 3)
        start = positions[:, parent]
        if any(d[0] == "t" for d in bone.dof):
            start = start + np.einsum("tij,tj->ti", base, _translation(bone.dof, values))
        frame = _apply_motion(base, bone.dof, values, to_radians)
        local = axes.T @ np.asarray(bone.direction, dtype=np.float64)
        length = bone.length + values[:, bone.dof.index("l")] if "l" in bone.dof else bone.length
        vector = (frame.reshape(-1, 3) @ local).reshape(n_frames, 3) * np.reshape(length, (-1, 1))
        positions[:, k] = start + vector
        axes_frames.append(axes)
        world_frames.append(frame)
    return positions * (skeleton.scale if scale is None else scale)


def _apply_motion(
    base: np.ndarray, order: Sequence[str], values: np.ndarray, to_radians: float
) -> np.ndarray:
    """``base · M`` with ``M`` the fixed-axis rotation of the rotation channels in ``order``."""
    columns = [i for i, d in enumerate(order) if d[0] == "r"]
    if not columns:
        return base
    axes = [order[i][1] for i in columns]
    return rotate_about_axes(base, *_fixed_axes(axes, values[:, columns] * to_radians))


def _translation(order: Sequence[str], values: np.ndarray) -> np.ndarray:
    """``(frames, 3)`` translation from the ``tx ty tz`` channels among ``order``."""
    out = np.zeros((values.shape[0], 3))
    for i, d in enumerate(order):
        if d in ("tx", "ty", "tz"):
            out[:, _AXES.index(d[1])] = values[:, i]
    return out


def read_text_lines(path: str | Path) -> list[str]:
    """Lines of a text file, plain or gzip-compressed, any line endings.

    Parameters
    ----------
    path
        The file; gzip is recognised by its signature, not its name.

    Raises
    ------
    posekit.core.errors.PoseFileError
        If the file cannot be read, or the gzip stream is corrupt or truncated.

    Examples
    --------
    >>> import gzip, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.gz"
    >>> _ = path.write_bytes(gzip.compress(b"one\\r\\ntwo\\r\\n"))
    >>> read_text_lines(path)
    ['one', 'two']
    """
    try:
        data = Path(path).read_bytes()
    except OSError as err:  # a folder, no permission, a symlink loop, no such file
        raise PoseFileError(path, f"cannot read: {err.strerror or err}") from None
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as error:
            raise PoseFileError(path, f"corrupt gzip data ({error})") from None
    lines = data.decode("latin-1").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def _strip(line: str) -> str:
    """The line without its ``#`` comment and surrounding blanks."""
    return line.split("#", 1)[0].strip()


def _floats(path: Path, number: int, tokens: Sequence[str], count: int, what: str) -> list[float]:
    if len(tokens) != count:
        raise PoseFileError(
            path, f"{what}: expected {count} values, got {len(tokens)}", line=number
        )
    try:
        values = [float(t) for t in tokens]
    except ValueError:
        raise PoseFileError(
            path, f"{what}: expected numbers, got {' '.join(tokens)!r}", line=number
        ) from None
    if not all(map(math.isfinite, values)):
        raise PoseFileError(path, f"{what}: values must be finite", line=number)
    return values


def _rotation_order(path: Path, number: int, text: str) -> str:
    order = text.lower()
    if sorted(order) != ["x", "y", "z"]:
        raise PoseFileError(
            path, f"rotation order must be a permutation of XYZ, got {text!r}", line=number
        )
    return order


def _dof_list(
    path: Path, number: int, tokens: Sequence[str], allowed: frozenset[str]
) -> tuple[str, ...]:
    dof = tuple(t.lower() for t in tokens)
    unknown = [t for t, d in zip(tokens, dof) if d not in allowed]
    if unknown:
        raise PoseFileError(
            path,
            f"unknown degree of freedom {unknown[0]!r}; expected some of "
            f"{', '.join(sorted(allowed))}",
            line=number,
        )
    if len(set(dof)) != len(dof):
        raise PoseFileError(path, "a degree of freedom is repeated", line=number)
    return dof


def read_asf(path: str | Path) -> AsfSkeleton:
    """Read an Acclaim ASF skeleton (plain or gzip, any line endings).

    Parameters
    ----------
    path
        The ASF file.

    Returns
    -------
    AsfSkeleton
        The skeleton, bones in depth-first order of its ``:hierarchy``.

    Raises
    ------
    posekit.core.errors.PoseFileError
        If the file is malformed; the error names the line.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "01.asf"
    >>> _ = path.write_text(
    ...     ":root\\n order TX TY TZ RX RY RZ\\n axis XYZ\\n:bonedata\\n begin\\n name femur\\n"
    ...     " direction 0 -1 0\\n length 9\\n axis 0 0 20 XYZ\\n dof rx ry rz\\n end\\n"
    ...     ":hierarchy\\n begin\\n root femur\\n end\\n"
    ... )
    >>> read_asf(path).bones[0].dof
    ('rx', 'ry', 'rz')
    """
    path = Path(path)
    length_unit, angle_unit = 1.0, "deg"
    root_order: tuple[str, ...] = ("tx", "ty", "tz", "rx", "ry", "rz")
    root_axis = "xyz"
    root_point = {"position": (0.0, 0.0, 0.0), "orientation": (0.0, 0.0, 0.0)}
    bones: dict[str, AsfBone] = {}
    children: dict[str, list[str]] = {}
    parent_of: dict[str, str] = {}
    section = ""
    bone: _BoneBlock | None = None
    in_hierarchy_block = False
    for number, raw in enumerate(read_text_lines(path), start=1):
        line = _strip(raw)
        if not line:
            continue
        tokens = line.split()
        key = tokens[0].lower()
        if key.startswith(":"):
            if bone is not None:
                raise PoseFileError(path, f"bone block not closed before {key}", line=number)
            section = key
            continue
        if section == ":units" and key == "length":
            (length_unit,) = _floats(path, number, tokens[1:], 1, "units length")
            if not length_unit > 0:
                raise PoseFileError(path, "units length must be positive", line=number)
        elif section == ":units" and key == "angle":
            if tokens[1:] not in (["deg"], ["rad"]):
                raise PoseFileError(path, "expected 'angle deg' or 'angle rad'", line=number)
            angle_unit = tokens[1]
        elif section == ":root":
            if key == "order":
                root_order = _dof_list(path, number, tokens[1:], _ROOT_DOFS)
            elif key == "axis":
                root_axis = _rotation_order(path, number, " ".join(tokens[1:]))
            elif key in root_point:
                root_point[key] = _triple(path, number, tokens[1:], f"root {key}")
        elif section == ":bonedata":
            bone = _bone_line(path, number, tokens, bone, bones)
        elif section == ":hierarchy":
            if key in ("begin", "end"):
                in_hierarchy_block = key == "begin"
            elif in_hierarchy_block:
                _hierarchy_line(path, number, tokens, bones, children, parent_of)
    if bone is not None:
        raise PoseFileError(path, "file ends inside a bone block")
    if not bones:
        raise PoseFileError(path, "no :bonedata bones found")
    order = _depth_first(path, bones, children)
    return AsfSkeleton(
        bones=tuple(attrs.evolve(bones[name], parent=parent_of[name]) for name in order),
        root_order=root_order,
        root_axis=root_axis,
        root_position=root_point["position"],
        root_orientation=root_point["orientation"],
        length_unit=length_unit,
        angle_unit=angle_unit,
        source_file=str(path),
    )


_REQUIRED_BONE_KEYS = ("name", "direction", "length", "axis")


@attrs.define
class _BoneBlock:
    """A ``begin`` … ``end`` block of ``:bonedata`` while it is read."""

    line: int
    name: str | None = None
    direction: tuple[float, float, float] | None = None
    length: float | None = None
    axis: tuple[float, float, float] | None = None
    axis_order: str = "xyz"
    dof: tuple[str, ...] = ()


def _triple(
    path: Path, number: int, tokens: Sequence[str], what: str
) -> tuple[float, float, float]:
    first, second, third = _floats(path, number, tokens, 3, what)
    return first, second, third


def _bone_line(
    path: Path,
    number: int,
    tokens: list[str],
    bone: _BoneBlock | None,
    bones: dict[str, AsfBone],
) -> _BoneBlock | None:
    """Apply one ``:bonedata`` line; returns the bone being read, or None between bones.

    A finished bone goes into ``bones``, its parent still unknown (``"root"``)."""
    key = tokens[0].lower()
    if key == "begin":
        if bone is not None:
            raise PoseFileError(path, "'begin' inside a bone block", line=number)
        return _BoneBlock(number)
    if bone is None:
        raise PoseFileError(path, f"{tokens[0]!r} outside a begin/end bone block", line=number)
    if key == "end":
        name, direction, length, axis = bone.name, bone.direction, bone.length, bone.axis
        if name is None or direction is None or length is None or axis is None:
            missing = [k for k in _REQUIRED_BONE_KEYS if getattr(bone, k) is None]
            raise PoseFileError(path, f"bone block lacks {', '.join(missing)}", line=bone.line)
        if name in bones or name == "root":
            raise PoseFileError(path, f"bone name {name!r} used twice", line=bone.line)
        bones[name] = AsfBone(name, "root", direction, length, axis, bone.axis_order, bone.dof)
        return None
    if key == "name":
        if len(tokens) != 2:
            raise PoseFileError(path, "expected 'name <bone>'", line=number)
        bone.name = tokens[1]
    elif key == "direction":
        bone.direction = _triple(path, number, tokens[1:], "direction")
    elif key == "length":
        (bone.length,) = _floats(path, number, tokens[1:], 1, "length")
    elif key == "axis":
        if len(tokens) != 5:
            raise PoseFileError(path, "expected 'axis <a> <b> <c> <order>'", line=number)
        bone.axis = _triple(path, number, tokens[1:4], "axis")
        bone.axis_order = _rotation_order(path, number, tokens[4])
    elif key == "dof":
        bone.dof = _dof_list(path, number, tokens[1:], _BONE_DOFS)
    return bone


def _hierarchy_line(
    path: Path,
    number: int,
    tokens: list[str],
    bones: Mapping[str, object],
    children: dict[str, list[str]],
    parent_of: dict[str, str],
) -> None:
    parent, kids = tokens[0], tokens[1:]
    for name in tokens:
        if name != "root" and name not in bones:
            raise PoseFileError(path, f"unknown bone {name!r} in :hierarchy", line=number)
    for kid in kids:
        if kid == "root" or kid in parent_of:
            raise PoseFileError(path, f"bone {kid!r} is given a second parent", line=number)
        parent_of[kid] = parent
    children.setdefault(parent, []).extend(kids)


def _depth_first(
    path: Path, bones: Mapping[str, object], children: Mapping[str, list[str]]
) -> list[str]:
    order: list[str] = []
    stack = list(reversed(children.get("root", [])))
    while stack:
        name = stack.pop()
        order.append(name)
        stack.extend(reversed(children.get(name, [])))
    unreached = [name for name in bones if name not in order]
    if unreached:
        raise PoseFileError(
            path, f"bones not connected to the root in :hierarchy: {', '.join(unreached)}"
        )
    return order


def find_asf(amc_path: str | Path) -> Path:
    """The skeleton beside an AMC file: ``<subject>.asf``, subject = name up to the first ``_``.

    Parameters
    ----------
    amc_path
        The AMC file, e.g. ``subjects/07/07_01.amc.gz``.

    Returns
    -------
    pathlib.Path
        ``<subject>.asf`` (or ``<subject>.asf.gz``) in the same folder.

    Raises
    ------
    posekit.core.errors.PoseFileError
        If neither exists.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "07.asf").write_text("")
    >>> find_asf(folder / "07_01.amc.gz").name
    '07.asf'
    """
    amc_path = Path(amc_path)
    subject = amc_path.name.split("_", 1)[0].split(".", 1)[0]
    candidates = [amc_path.with_name(f"{subject}.asf"), amc_path.with_name(f"{subject}.asf.gz")]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise PoseFileError(
        amc_path,
        f"no skeleton: looked for {' and '.join(map(str, candidates))}; "
        "pass the ASF file explicitly",
        field="asf",
    )


class _Irregular(Exception):
    """The fast AMC reader met something it leaves to the line-by-line reader."""


def read_amc(
    path: str | Path,
    asf: str | Path | AsfSkeleton | None = None,
    *,
    fps: float = 120.0,
    scale: float | None = None,
    drop_incomplete_last_frame: bool = False,
) -> MotionCapture:
    """Read an Acclaim AMC motion and compute its joint positions.

    Parameters
    ----------
    path
        The AMC file (plain or gzip, any line endings).
    asf
        The skeleton, or its file; default :func:`find_asf` beside ``path``.
    fps
        Frame rate: AMC files do not record it (CMU's nominal rate is 120).
    scale
        Metres per file length unit; default from the ASF (see the module notes).
    drop_incomplete_last_frame
        Keep the complete frames of a file cut off in its last frame, instead of
        raising (CMU's ``07_12.amc`` ends that way). Incomplete frames elsewhere
        always raise.

    Returns
    -------
    MotionCapture
        ``"root"`` and every bone end, in metres, axes as in the files.

    Raises
    ------
    posekit.core.errors.PoseFileError
        If a file is malformed: a frame lacks a bone, a bone has the wrong number of
        values, a bone is unknown, a value is not a number. The error names the line.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "01.asf").write_text(
    ...     ":units\\n length 0.45\\n:bonedata\\n begin\\n name femur\\n direction 0 -1 0\\n"
    ...     " length 9\\n axis 0 0 0 XYZ\\n dof rx\\n end\\n"
    ...     ":hierarchy\\n begin\\n root femur\\n end\\n"
    ... )
    >>> _ = (folder / "01_01.amc").write_text(
    ...     ":FULLY-SPECIFIED\\n:DEGREES\\n1\\nroot 0 18 0 0 0 0\\nfemur 0\\n"
    ...     "2\\nroot 0 18 0 0 0 0\\nfemur 90\\n"
    ... )
    >>> motion = read_amc(folder / "01_01.amc")
    >>> motion.positions.shape, motion.fps
    ((2, 2, 3), 120.0)
    >>> motion.positions[1, 1].round(4)
    array([ 0.   ,  1.016, -0.508])
    """
    path = Path(path)
    if not isinstance(asf, AsfSkeleton):
        asf = read_asf(find_asf(path) if asf is None else asf)
    channels = read_amc_channels(path, asf, drop_incomplete_last_frame=drop_incomplete_last_frame)
    positions = forward_kinematics(asf, channels, scale=scale)
    return MotionCapture(asf.joint_names, asf.parents, positions, fps, str(path))


def read_amc_channels(
    path: str | Path, asf: AsfSkeleton, *, drop_incomplete_last_frame: bool = False
) -> dict[str, np.ndarray]:
    """The AMC values of every frame, ready for :func:`forward_kinematics`.

    Parameters
    ----------
    path
        The AMC file.
    asf
        Its skeleton (the bones' channels; angles are converted to its unit).
    drop_incomplete_last_frame
        As in :func:`read_amc`.

    Returns
    -------
    dict
        ``"root"`` and each bone with values, shape ``(frames, n_channels)``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "01.asf").write_text(
    ...     ":units\\n length 0.45\\n:bonedata\\n begin\\n name femur\\n direction 0 -1 0\\n"
    ...     " length 9\\n axis 0 0 0 XYZ\\n dof rx\\n end\\n:hierarchy\\n begin\\n root femur\\n end\\n"
    ... )
    >>> _ = (folder / "01_01.amc").write_text(":DEGREES\\n1\\nroot 0 18 0 0 0 0\\nfemur 30\\n")
    >>> read_amc_channels(folder / "01_01.amc", read_asf(folder / "01.asf"))["femur"]
    array([[30.]])
    """
    path = Path(path)
    lines = read_text_lines(path)
    start, angle_unit = _amc_header(path, lines, asf.angle_unit)
    counts = asf.channel_counts()
    try:
        channels = _amc_fast(lines[start:], counts)
    except _Irregular:
        channels = _amc_by_line(path, lines, start, counts, drop_incomplete_last_frame)
    if angle_unit != asf.angle_unit:
        factor = math.pi / 180.0 if angle_unit == "deg" else 180.0 / math.pi
        channels = _convert_angles(asf, channels, factor)
    return channels


def _amc_header(path: Path, lines: Sequence[str], angle_unit: str) -> tuple[int, str]:
    """Index of the first frame line, and the angle unit of the values."""
    for index, raw in enumerate(lines):
        line = _strip(raw)
        if not line:
            continue
        if line.startswith(":"):
            keyword = line.split()[0].upper()
            if keyword in (":DEGREES", ":RADIANS"):
                angle_unit = "deg" if keyword == ":DEGREES" else "rad"
            continue
        if line.isdecimal():
            return index, angle_unit
        raise PoseFileError(path, f"expected a frame number, got {line[:40]!r}", line=index + 1)
    raise PoseFileError(path, "no frames found")


def _amc_fast(body: list[str], counts: Mapping[str, int]) -> dict[str, np.ndarray]:
    """Read regular motion data column by column (every frame lists the same bones in the
    same order, no comments, no blank lines); raise :class:`_Irregular` otherwise."""
    while body and not body[-1].strip():
        body = body[:-1]
    stride = 1
    while stride < len(body) and not body[stride].strip().isdecimal():
        stride += 1
    if len(body) % stride:
        raise _Irregular
    n_frames = len(body) // stride
    labels = [line.strip() for line in body[::stride]]
    if not all(label.isdecimal() for label in labels) or not _consecutive(labels):
        raise _Irregular
    names = [line.split(None, 1)[0] if line.strip() else "" for line in body[1:stride]]
    required = {name for name, count in counts.items() if count}
    if len(set(names)) != len(names) or not required <= set(names):
        raise _Irregular
    channels = {}
    for i, name in enumerate(names, start=1):
        if name not in counts:
            raise _Irregular
        count = counts[name]
        tokens = " ".join(body[i::stride]).split()
        if len(tokens) != n_frames * (count + 1) or tokens[:: count + 1].count(name) != n_frames:
            raise _Irregular
        del tokens[:: count + 1]
        try:
            values = np.fromiter(map(float, tokens), np.float64, len(tokens))
        except ValueError:
            raise _Irregular from None
        if not np.isfinite(values).all():
            raise _Irregular
        channels[name] = values.reshape(n_frames, count)
    return channels


def _consecutive(labels: Sequence[str]) -> bool:
    """True if the frame numbers count up by one (any start)."""
    first = int(labels[0]) if labels else 0
    return all(int(label) == first + i for i, label in enumerate(labels))


def _amc_by_line(
    path: Path,
    lines: Sequence[str],
    start: int,
    counts: Mapping[str, int],
    drop_incomplete_last_frame: bool,
) -> dict[str, np.ndarray]:
    """Read motion data line by line, naming the line of any fault."""
    frames: list[dict[str, list[float]]] = []
    frame: dict[str, list[float]] | None = None
    frame_label, frame_line = "", 0

    def close(last: bool = False) -> None:
        if frame is None:
            return
        missing = [name for name, count in counts.items() if count and name not in frame]
        if missing and last and drop_incomplete_last_frame and frames:
            return
        if missing:
            raise PoseFileError(
                path,
                f"frame {frame_label} has no values for {', '.join(missing)}",
                record=f"frame {frame_label}",
                line=frame_line,
            )
        frames.append(frame)

    for number, raw in enumerate(lines[start:], start=start + 1):
        line = _strip(raw)
        if not line:
            continue
        if line.isdecimal():
            if frame is not None and not _consecutive([frame_label, line]):
                raise PoseFileError(
                    path,
                    f"frame {line[:20]} follows frame {frame_label[:20]}; frame numbers "
                    "count up by one",
                    line=number,
                )
            close()
            frame, frame_label, frame_line = {}, line, number
            continue
        if frame is None:
            raise PoseFileError(path, f"expected a frame number, got {line[:40]!r}", line=number)
        name, *tokens = line.split()
        record = f"frame {frame_label}"
        if name not in counts:
            raise PoseFileError(path, f"unknown bone {name!r}", record=record, line=number)
        if name in frame:
            raise PoseFileError(path, f"bone {name!r} given twice", record=record, line=number)
        frame[name] = _floats(path, number, tokens, counts[name], f"bone {name!r}")
    close(last=True)
    return {
        name: np.array([f.get(name, []) for f in frames], dtype=np.float64).reshape(len(frames), n)
        for name, n in counts.items()
    }


def _convert_angles(
    skeleton: AsfSkeleton, channels: Mapping[str, np.ndarray], factor: float
) -> dict[str, np.ndarray]:
    """Channels with their rotation values multiplied by ``factor``."""
    orders = {"root": skeleton.root_order, **{b.name: b.dof for b in skeleton.bones}}
    out = {}
    for name, values in channels.items():
        rotational = np.array([d[0] == "r" for d in orders[name]], dtype=bool)
        out[name] = np.where(rotational, values * factor, values)
    return out


# -- posekit reader ---------------------------------------------------------------------
# (The registered ``asf_amc`` reader: a PoseSequence of the file's own skeleton.)

#: Skeleton name of CMU's ASF bones (``skeletons/cmu_31.toml``).
CMU_SKELETON = "cmu_31"


def motion_to_sequence(
    motion: MotionCapture, *, skeleton: str | None, source_software: str
) -> PoseSequence:
    """A 3D PoseSequence (one individual) of a :class:`MotionCapture`.

    When ``skeleton`` is given and the motion has exactly its joints (in any order),
    the joints are put in the skeleton's order and the ``skeleton`` attr is set;
    otherwise the motion's own joint names are kept and ``skeleton`` is None.
    """
    names, positions = list(motion.joint_names), motion.positions
    if skeleton is not None:
        expected = list(get_skeleton(skeleton).joint_names)
        if sorted(names) == sorted(expected):
            order = [names.index(j) for j in expected]
            names, positions = expected, positions[:, order]
        else:
            skeleton = None
    return PoseSequence.from_arrays(
        positions.transpose(0, 2, 1)[..., None],
        skeleton=skeleton,
        keypoints=names,
        fps=motion.fps,
        source_software=source_software,
        source_file=motion.source_file,
    )


def _head_lines(path: Path, count: int = 50) -> list[str]:
    """The first non-empty, non-comment lines of a (possibly gzip) text file, cheaply."""
    try:
        with open(path, "rb") as handle:
            opener = gzip.open if handle.read(2) == b"\x1f\x8b" else open
        with opener(path, "rt", encoding="latin-1") as handle:
            lines = []
            for raw in handle:
                line = _strip(raw)
                if line:
                    lines.append(line)
                if len(lines) >= count:
                    break
            return lines
    except (OSError, EOFError, zlib.error):
        return []


@attrs.frozen
class AsfAmcReader:
    """Read an Acclaim AMC motion with its ASF skeleton as 3D joint positions (metres).

    The result has one joint per ASF bone end plus ``root``; with CMU's skeleton its
    ``skeleton`` attr is ``cmu_31`` (remap it to ``mpi_inf_3dhp_28``), otherwise None.

    Parameters
    ----------
    asf
        The ASF file; default ``<subject>.asf`` beside the AMC (see :func:`find_asf`).
    fps
        Frame rate (AMC files do not record it); CMU's nominal 120 by default.
    drop_incomplete_last_frame
        Keep the complete frames of a file cut off in its last frame instead of
        raising (see :func:`read_amc`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "01.asf").write_text(
    ...     ":units\\n length 0.45\\n:bonedata\\n begin\\n name femur\\n direction 0 -1 0\\n"
    ...     " length 9\\n axis 0 0 0 XYZ\\n dof rx\\n end\\n:hierarchy\\n begin\\n root femur\\n end\\n"
    ... )
    >>> _ = (folder / "01_01.amc").write_text(
    ...     ":FULLY-SPECIFIED\\n:DEGREES\\n1\\nroot 0 18 0 0 0 0\\nfemur 0\\n"
    ... )
    >>> seq = AsfAmcReader().read(folder / "01_01.amc")
    >>> seq.keypoints, seq.n_space, seq.fps, seq.skeleton
    (['root', 'femur'], 3, 120.0, None)
    """

    suffixes: ClassVar[tuple[str, ...]] = (".amc", ".amc.gz")
    asf: str | None = None
    fps: float = 120.0
    drop_incomplete_last_frame: bool = False

    @classmethod
    def sniff(cls, path: Path) -> bool:
        """True if the file (plain or gzip) starts like an AMC motion: ``:`` keywords
        such as ``:FULLY-SPECIFIED`` / ``:DEGREES``, then a frame number."""
        for line in _head_lines(path):
            if line.startswith(":"):
                if line.split()[0].upper() in (":FULLY-SPECIFIED", ":DEGREES", ":RADIANS"):
                    return True
                continue
            return line.isdecimal()
        return False

    def read(self, path: Path) -> PoseSequence:
        """Read the motion; raises :class:`~posekit.core.errors.PoseFileError` if malformed."""
        motion = read_amc(
            path, self.asf, fps=self.fps, drop_incomplete_last_frame=self.drop_incomplete_last_frame
        )
        return motion_to_sequence(
            motion, skeleton=CMU_SKELETON, source_software="Acclaim ASF/AMC"
        )


@hookimpl
def posekit_register_readers(registry: Registry) -> None:
    """Register the ASF/AMC reader."""
    registry.add_reader("asf_amc", AsfAmcReader)
