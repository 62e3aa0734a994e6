"""The ``mediapipe_csv`` reader: MediaPipe Pose landmarks saved as a CSV file.

One row per landmark::

    frame,individual,landmark,x,y,visibility
    0,id_0,nose,0.51,0.22,0.99

A ``z`` column after ``y`` makes the poses 3D. Frames are numbered from 0; frames or
landmarks without a row are missing (NaN).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import ClassVar

import attrs
import numpy as np

from posekit.core.errors import PoseFileError
from posekit.core.sequence import PoseSequence
from posekit.plugins.hookspecs import hookimpl
from posekit.plugins.registry import Registry, get_skeleton

SKELETON = "blazepose_33"
HEADER_2D = ["frame", "individual", "landmark", "x", "y", "visibility"]
HEADER_3D = ["frame", "individual", "landmark", "x", "y", "z", "visibility"]


@attrs.frozen
class MediapipeCsvReader:
    """Read MediaPipe Pose landmarks from a CSV file (one row per landmark).

    Parameters
    ----------
    fps
        Frames per second of the video, if known.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
    >>> _ = path.write_text("frame,individual,landmark,x,y,visibility\\n0,id_0,nose,1,2,0.9\\n")
    >>> MediapipeCsvReader(fps=30).read(path).n_keypoints
    33
    """

    suffixes: ClassVar[tuple[str, ...]] = (".csv",)
    fps: float | None = None

    @classmethod
    def sniff(cls, path: Path) -> bool:
        """True if the first line is this format's header."""
        with open(path, encoding="utf-8", errors="replace") as handle:
            first = handle.readline().strip().split(",")
        return first in (HEADER_2D, HEADER_3D)

    def read(self, path: Path) -> PoseSequence:
        """Read the file."""
        joints = get_skeleton(SKELETON).joint_names
        with open(path, encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        if not rows or rows[0] not in (HEADER_2D, HEADER_3D):
            raise PoseFileError(path, f"expected the header {','.join(HEADER_2D)}", line=1)
        header, body = rows[0], rows[1:]
        dims = 3 if header == HEADER_3D else 2
        records: list[tuple[int, str, int, list[float], float]] = []
        for line, row in enumerate(body, start=2):
            if len(row) != len(header):
                raise PoseFileError(path, f"expected {len(header)} fields", line=line)
            try:
                frame = int(row[0])
                values = [float(v) for v in row[3:]]
            except ValueError as err:
                raise PoseFileError(path, f"expected numbers: {err}", line=line) from None
            if row[2] not in joints:
                raise PoseFileError(path, "not a MediaPipe landmark", line=line, field=row[2])
            if frame < 0:
                raise PoseFileError(path, "frames are numbered from 0", line=line, field="frame")
            records.append((frame, row[1], joints.index(row[2]), values[:dims], values[dims]))
        individuals = list(dict.fromkeys(record[1] for record in records))
        frames = 1 + max((record[0] for record in records), default=-1)
        position = np.full((frames, dims, len(joints), len(individuals)), np.nan)
        confidence = np.full((frames, len(joints), len(individuals)), np.nan)
        for frame, individual, joint, xyz, visibility in records:
            column = individuals.index(individual)
            position[frame, :, joint, column] = xyz
            confidence[frame, joint, column] = visibility
        return PoseSequence.from_arrays(
            position,
            confidence,
            skeleton=get_skeleton(SKELETON),
            individuals=individuals,
            fps=self.fps,
            source_software="MediaPipe",
            source_file=str(path),
        )


@hookimpl
def posekit_register_readers(registry: Registry) -> None:
    """Register the MediaPipe CSV reader."""
    registry.add_reader("mediapipe_csv", MediapipeCsvReader)
