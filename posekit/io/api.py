"""Reading and writing one pose file: the implementation of :func:`posekit.read` and
:func:`posekit.write`.

A reader is the one named, else chosen by the file's suffix, then by the readers'
content check (:mod:`posekit.io.choose`); its parameters are checked as a pipeline
checks them (:func:`posekit.plugins.parameters.build`). Writers write atomically and
never over the file a sequence was read from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from posekit.core.errors import ParameterError
from posekit.core.sequence import PoseSequence
from posekit.io.choose import choose_reader, choose_writer
from posekit.plugins.parameters import build
from posekit.plugins.registry import Entry, Registry, get_registry


def read(
    path: str | Path,
    reader: str | None = None,
    *,
    registry: Registry | None = None,
    **parameters: Any,
) -> PoseSequence:
    """Read a pose file (or folder) into a PoseSequence.

    Parameters
    ----------
    path
        The file, or a folder a reader reads (OpenPose's one JSON file a frame).
    reader
        A registered reader name; default chosen by suffix, then by content.
    registry
        Where names resolve; default the shared registry.
    **parameters
        The reader's parameters (``fps=30``, ``skeleton="coco_17"``, ...).

    Raises
    ------
    PoseFileError
        If no reader recognises the file, or it cannot be read.
    ParameterError
        If a parameter is unknown or has a wrong value (every problem is listed).
    UnknownNameError
        If ``reader`` is not a registered reader.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "walk.nc"
    >>> _ = PoseSequence.from_arrays(np.zeros((3, 2, 17, 1)), skeleton="coco_17").to_netcdf(path)
    >>> read(path, fps=25).fps
    25.0
    >>> read(path, fsp=25)
    Traceback (most recent call last):
    ...
    posekit.core.errors.ParameterError: reader 'netcdf': fsp: unknown parameter; did you mean 'fps'? (known: skeleton, fps)
    """
    registry = registry or get_registry()
    path = Path(path)
    entry = (
        registry.entry("reader", reader) if reader is not None else choose_reader(path, registry)
    )
    return _built(entry, parameters).read(path)


def write(
    sequence: PoseSequence,
    path: str | Path,
    writer: str | None = None,
    *,
    registry: Registry | None = None,
    **parameters: Any,
) -> Path:
    """Write a PoseSequence to a file, atomically.

    Parameters
    ----------
    sequence
        What to write.
    path
        The output file; its suffix chooses the writer unless ``writer`` is given.
    writer
        A registered writer name.
    registry
        Where names resolve; default the shared registry.
    **parameters
        The writer's parameters (``legacy_dims=True`` for netCDF).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    PoseFileError
        If no writer writes that suffix, or ``path`` is the sequence's input.
    ParameterError
        If a parameter is unknown or has a wrong value.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> seq = PoseSequence.from_arrays(np.zeros((3, 2, 17, 1)), skeleton="coco_17")
    >>> out = write(seq, pathlib.Path(tempfile.mkdtemp()) / "walk.csv")
    >>> read(out).n_frames
    3
    """
    registry = registry or get_registry()
    path = Path(path)
    entry = (
        registry.entry("writer", writer) if writer is not None else choose_writer(path, registry)
    )
    _built(entry, parameters).write(sequence, path)
    return path


def readable_suffixes(registry: Registry | None = None) -> set[str]:
    """The file suffixes the registered readers claim, lower case.

    Examples
    --------
    >>> {".json", ".nc"} <= readable_suffixes()
    True
    """
    registry = registry or get_registry()
    return {
        suffix.lower()
        for entry in registry.readers.values()
        for suffix in getattr(entry.cls, "suffixes", ())
    }


def _built(entry: Entry, parameters: dict[str, Any]) -> Any:
    """The reader or writer object, or a ParameterError listing every problem."""
    instance, problems = build(entry.cls, parameters)
    if problems:
        listed = "; ".join(f"{p.key}: {p.message}" if p.key else p.message for p in problems)
        raise ParameterError(f"{entry.kind} {entry.name!r}: {listed}")
    return instance
