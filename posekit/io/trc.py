"""TRC marker files: OpenSim's track-row-column format, Pose2Sim's 3D output.

A TRC file is tab-separated text (OpenSim's "Marker (.trc) Files" documentation)::

    PathFileType  4  (X/Y/Z)  walk.trc
    DataRate  CameraRate  NumFrames  NumMarkers  Units  OrigDataRate  ...
    60.00     60.00       120        22          m      60.00         ...
    Frame#  Time  RHip        RKnee       ...
                  X1  Y1  Z1  X2  Y2  Z2  ...
    1       0.000 0.1 0.9 0.0 ...

The fourth line names each marker above its ``X`` column; each later line is a
frame: its number, its time, then ``x, y, z`` per marker, an empty cell (or NaN) where
a marker is missing. ``DataRate`` is the fps; ``Units`` (``m``, ``cm``, ``mm``) the
length unit, converted to metres. Axes are kept as in the file (OpenSim's Y is up).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import ClassVar

import attrs
import numpy as np

from posekit.core.errors import PoseFileError
from posekit.core.sequence import PoseSequence
from posekit.io._notes import noted
from posekit.io._values import is_fps, is_number, usable_points
from posekit.io.asf_amc import read_text_lines
from posekit.plugins.hookspecs import hookimpl
from posekit.plugins.registry import Registry, get_skeleton

#: Metres per unit of the ``Units`` field.
UNITS: dict[str, float] = {"m": 1.0, "cm": 0.01, "mm": 0.001}
_HEADER_FIELDS = ("DataRate", "NumFrames", "NumMarkers", "Units")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def snake_case(marker: str) -> str:
    """A marker name in posekit's joint-name style: ``RShoulder`` -> ``right_shoulder``.

    A leading ``R``/``L`` before a capital (OpenPose's and Pose2Sim's names) or an
    ``R_``/``L_``/``r_``/``l_`` prefix is the side.

    Examples
    --------
    >>> snake_case("RShoulder"), snake_case("LBigToe"), snake_case("Nose"), snake_case("r_knee")
    ('right_shoulder', 'left_big_toe', 'nose', 'right_knee')
    """
    side = ""
    match = re.match(r"^([RL])(?:_|(?=[A-Z]))(.+)$", marker) or re.match(r"^([rl])_(.+)$", marker)
    if match:
        side = "right_" if match.group(1).upper() == "R" else "left_"
        marker = match.group(2)
    return side + _CAMEL.sub("_", marker).replace("-", "_").replace(" ", "_").lower()


@attrs.frozen
class TrcReader:
    """Read a TRC marker file (OpenSim, Pose2Sim, motion-capture exports).

    Parameters
    ----------
    skeleton
        A posekit skeleton to lay the markers out in: each joint takes the marker of
        its name in :func:`snake_case` (``RShoulder`` for ``right_shoulder``; ``Head``
        for ``head_top`` when the skeleton has no ``head``, as Pose2Sim names
        BODY_25B's head top); joints without a marker are missing, markers without a
        joint are dropped, both with a warning. Default: the file's own markers, no
        skeleton.
    scale
        Metres per file unit, overriding the ``Units`` field.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "a.trc"
    >>> _ = path.write_text(
    ...     "PathFileType\\t4\\t(X/Y/Z)\\ta.trc\\n"
    ...     "DataRate\\tCameraRate\\tNumFrames\\tNumMarkers\\tUnits\\n"
    ...     "50\\t50\\t2\\t2\\tmm\\n"
    ...     "Frame#\\tTime\\tRHip\\t\\t\\tLHip\\t\\t\\n"
    ...     "\\t\\tX1\\tY1\\tZ1\\tX2\\tY2\\tZ2\\n"
    ...     "1\\t0.00\\t100\\t900\\t0\\t-100\\t900\\t0\\n"
    ...     "2\\t0.02\\t110\\t900\\t0\\t\\t\\t\\n"
    ... )
    >>> seq = TrcReader().read(path)
    >>> seq.keypoints, seq.fps, seq.positions()[0, 1, 0].tolist()
    (['RHip', 'LHip'], 50.0, [0.11, 0.9, 0.0])
    """

    suffixes: ClassVar[tuple[str, ...]] = (".trc",)
    skeleton: str | None = None
    scale: float | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.gt(0))
    )

    @classmethod
    def sniff(cls, path: Path) -> bool:
        """True if the first line starts with ``PathFileType``."""
        try:
            with open(path, "rb") as handle:
                return handle.read(64).lstrip(b"\xef\xbb\xbf").startswith(b"PathFileType")
        except OSError:
            return False

    def read(self, path: Path) -> PoseSequence:
        """Read the file.

        Raises
        ------
        PoseFileError
            If the header or a frame line is malformed (naming the line), or the unit
            is unknown and no ``scale`` is given.
        """
        path = Path(path)
        lines = read_text_lines(path)
        if len(lines) < 5 or not lines[0].startswith("PathFileType"):
            raise PoseFileError(path, "expected a TRC file: 'PathFileType' then four header lines")
        header = dict(zip(lines[1].split("\t"), lines[2].split("\t"), strict=False))
        header = {key.strip(): value.strip() for key, value in header.items()}
        missing = [field for field in _HEADER_FIELDS if field not in header]
        if missing:
            raise PoseFileError(path, f"the header lacks {', '.join(missing)}", line=2)
        fps = _positive(path, header["DataRate"], "DataRate")
        scale = self.scale
        if scale is None:
            if header["Units"] not in UNITS:
                raise PoseFileError(
                    path,
                    f"unknown unit {header['Units']!r} (known: {', '.join(UNITS)}); pass the "
                    "reader parameter 'scale' (metres per unit)",
                    field="Units",
                    line=3,
                )
            scale = UNITS[header["Units"]]
        markers = [cell.strip() for cell in lines[3].split("\t")[2::3]]
        markers = [m for m in markers if m]
        if not markers or len(set(markers)) != len(markers):
            raise PoseFileError(path, "expected distinct marker names", line=4)
        values = _frame_values(path, lines[5:], len(markers))
        points = usable_points(path, values.reshape(len(values), len(markers), 3)) * scale
        position = points.transpose(0, 2, 1)[..., None]
        if self.skeleton is None:
            return PoseSequence.from_arrays(
                position, keypoints=markers, fps=fps, source_software="TRC",
                source_file=str(path),
            )  # fmt: skip
        return self._in_skeleton(path, position, markers, fps)

    def _in_skeleton(
        self, path: Path, position: np.ndarray, markers: list[str], fps: float
    ) -> PoseSequence:
        skeleton = get_skeleton(self.skeleton)  # type: ignore[arg-type]
        by_name = {snake_case(marker): k for k, marker in enumerate(markers)}
        if "head" not in skeleton.joint_names and "head" in by_name:
            by_name.setdefault("head_top", by_name["head"])
        index = [by_name.get(joint) for joint in skeleton.joint_names]
        laid = np.full(position.shape[:2] + (skeleton.n_joints, 1), np.nan)
        for joint, k in enumerate(index):
            if k is not None:
                laid[:, :, joint] = position[:, :, k]
        sequence = PoseSequence.from_arrays(
            laid, skeleton=skeleton.name, fps=fps, source_software="TRC", source_file=str(path)
        )
        absent = [j for j, k in zip(skeleton.joint_names, index, strict=True) if k is None]
        dropped = [m for k, m in enumerate(markers) if k not in index]
        if absent or dropped:
            sequence = noted(
                sequence,
                "trc",
                f"{path}: laid out as {skeleton.name!r}: no marker for "
                f"{', '.join(absent) or 'no joint'} (missing); markers without a joint "
                f"dropped: {', '.join(dropped) or 'none'}",
            )
        return sequence


def _positive(path: Path, text: str, field: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not is_fps(value):
        raise PoseFileError(path, f"expected a positive number, got {text!r}", field=field, line=3)
    return value


def _frame_values(path: Path, lines: list[str], n_markers: int) -> np.ndarray:
    """``(frames, 3 * markers)`` values of the frame lines (empty cells: NaN; infinite
    ones are left for the value rules of :mod:`posekit.io._values`)."""
    rows = []
    width = 2 + 3 * n_markers
    for number, line in enumerate(lines, start=6):
        if not line.strip():
            continue
        cells = line.rstrip("\r\n").split("\t") if "\t" in line else line.split()
        cells += [""] * (width - len(cells))  # writers drop trailing empty cells
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            raise PoseFileError(
                path, f"{len(cells)} values; expected {width} (frame, time, x y z each)",
                line=number,
            )  # fmt: skip
        try:
            row = [float(c) if c.strip() else math.nan for c in cells[2:width]]
        except ValueError:
            bad = next(c for c in cells[2:width] if c.strip() and not is_number(c))
            raise PoseFileError(path, f"expected a number, got {bad!r}", line=number) from None
        rows.append(row)
    if not rows:
        raise PoseFileError(path, "no frames after the header")
    return np.array(rows, dtype=np.float64)



@hookimpl
def posekit_register_readers(registry: Registry) -> None:
    """Register the TRC reader."""
    registry.add_reader("trc", TrcReader)
