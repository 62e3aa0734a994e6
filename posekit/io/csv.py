"""posekit's CSV: a long table with one row per frame, individual and keypoint.

Columns: ``time, individual, keypoint, x, y[, z], confidence, imputed``. ``time`` is
in seconds when the sequence has an fps, else the frame number; missing values
(NaN) are empty cells; ``imputed`` is ``true`` where a stage generated the value.
The table reads directly into pandas (``pd.read_csv``), R or a spreadsheet, and back
into posekit with :class:`CsvReader`.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import ClassVar

import attrs
import numpy as np

from posekit.core.errors import PoseFileError
from posekit.core.sequence import PoseSequence
from posekit.io._atomic import atomic_file, refuse_input
from posekit.io._layout_check import same_size_skeletons
from posekit.io._values import checked_fps, usable_confidence, usable_points
from posekit.plugins.hookspecs import hookimpl
from posekit.plugins.registry import Registry

_HEADER_2D = ["time", "individual", "keypoint", "x", "y", "confidence", "imputed"]
_HEADER_3D = ["time", "individual", "keypoint", "x", "y", "z", "confidence", "imputed"]
_FLAGS = {"true": True, "false": False}

_ROWS_PER_CHUNK = 200_000


def _quoted(name: str) -> str:
    """A CSV cell for a name: quoted when it holds a comma, a quote or a line break."""
    return '"' + name.replace('"', '""') + '"' if any(c in name for c in ',"\n\r') else name


def _numbers(values: np.ndarray) -> list[str]:
    """Shortest round-trip text of floats; NaN becomes an empty cell."""
    return [repr(v) if not math.isnan(v) else "" for v in values.tolist()]


@attrs.frozen
class CsvWriter:
    """Write a long-format CSV table: ``time, individual, keypoint, x, y[, z],
    confidence, imputed``.

    Rows run through the frames; within a frame through the individuals, then the
    keypoints. Every frame, individual and keypoint has a row, missing positions and
    unknown confidences are empty cells. The table is written to a temporary file,
    then renamed.

    Examples
    --------
    >>> import tempfile
    >>> seq = PoseSequence.from_arrays(np.ones((2, 2, 17, 1)), skeleton="coco_17", fps=25)
    >>> path = Path(tempfile.mkdtemp()) / "poses.csv"
    >>> CsvWriter().write(seq, path)
    >>> path.read_text().splitlines()[:2]
    ['time,individual,keypoint,x,y,confidence,imputed', '0.0,id_0,nose,1.0,1.0,1.0,false']
    """

    suffix: ClassVar[str] = ".csv"

    def write(self, sequence: PoseSequence, path: Path) -> None:
        """Write the table atomically.

        Raises
        ------
        PoseFileError
            If ``path`` is the sequence's input.
        """
        path = Path(path)
        refuse_input(sequence, path)
        per_frame = len(sequence.individuals) * sequence.n_keypoints
        time = sequence.dataset["time"].values
        times = [str(int(t)) for t in time] if sequence.fps is None else _numbers(time)
        labels = [
            f"{_quoted(individual)},{_quoted(keypoint)}"
            for individual in sequence.individuals
            for keypoint in sequence.keypoints
        ]
        # (time, individual, keypoint[, space]) so rows run frame by frame
        position = sequence.positions().transpose(1, 0, 2, 3).reshape(-1, sequence.n_space)
        confidence = sequence.confidences().transpose(1, 0, 2).ravel()
        imputed = sequence.imputed_flags().transpose(1, 0, 2).ravel()
        space = ["x", "y", "z"][: sequence.n_space]
        frames_per_chunk = max(1, _ROWS_PER_CHUNK // max(per_frame, 1))
        with atomic_file(path) as handle:
            header = ["time", "individual", "keypoint", *space, "confidence", "imputed"]
            handle.write(",".join(header) + "\n")
            for start in range(0, sequence.n_frames, frames_per_chunk):
                stop = min(start + frames_per_chunk, sequence.n_frames)
                rows = slice(start * per_frame, stop * per_frame)
                columns = [
                    [t for t in times[start:stop] for _ in range(per_frame)],
                    labels * (stop - start),
                    *(_numbers(position[rows, d]) for d in range(sequence.n_space)),
                    _numbers(confidence[rows]),
                    np.where(imputed[rows], "true", "false").tolist(),
                ]
                handle.writelines(",".join(row) + "\n" for row in zip(*columns, strict=True))


@attrs.frozen
class CsvReader:
    """Read posekit's CSV table back (what :class:`CsvWriter` writes).

    Parameters
    ----------
    skeleton
        Skeleton name; default the registered skeleton whose joints are the table's
        keypoints, in order (the table does not name it), else none.
    fps
        Frames per second; default from the ``time`` column when it holds seconds
        (frames ``1 / fps`` apart), none when it holds frame numbers.

    Notes
    -----
    Rows may come in any order; a frame, individual and keypoint without a row is
    missing. Empty cells are NaN, ``imputed`` is ``true`` or ``false``.

    Examples
    --------
    >>> import tempfile
    >>> seq = PoseSequence.from_arrays(np.ones((3, 2, 17, 1)), skeleton="coco_17", fps=25)
    >>> path = Path(tempfile.mkdtemp()) / "poses.csv"
    >>> CsvWriter().write(seq, path)
    >>> back = CsvReader().read(path)
    >>> back.skeleton, back.fps, back.n_frames
    ('coco_17', 25.0, 3)
    """

    suffixes: ClassVar[tuple[str, ...]] = (".csv",)
    skeleton: str | None = None
    fps: float | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.gt(0))
    )

    @classmethod
    def sniff(cls, path: Path) -> bool:
        """True if the header is posekit's (``time,individual,keypoint,x,y,...``)."""
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                first = handle.readline().strip().lstrip("\ufeff").split(",")
        except OSError:
            return False
        return first in (_HEADER_2D, _HEADER_3D)

    def read(self, path: Path) -> PoseSequence:
        """Read the table.

        Raises
        ------
        PoseFileError
            If the header is not posekit's, or a row is malformed or repeats a frame,
            individual and keypoint (naming the line and the column).
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as err:
            raise PoseFileError(path, f"cannot read as text: {err}") from None
        try:
            rows = list(csv.reader(io.StringIO(text)))
        except csv.Error as err:
            raise PoseFileError(path, f"not valid CSV: {err}") from None
        if not rows or rows[0] not in (_HEADER_2D, _HEADER_3D):
            raise PoseFileError(
                path, f"expected posekit's header {','.join(_HEADER_2D)} (or with z)", line=1
            )
        header, body = rows[0], [(n, row) for n, row in enumerate(rows[1:], 2) if row]
        if not body:
            raise PoseFileError(path, "no rows after the header")
        n_space = len(header) - 5
        times, individuals, keypoints = _labels(path, body, header)
        in_seconds = any(not _is_frame_number(t) for t in times)
        order = sorted(times, key=times.__getitem__)
        frame_of = {t: f for f, t in enumerate(order)}
        n_frames, n_ind, n_kp = len(order), len(individuals), len(keypoints)
        position = np.full((n_frames, n_space, n_kp, n_ind), np.nan)
        confidence = np.full((n_frames, n_kp, n_ind), np.nan)
        imputed = np.zeros((n_frames, n_kp, n_ind), dtype=bool)
        filled = np.zeros((n_frames, n_kp, n_ind), dtype=bool)
        for line, row in body:
            t, i, k = frame_of[row[0]], individuals[row[1]], keypoints[row[2]]
            if filled[t, k, i]:
                raise PoseFileError(
                    path, f"a second row for time {row[0]}, {row[1]}, {row[2]}", line=line
                )
            filled[t, k, i] = True
            for d in range(n_space):
                position[t, d, k, i] = _number(path, row[3 + d], header[3 + d], line)
            confidence[t, k, i] = _number(path, row[3 + n_space], "confidence", line)
            flag = _FLAGS.get(row[4 + n_space])
            if flag is None:
                raise PoseFileError(
                    path, f"expected true or false, got {row[4 + n_space]!r}", field="imputed",
                    line=line,
                )  # fmt: skip
            imputed[t, k, i] = flag
        names = list(keypoints)
        fps = self.fps or (_fps([times[t] for t in order]) if in_seconds else None)
        return PoseSequence.from_arrays(
            np.moveaxis(usable_points(path, np.moveaxis(position, 1, -1)), -1, 1),
            usable_confidence(path, confidence),
            skeleton=self.skeleton or _skeleton_named(names),
            keypoints=names,
            individuals=list(individuals),
            fps=checked_fps(path, fps),
            imputed=imputed,
            source_software="posekit",
            source_file=str(path),
        )


def _labels(
    path: Path, body: list[tuple[int, list[str]]], header: list[str]
) -> tuple[dict[str, float], dict[str, int], dict[str, int]]:
    """Distinct times (with their values), individuals and keypoints (with their
    indices, in order of first appearance)."""
    times: dict[str, float] = {}
    individuals: dict[str, int] = {}
    keypoints: dict[str, int] = {}
    for line, row in body:
        if len(row) != len(header):
            raise PoseFileError(path, f"{len(row)} cells; the header has {len(header)}", line=line)
        if row[0] not in times:
            times[row[0]] = _number(path, row[0], "time", line, empty=False)
        individuals.setdefault(row[1], len(individuals))
        keypoints.setdefault(row[2], len(keypoints))
    return times, individuals, keypoints


def _number(path: Path, cell: str, field: str, line: int, *, empty: bool = True) -> float:
    if not cell and empty:
        return math.nan
    try:
        value = float(cell)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise PoseFileError(path, f"expected a number, got {cell!r}", field=field, line=line)
    return value


def _is_frame_number(cell: str) -> bool:
    return cell.lstrip("-").isdecimal()


def _fps(times: list[float]) -> float | None:
    """Frames per second of evenly spaced times (1 / spacing, to 9 digits)."""
    if len(times) < 2:
        return None
    step = (times[-1] - times[0]) / (len(times) - 1)
    return float(f"{1.0 / step:.9g}") if step > 0 else None


def _skeleton_named(keypoints: list[str]) -> str | None:
    """The registered skeleton whose joints are exactly ``keypoints``, if any."""
    return next(
        (s.name for s in same_size_skeletons(len(keypoints)) if list(s.joint_names) == keypoints),
        None,
    )


@hookimpl
def posekit_register_readers(registry: Registry) -> None:
    """Register the CSV reader."""
    registry.add_reader("csv", CsvReader)


@hookimpl
def posekit_register_writers(registry: Registry) -> None:
    """Register the CSV writer."""
    registry.add_writer("csv", CsvWriter)
