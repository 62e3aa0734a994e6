"""netCDF reader and writer: posekit's native format, also movement's files."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import attrs

from posekit.hookspecs import hookimpl
from posekit.io._atomic import refuse_input
from posekit.io._values import check_dataset, checked_fps, usable_confidence, usable_points
from posekit.registry import Registry
from posekit.sequence import PoseSequence

_CLASSIC_MAGIC = (b"CDF\x01", b"CDF\x02", b"CDF\x05")
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
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
        Frames per second to set when the file has none.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.nc"
    >>> _ = PoseSequence.from_arrays(np.zeros((3, 2, 17, 1)), skeleton="coco_17").to_netcdf(path)
    >>> NetcdfReader().read(path).n_frames
    3
    """

    suffixes: ClassVar[tuple[str, ...]] = (".nc", ".nc4", ".h5")
    skeleton: str | None = None
    fps: float | None = None

    @classmethod
    def sniff(cls, path: Path) -> bool:
        """True for classic netCDF files, and HDF5 files written by the netCDF library
        (not any HDF5 file: DeepLabCut's .h5 are HDF5 too)."""
        with open(path, "rb") as handle:
            head = handle.read(1 << 16)
        if head.startswith(_CLASSIC_MAGIC):
            return True
        return head.startswith(_HDF5_MAGIC) and _NETCDF4_MARK in head

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
        if self.fps is not None and sequence.fps is None:
            sequence = sequence.with_attrs(fps=checked_fps(path, self.fps))
        return sequence


@attrs.frozen
class NetcdfWriter:
    """Write posekit's native netCDF file (readable by movement too)."""

    suffix: ClassVar[str] = ".nc"

    def write(self, sequence: PoseSequence, path: Path) -> None:
        """Write atomically; never over the file the sequence was read from."""
        refuse_input(sequence, Path(path))
        sequence.to_netcdf(path)


@hookimpl
def posekit_register_readers(registry: Registry) -> None:
    """Register the netCDF reader."""
    registry.add_reader("netcdf", NetcdfReader)


@hookimpl
def posekit_register_writers(registry: Registry) -> None:
    """Register the netCDF writer."""
    registry.add_writer("netcdf", NetcdfWriter)
