"""What readers, writers and stages look like.

Each is a class whose constructor arguments are its parameters (an attrs class, so
pipelines can check parameter names and types before any work starts) and whose
methods do the work. Register them with the hooks of :mod:`posekit.hookspecs`.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Protocol, runtime_checkable

from posekit.sequence import PoseSequence


@runtime_checkable
class Stage(Protocol):
    """A step of a pipeline: a callable from PoseSequence to PoseSequence.

    A stage that needs files of its own (a model) may also define ``check(self) ->
    None``, raising a :class:`~posekit.errors.PosekitError` naming the file; a pipeline
    calls it before any work and lists the problem with the others (exit status 2).
    """

    def __call__(self, sequence: PoseSequence) -> PoseSequence: ...


class Reader(Protocol):
    """Reads one file (or folder) into a PoseSequence.

    ``suffixes`` lists the file suffixes it claims (``(".json",)``); ``sniff`` is a
    cheap content check used when several readers claim a suffix.
    """

    suffixes: ClassVar[tuple[str, ...]]

    @classmethod
    def sniff(cls, path: Path) -> bool: ...

    def read(self, path: Path) -> PoseSequence: ...


class Writer(Protocol):
    """Writes a PoseSequence to a file.

    ``suffix`` is the file suffix it writes. Writers must write atomically (a
    temporary file, then a rename) so a failure never leaves a half-written output.
    """

    suffix: ClassVar[str]

    def write(self, sequence: PoseSequence, path: Path) -> None: ...
