"""Which registered reader reads a file, and which writer writes a path.

A reader is chosen by the file's suffix; when several readers claim the suffix (or
none does), by their ``sniff`` content check.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

from posekit.core.errors import PoseFileError
from posekit.plugins.registry import Entry, Registry, get_registry

if TYPE_CHECKING:
    from posekit.plugins.protocols import Reader


def choose_reader(path: str | Path, registry: Registry | None = None) -> Entry:
    """The reader for a file: by suffix, then by the readers' ``sniff``.

    Raises
    ------
    PoseFileError
        If no registered reader recognises the file.

    Examples
    --------
    >>> choose_reader("clip.nc").name
    'netcdf'
    """
    registry = registry or get_registry()
    path = Path(path)
    suffix = path.suffix.lower()
    claimed = [e for e in registry.readers.values() if suffix in _suffixes(e.cls)]
    if len(claimed) == 1:
        return claimed[0]
    for entry in claimed or list(registry.readers.values()):
        if _sniffs(entry, path):
            return entry
    known = ", ".join(f"{e.name} ({' '.join(_suffixes(e.cls))})" for e in registry.readers.values())
    raise PoseFileError(
        path, f"no reader recognises this file; name one with 'reader' (known: {known})"
    )


def choose_writer(path: str | Path, registry: Registry | None = None) -> Entry:
    """The writer whose suffix is the path's.

    Raises
    ------
    PoseFileError
        If no registered writer writes that suffix.

    Examples
    --------
    >>> choose_writer("out/clip.nc").name
    'netcdf'
    """
    registry = registry or get_registry()
    suffix = Path(path).suffix.lower()
    for entry in registry.writers.values():
        if getattr(entry.cls, "suffix", None) == suffix:
            return entry
    known = ", ".join(
        f"{e.name} ({getattr(e.cls, 'suffix', '?')})" for e in registry.writers.values()
    )
    raise PoseFileError(
        path,
        f"no writer writes {suffix or 'files without a suffix'}; name one with "
        f"'writer' (known: {known})",
    )


def _suffixes(cls: type) -> tuple[str, ...]:
    return tuple(s.lower() for s in getattr(cls, "suffixes", ()))


def _sniffs(entry: Entry, path: Path) -> bool:
    """The reader's content check; a check that fails to run counts as no."""
    try:
        return bool(cast("type[Reader]", entry.cls).sniff(path))
    except Exception:  # noqa: BLE001  (a plugin's sniff must not stop the choice)
        return False
