"""DeepLabCut: pose CSV files (and ``.h5`` files when ``tables`` is installed).

DeepLabCut stores poses as a pandas table with column levels ``scorer``, then
``individuals`` (multi-animal projects only), ``bodyparts`` and ``coords``; its CSV
has one header row per level, whose first cell names the level::

    scorer,DLC_resnet50_mouseJan1shuffle1_1000,DLC_resnet50_...,...
    bodyparts,snout,snout,snout,tail,...
    coords,x,y,likelihood,x,...
    0,412.3,200.1,0.99,380.0,...

``coords`` are ``x, y, likelihood`` for predictions (``deeplabcut.analyze_videos``),
``x, y`` for labelled frames (``CollectedData_*.csv``, whose rows are image paths,
possibly split over three index columns) and ``x, y, z`` for triangulated 3D poses.
The ``.h5`` file holds the same table under the key ``df_with_missing``; reading it
needs PyTables (``pip install tables``).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any, ClassVar, NoReturn

import attrs
import numpy as np

from posekit.core.errors import PoseFileError
from posekit.core.sequence import PoseSequence
from posekit.io._records import assemble, frame_number, is_hdf5_naming, read_head_bytes
from posekit.plugins.hookspecs import hookimpl
from posekit.plugins.registry import Registry, get_skeleton

_LEVELS = (("scorer", "bodyparts", "coords"), ("scorer", "individuals", "bodyparts", "coords"))
_H5_KEY = "df_with_missing"


@attrs.frozen
class _Table:
    """A DeepLabCut table: column levels and labels, row labels and values."""

    levels: tuple[str, ...]
    columns: list[tuple[str, ...]]
    index: list[Any]
    values: np.ndarray
    first_data_line: int


def _csv_table(path: Path) -> _Table:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise PoseFileError(path, f"cannot read as text: {err}") from None
    if not text.strip():
        raise PoseFileError(path, "the file is empty")
    try:
        rows = [row for row in csv.reader(io.StringIO(text)) if row]
    except csv.Error as err:
        raise PoseFileError(path, f"not valid CSV: {err}") from None
    levels = tuple(row[0] for row in rows[:4])
    levels = next((lv for lv in _LEVELS if levels[: len(lv)] == lv), ())
    if not levels:
        raise PoseFileError(
            path,
            "expected DeepLabCut's header rows 'scorer', ('individuals',) 'bodyparts', "
            "'coords' (first cell of each row)",
            line=1,
        )
    header, data = rows[: len(levels)], rows[len(levels) :]
    width = len(header[0])
    n_index = next((i for i, cell in enumerate(header[0][1:], 1) if cell), width)
    for line, row in enumerate(header, 1):
        if len(row) != width or any(row[1:n_index]) or not all(row[n_index:]):
            raise PoseFileError(
                path, f"header row {row[0]!r} does not line up with the first one", line=line
            )
    if n_index >= width:
        raise PoseFileError(path, "no data columns", line=1)
    if not data:
        raise PoseFileError(path, "no frames: the file has a header only")
    for number, row in enumerate(data, len(levels) + 1):
        if len(row) != width:
            raise PoseFileError(path, f"{len(row)} cells; the header has {width}", line=number)
    cells = np.array([row[n_index:] for row in data])
    cells[cells == ""] = "nan"
    try:
        values = cells.astype(np.float64)
    except ValueError:
        _locate_bad_cell(path, cells, header, n_index, len(levels))
    index = [row[0] if n_index == 1 else tuple(row[:n_index]) for row in data]
    columns = list(zip(*(row[n_index:] for row in header), strict=True))
    return _Table(levels, columns, index, values, len(levels) + 1)


def _locate_bad_cell(
    path: Path, cells: np.ndarray, header: list[list[str]], n_index: int, n_levels: int
) -> NoReturn:
    """Raise naming the first cell numpy cannot read as a number."""
    cells_at = ((r, c) for r, row in enumerate(cells) for c, cell in enumerate(row))
    r, c = next(((r, c) for r, c in cells_at if not _is_float(cells[r, c])), (0, 0))
    column = " ".join(h[n_index + c] for h in header[1:])
    raise PoseFileError(
        path, f"expected a number, got {str(cells[r, c])!r}", line=n_levels + r + 1, field=column
    )


def _is_float(cell: str) -> bool:
    try:
        np.array(cell).astype(np.float64)
    except ValueError:
        return False
    return True


def _h5_table(path: Path) -> _Table:
    try:
        import pandas as pd
        import tables  # noqa: F401  (pandas needs it for HDF5)
    except ImportError:
        raise PoseFileError(
            path,
            "reading DeepLabCut .h5 files needs the optional packages 'tables' and 'pandas' "
            "(pip install tables pandas); or read the .csv DeepLabCut writes next to it "
            "(analyze_videos(..., save_as_csv=True))",
        ) from None
    try:
        frame = pd.read_hdf(path, key=_H5_KEY)
    except (KeyError, ValueError, TypeError, OSError) as err:
        raise PoseFileError(path, f"no DeepLabCut table {_H5_KEY!r}: {err}") from None
    levels = tuple(str(name) for name in frame.columns.names)
    if levels not in _LEVELS:
        raise PoseFileError(path, f"column levels {levels}: expected one of {_LEVELS}")
    index = [tuple(map(str, i)) if isinstance(i, tuple) else i for i in frame.index]
    columns = [tuple(str(part) for part in column) for column in frame.columns]
    try:
        values = frame.to_numpy(dtype=np.float64)
    except (ValueError, TypeError) as err:
        raise PoseFileError(path, f"expected numbers only: {err}") from None
    return _Table(levels, columns, index, values, 1)


_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|[-+]?(inf|nan)", re.IGNORECASE)


def _frame_of(label: Any) -> int | None:
    if isinstance(label, int | np.integer):
        return int(label) if label >= 0 else None
    if isinstance(label, tuple):
        label = label[-1]
    text = str(label).strip()
    if _NUMBER.fullmatch(text):  # a bare number must be a frame index: 0, 1, 2...
        return int(text) if text.isdecimal() else None
    return frame_number(text)


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


@attrs.frozen
class DeepLabCutReader:
    """Read a DeepLabCut pose file: CSV, or ``.h5`` when PyTables is installed.

    Parameters
    ----------
    skeleton
        Skeleton whose joints the body parts are (by name, in any order); the
        keypoints are then put in the skeleton's order. Default None: keypoints are
        the body parts in file order and the sequence has no skeleton.
    fps
        Frames per second (the files have none); None gives time in frames.
    confidence_threshold
        Keypoints with a lower ``likelihood`` lose their position; confidence is kept.

    Notes
    -----
    Rows are frames: the row label is the frame number, or for labelled frames the
    image path, whose last number is the frame; the frame axis runs from 0 to the
    largest and rows not in the file are NaN. Empty cells are NaN. Individuals are
    the file's (multi-animal projects, including DeepLabCut's ``single`` for unique
    body parts, which is NaN at the other body parts), else one ``id_0``. Without a
    ``likelihood`` the confidence is 1 where the position is known.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "videoDLC_resnet50.csv"
    >>> _ = path.write_text("scorer,net,net,net\\nbodyparts,snout,snout,snout\\n"
    ...                     "coords,x,y,likelihood\\n0,1.5,2.5,0.9\\n2,1.0,2.0,0.8\\n")
    >>> seq = DeepLabCutReader().read(path)
    >>> seq.keypoints, seq.n_frames, seq.skeleton
    (['snout'], 3, None)
    """

    suffixes: ClassVar[tuple[str, ...]] = (".csv", ".h5")
    skeleton: str | None = None
    fps: float | None = None
    confidence_threshold: float | None = None

    @classmethod
    def sniff(cls, path: Path) -> bool:
        """True for a CSV whose first cell is ``scorer``, or an HDF5 file naming
        DeepLabCut's ``df_with_missing`` table near its start."""
        head = read_head_bytes(path)
        return is_hdf5_naming(head, [_H5_KEY.encode()]) or head.lstrip(
            b"\xef\xbb\xbf"
        ).startswith(b"scorer,")

    def read(self, path: Path) -> PoseSequence:
        """Read the file.

        Raises
        ------
        PoseFileError
            If the header is not DeepLabCut's, a cell is not a number (naming the
            line and the column), a frame repeats, or ``.h5`` support is missing.
        """
        path = Path(path)
        table = _h5_table(path) if path.suffix.lower() == ".h5" else _csv_table(path)
        return self._sequence(path, table)

    def _sequence(self, path: Path, table: _Table) -> PoseSequence:
        level = {name: i for i, name in enumerate(table.levels)}
        bodyparts = _unique([c[level["bodyparts"]] for c in table.columns])
        if "individuals" in level:
            individuals = _unique([c[level["individuals"]] for c in table.columns])
        else:
            individuals = ["id_0"]
        coords = {c[level["coords"]] for c in table.columns}
        unknown = coords - {"x", "y", "z", "likelihood"}
        if unknown or not {"x", "y"} <= coords:
            raise PoseFileError(
                path,
                f"coords {sorted(coords)}: expected x, y and z and/or likelihood",
                field="coords",
            )
        space = ["x", "y", "z"] if "z" in coords else ["x", "y"]
        keypoints = self._keypoints(path, bodyparts)
        n_rows, n_individuals, n_keypoints = len(table.index), len(individuals), len(keypoints)
        points = np.full((n_rows, n_individuals, n_keypoints, len(space)), np.nan)
        confidence = np.full((n_rows, n_individuals, n_keypoints), np.nan)
        seen: set[tuple[int, int, str]] = set()
        for j, column in enumerate(table.columns):
            who = individuals.index(column[level["individuals"]]) if "individuals" in level else 0
            what = keypoints.index(column[level["bodyparts"]])
            coord = column[level["coords"]]
            if (who, what, coord) in seen:
                raise PoseFileError(path, "column repeats", field=" ".join(column[1:]))
            seen.add((who, what, coord))
            if coord == "likelihood":
                confidence[:, who, what] = table.values[:, j]
            else:
                points[:, who, what, space.index(coord)] = table.values[:, j]
        for who, individual in enumerate(individuals):
            for what, bodypart in enumerate(keypoints):
                lacking = [c for c in space if (who, what, c) not in seen]
                if lacking and any((who, what, c) in seen for c in (*space, "likelihood")):
                    raise PoseFileError(
                        path, f"no {' and '.join(lacking)} column", field=f"{individual} {bodypart}"
                    )
        frames = np.empty(n_rows, dtype=np.int64)
        rows_of: dict[int, int] = {}
        for r, label in enumerate(table.index):
            frame = _frame_of(label)
            if frame is None or frame in rows_of:
                problem = (
                    "no frame number in the row label"
                    if frame is None
                    else (f"frame {frame} repeats (rows {rows_of[frame] + 1} and {r + 1})")
                )
                raise PoseFileError(
                    path, problem, line=table.first_data_line + r, record=repr(label)
                )
            rows_of[frame] = r
            frames[r] = frame
        return assemble(
            path,
            frames=np.repeat(frames, n_individuals),
            slots=np.tile(np.arange(n_individuals), n_rows),
            individuals=individuals,
            points=points.reshape(-1, n_keypoints, len(space)),
            confidence=confidence.reshape(-1, n_keypoints) if "likelihood" in coords else None,
            skeleton=self.skeleton,
            keypoints=keypoints,
            fps=self.fps,
            confidence_threshold=self.confidence_threshold,
            source_software="DeepLabCut",
        )

    def _keypoints(self, path: Path, bodyparts: list[str]) -> list[str]:
        """The keypoint order: the skeleton's when one is given, else the file's."""
        if self.skeleton is None:
            return bodyparts
        joints = list(get_skeleton(self.skeleton).joint_names)
        if sorted(joints) != sorted(bodyparts):
            missing = sorted(set(joints) - set(bodyparts))
            extra = sorted(set(bodyparts) - set(joints))
            raise PoseFileError(
                path,
                f"the body parts are not the joints of skeleton {self.skeleton!r}: "
                f"missing {missing}, not in the skeleton {extra}",
                field="bodyparts",
            )
        return joints


@hookimpl
def posekit_register_readers(registry: Registry) -> None:
    """Register the DeepLabCut reader."""
    registry.add_reader("dlc", DeepLabCutReader)
