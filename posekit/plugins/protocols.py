"""What readers, writers, stages and estimators look like.

Each is a class whose constructor arguments are its parameters (an attrs class, so
pipelines can check parameter names and types before any work starts) and whose
methods do the work. Register them with the hooks of :mod:`posekit.plugins.hookspecs`.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Protocol, runtime_checkable

from posekit.core.sequence import PoseSequence


@runtime_checkable
class Stage(Protocol):
    """A step of a pipeline: a callable from PoseSequence to PoseSequence.

    A stage that needs files of its own (a model) may also define ``check(self) ->
    None``, raising a :class:`~posekit.core.errors.PosekitError` naming the file; a pipeline
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


class Estimator(Protocol):
    """Estimates poses from a video file or a folder of images.

    Like a reader, but it runs a model on pixels, so pipelines use it only by name
    (``input: {estimator: NAME, path: clip.mp4}``), never by suffix. ``suffixes`` lists
    the video suffixes it reads (``(".mp4", ".avi")``); ``""`` means it reads folders of
    images. ``estimate`` returns a sequence with the estimator's skeleton, confidences,
    ``fps`` and ``source_software``, its individuals being tracks; it raises
    :class:`posekit.core.errors.PoseFileError` for a file it cannot read.
    """

    suffixes: ClassVar[tuple[str, ...]]

    def estimate(self, path: Path) -> PoseSequence: ...
