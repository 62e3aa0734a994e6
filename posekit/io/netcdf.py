"""netCDF reader and writer: posekit's native format, also movement's files.

posekit writes movement's current dim names (``keypoint``, ``individual``, movement >=
0.17) unless asked for the legacy ones (``keypoints``, ``individuals``, movement <=
0.16), and reads both.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import attrs
import numpy as np

from posekit.core.sequence import PoseSequence
from posekit.io._atomic import refuse_input
from posekit.io._notes import noted
from posekit.io._records import is_hdf5_naming, read_head_bytes
from posekit.io._values import check_dataset, checked_fps, usable_confidence, usable_points
from posekit.plugins.hookspecs import hookimpl
from posekit.plugins.registry import Registry

_CLASSIC_MAGIC = (b"CDF\x01", b"CDF\x02", b"CDF\x05")
#: netCDF-4 files are HDF5 files whose root group carries this attribute.
_NETCDF4_MARK = b"_NCProperties"


@attrs.frozen
class NetcdfReader:
    """Read a posekit or movement netCDF file.

    Parameters
    ----------
    skeleton
        Skeleton name to set when the file has none (movement files do not say).
    fps
        Frames per second when the file has none: its time axis, in frames, becomes
        seconds (as every reader's ``fps`` does). A file with an fps keeps its own,
        with a warning when this one differs.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.nc"
    >>> _ = PoseSequence.from_arrays(np.zeros((3, 2, 17, 1)), skeleton="coco_17").to_netcdf(path)
    >>> NetcdfReader().read(path).n_frames
    3
    >>> NetcdfReader(fps=50).read(path).dataset["time"].values.tolist()
    [0.0, 0.02, 0.04]
    """

    suffixes: ClassVar[tuple[str, ...]] = (".nc", ".nc4", ".h5")
    skeleton: str | None = None
    fps: float | None = None

    @classmethod
    def sniff(cls, path: Path) -> bool:
        """True for classic netCDF files, and HDF5 files written by the netCDF library
        (not any HDF5 file: DeepLabCut's .h5 are HDF5 too)."""
        head = read_head_bytes(path)
        return head.startswith(_CLASSIC_MAGIC) or is_hdf5_naming(head, [_NETCDF4_MARK])

    def read(self, path: Path) -> PoseSequence:
        """Read the file, with the value rules of :mod:`posekit.io._values`."""
        sequence = PoseSequence.read_netcdf(path)
        check_dataset(path, sequence.dataset)
        read_position, read_confidence = sequence.positions(), sequence.confidences()
        position = usable_points(path, read_position)
        confidence = usable_confidence(path, read_confidence)
        if position is not read_position or confidence is not read_confidence:
            sequence = sequence.replace(position=position, confidence=confidence)
        if self.skeleton is not None and sequence.skeleton is None:
            sequence = sequence.with_attrs(skeleton=self.skeleton)
        given, fps = checked_fps(path, self.fps), sequence.fps
        if given is not None and fps is None:
            time = sequence.dataset["time"].values.astype(np.float64) / given
            dataset = sequence.dataset.assign_coords(time=time)
            sequence = PoseSequence(dataset).with_attrs(fps=given, time_unit="seconds")
        elif given is not None and fps is not None and not np.isclose(given, fps):
            sequence = noted(
                sequence,
                "netcdf",
                f"{path}: the file says {fps:g} fps; the reader parameter fps "
                f"{given:g} is not used",
            )
        return sequence


@attrs.frozen
class NetcdfWriter:
    """Write posekit's native netCDF file, a movement poses dataset.

    Parameters
    ----------
    legacy_dims
        Write movement's dim names before 0.17 (``keypoints``, ``individuals``) for
        movement <= 0.16; default the current ``keypoint``, ``individual``.

    Examples
    --------
    >>> import tempfile, xarray as xr
    >>> seq = PoseSequence.from_arrays(np.zeros((3, 2, 17, 1)), skeleton="coco_17")
    >>> path = Path(tempfile.mkdtemp()) / "a.nc"
    >>> NetcdfWriter(legacy_dims=True).write(seq, path)
    >>> sorted(xr.open_dataset(path).sizes)
    ['individuals', 'keypoints', 'space', 'time']
    """

    suffix: ClassVar[str] = ".nc"
    legacy_dims: bool = False

    def write(self, sequence: PoseSequence, path: Path) -> None:
        """Write atomically; never over the file the sequence was read from."""
        refuse_input(sequence, Path(path))
        sequence.to_netcdf(path, legacy_dims=self.legacy_dims)


@hookimpl
def posekit_register_readers(registry: Registry) -> None:
    """Register the netCDF reader."""
    registry.add_reader("netcdf", NetcdfReader)


@hookimpl
def posekit_register_writers(registry: Registry) -> None:
    """Register the netCDF writer."""
    registry.add_writer("netcdf", NetcdfWriter)
