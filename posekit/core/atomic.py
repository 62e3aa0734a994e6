"""Atomic, durable output: write a temporary file beside the target, flush it to disk,
then rename it into place.

A failure while writing leaves the previous output (or nothing), never a half-written
file; after the rename the data and the folder entry are ``fsync``-ed, so a power cut
cannot leave an empty file under the final name. Temporary files are named
``.NAME.XXXXXXXX.tmp``; those a killed run left behind are removed by the next write of
the same output (two processes must not write the same output at once). The published
file gets the usual permissions (``0o666`` less the umask), not the private ``0o600`` of
temporary files.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def publish(tmp: str | Path, path: str | Path, *, folder: bool = False) -> None:
    """Give ``tmp`` the default permissions and rename it to ``path``."""
    os.chmod(tmp, (0o777 if folder else 0o666) & ~_umask())
    os.replace(tmp, path)


def sync_file(path: str | Path) -> None:
    """Flush a file's data to disk."""
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def sync_folder(folder: str | Path) -> None:
    """Flush a folder's entries (a rename into it) to disk, where the system allows."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:  # some systems cannot open folders; nothing to flush there
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def sync_tree(folder: str | Path) -> None:
    """Flush every file below a folder, and the folders, to disk."""
    for root, _, files in os.walk(folder):
        for name in files:
            sync_file(Path(root) / name)
        sync_folder(root)


def stale_temporaries(path: str | Path) -> list[Path]:
    """Temporary files and folders that an interrupted write of ``path`` left beside it.

    Examples
    --------
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / ".a.nc.k2j4_x9q.tmp").write_text("half")
    >>> _ = (folder / ".b.nc.k2j4_x9q.tmp").write_text("another output's")
    >>> [p.name for p in stale_temporaries(folder / "a.nc")]
    ['.a.nc.k2j4_x9q.tmp']
    """
    path = Path(path)
    pattern = re.compile(rf"\.{re.escape(path.name)}\.[A-Za-z0-9_]{{8}}\.(tmp|old)")
    try:
        names = os.listdir(path.parent)
    except OSError:
        return []
    return sorted(path.parent / name for name in names if pattern.fullmatch(name))


def clean_stale(path: str | Path) -> None:
    """Remove what :func:`stale_temporaries` finds."""
    for stale in stale_temporaries(path):
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path``; renamed to ``path`` if the block succeeds.

    Examples
    --------
    >>> folder = Path(tempfile.mkdtemp())
    >>> with atomic_path(folder / "a.txt") as tmp:
    ...     _ = tmp.write_text("hello")
    >>> (folder / "a.txt").read_text(), len(list(folder.iterdir()))
    ('hello', 1)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(path)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        yield Path(tmp)
        sync_file(tmp)
        publish(tmp, path)
        sync_folder(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
