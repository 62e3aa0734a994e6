"""Atomic writes for the writers: a temporary file (or folder), then a rename.

A failure while writing leaves the previous output (or nothing) in place, never a
half-written one; no writer ever writes over the file its sequence was read from.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from posekit.core.atomic import atomic_path, clean_stale, publish, sync_folder, sync_tree
from posekit.core.errors import PoseFileError
from posekit.core.sequence import PoseSequence


def refuse_input(sequence: PoseSequence, path: Path) -> None:
    """Raise if ``path`` is the file or folder the sequence was read from (its
    ``source_file`` attr, or the netCDF file xarray opened it from).

    Examples
    --------
    >>> import numpy as np
    >>> seq = PoseSequence.from_arrays(np.zeros((1, 2, 17, 1)), skeleton="coco_17")
    >>> refuse_input(seq, Path("out.json"))
    """
    sources = (
        sequence.dataset.attrs.get("source_file"),
        sequence.dataset.encoding.get("source"),  # the netCDF file it was opened from
    )
    if any(source and Path(source).resolve() == Path(path).resolve() for source in sources):
        raise PoseFileError(
            path,
            "this is the sequence's input; write to another path (inputs are never overwritten)",
        )


@contextmanager
def atomic_file(path: Path) -> Iterator[TextIO]:
    """Open a temporary text file next to ``path``; rename it to ``path`` on success.

    Examples
    --------
    >>> folder = Path(tempfile.mkdtemp())
    >>> with atomic_file(folder / "a.txt") as handle:
    ...     _ = handle.write("hello")
    >>> (folder / "a.txt").read_text()
    'hello'
    """
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as handle:
        yield handle


@contextmanager
def atomic_folder(path: Path, replaceable: Callable[[Path], bool]) -> Iterator[Path]:
    """Fill a temporary folder next to ``path``; swap it in for ``path`` on success.

    An existing ``path`` is replaced only if every entry in it is ``replaceable``
    (a file this writer would write), so a writer never deletes unrelated files.

    Examples
    --------
    >>> folder = Path(tempfile.mkdtemp()) / "out"
    >>> with atomic_folder(folder, lambda p: p.suffix == ".json") as tmp:
    ...     _ = (tmp / "0.json").write_text("{}")
    >>> sorted(p.name for p in folder.iterdir())
    ['0.json']
    """
    if path.exists():
        if not path.is_dir():
            raise PoseFileError(path, "exists and is not a folder")
        strangers = [p.name for p in path.iterdir() if not replaceable(p)]
        if strangers:
            raise PoseFileError(
                path,
                f"the folder holds other files ({', '.join(sorted(strangers)[:3])}, ...); "
                "write to a new or empty folder",
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        sync_tree(tmp)
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old / path.name)
            publish(tmp, path, folder=True)
            shutil.rmtree(old)
        else:
            publish(tmp, path, folder=True)
        sync_folder(path.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
