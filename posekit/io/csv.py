"""CSV writer: a long table with one row per frame, individual and keypoint.

Columns: ``time, individual, keypoint, x, y[, z], confidence, imputed``. ``time`` is
in seconds when the sequence has an fps, else the frame number; missing values
(NaN) are empty cells; ``imputed`` is ``true`` where a stage generated the value.
The table reads directly into pandas (``pd.read_csv``), R or a spreadsheet.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import ClassVar

import attrs
import numpy as np

from posekit.hookspecs import hookimpl
from posekit.io._atomic import atomic_file, refuse_input
from posekit.registry import Registry
from posekit.sequence import PoseSequence

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


@hookimpl
def posekit_register_writers(registry: Registry) -> None:
    """Register the CSV writer."""
    registry.add_writer("csv", CsvWriter)
