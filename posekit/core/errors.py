"""posekit's own exceptions: each names the file, the entry and what was expected."""

from __future__ import annotations

import reprlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

_BRIEF = reprlib.Repr()
_BRIEF.maxlevel, _BRIEF.maxdict, _BRIEF.maxlist, _BRIEF.maxtuple = 3, 4, 6, 6
_BRIEF.maxstring, _BRIEF.maxother, _BRIEF.maxlong = 60, 60, 40
#: Longest message an error keeps; longer ones are cut (a message may quote user data).
MAX_MESSAGE = 1000


def brief(value: Any) -> str:
    """A short ``repr`` of a user value for a message: long strings, lists and deep
    structures are cut, so quoting a huge value costs little.

    Examples
    --------
    >>> brief("x" * 100)
    "'xxxxxxxxxxxxxxxxxxxxxxxxxx...xxxxxxxxxxxxxxxxxxxxxxxxxxxx'"
    >>> brief([[[[1]]]]), brief(list(range(100)))
    ('[[[[...]]]]', '[0, 1, 2, 3, 4, 5, ...]')
    """
    return _BRIEF.repr(value)


def _capped(message: str) -> str:
    """The message, cut to MAX_MESSAGE characters."""
    if len(message) <= MAX_MESSAGE:
        return message
    return message[: MAX_MESSAGE - 30] + f" ... ({len(message)} characters)"


class PosekitError(Exception):
    """Base class of every error posekit raises on purpose."""


class _LocatedError(PosekitError):
    """An error built from a path, a message and keyword details; picklable, so an
    error raised in a worker process reaches the parent intact."""

    _keywords: tuple[str, ...] = ()
    path: str
    message: str

    def __reduce__(self) -> tuple:
        keywords = {name: getattr(self, name) for name in self._keywords}
        return (_rebuild, (type(self), self.path, self.message, keywords))


def _rebuild(cls: type, path: str, message: str, keywords: dict) -> _LocatedError:
    return cls(path, message, **keywords)


class SkeletonFileError(_LocatedError):
    """A skeleton file is malformed.

    Parameters
    ----------
    path
        The skeleton file.
    message
        What is wrong and what was expected.
    entry
        The offending entry (a joint name, a pair, a mapping key), if any.
    """

    _keywords = ("entry",)

    def __init__(self, path: str | Path, message: str, *, entry: str | None = None) -> None:
        self.path = str(path)
        self.message = message
        self.entry = entry
        where = f" (entry {entry!r})" if entry is not None else ""
        super().__init__(f"{self.path}{where}: {message}")


class PoseFileError(_LocatedError):
    """A pose or motion file cannot be read as the format it claims to be.

    Parameters
    ----------
    path
        The file.
    message
        What is wrong and what was expected.
    record
        The record (frame, person, JSON element) that is wrong, if known.
    field
        The field of that record, if known.
    line
        The line number (1-based) for text formats, if known.

    Examples
    --------
    >>> str(PoseFileError("a.json", "expected a number", record="[3]", field="keypoints"))
    'a.json, record [3], field keypoints: expected a number'
    """

    _keywords = ("record", "field", "line")

    def __init__(
        self,
        path: str | Path,
        message: str,
        *,
        record: str | None = None,
        field: str | None = None,
        line: int | None = None,
    ) -> None:
        self.path = str(path)
        self.message = message = _capped(message)
        self.record = record
        self.field = field
        self.line = line
        parts = [self.path]
        if line is not None:
            parts.append(f"line {line}")
        if record is not None:
            parts.append(f"record {record}")
        if field is not None:
            parts.append(f"field {field}")
        super().__init__(f"{', '.join(parts)}: {message}")


class UnknownNameError(PosekitError, KeyError):
    """A skeleton, reader, writer, stage or estimator name that nothing registered."""

    def __str__(self) -> str:
        return str(self.args[0])


def unknown_name_message(kind: str, name: str, known: Iterable[str]) -> str:
    """``unknown stage 'jump'; did you mean 'jumps'? known: ...``.

    Examples
    --------
    >>> unknown_name_message("estimator", "mediapipe", {})
    "unknown estimator 'mediapipe' (none is registered)"
    """
    import difflib

    names = sorted(known)
    if not names:
        return f"unknown {kind} {name!r} (none is registered)"
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown {kind} {name!r}{hint} (known: {', '.join(names)})"


class ParameterError(PosekitError, ValueError):
    """Parameters of a reader, writer or stage given in Python that it does not take,
    or values of a wrong type (a pipeline reports these as :class:`PipelineError`)."""


class PoseSequenceError(PosekitError):
    """Arrays or a dataset do not form a valid PoseSequence."""


class RemapError(PosekitError):
    """No joint mapping exists between two skeletons."""


class PipelineError(_LocatedError):
    """A pipeline file is invalid; raised before any work starts.

    Parameters
    ----------
    path
        The pipeline file (or ``"<python>"`` for pipelines built in code).
    message
        What is wrong and what was expected.
    step
        The step (``"input"``, ``"output"`` or ``"steps[2] (jumps)"``), if any.
    key
        The offending key within the step, if any.
    """

    _keywords = ("step", "key")

    def __init__(
        self,
        path: str | Path,
        message: str,
        *,
        step: str | None = None,
        key: str | None = None,
    ) -> None:
        self.path = str(path)
        self.message = message = _capped(message)
        self.step = step
        self.key = key
        parts = [self.path]
        if step is not None:
            parts.append(step)
        if key is not None:
            parts.append(f"key {key!r}")
        super().__init__(f"{', '.join(parts)}: {message}")


class InvalidPipelineError(PipelineError):
    """Every problem found in a pipeline, raised together before any work starts.

    Parameters
    ----------
    errors
        One :class:`PipelineError` per problem (at least one); the message lists them.

    Examples
    --------
    >>> err = InvalidPipelineError([PipelineError("p.yaml", "unknown stage", step="steps[1]")])
    >>> print(err)
    p.yaml: 1 problem
      p.yaml, steps[1]: unknown stage
    """

    def __init__(self, errors: list[PipelineError]) -> None:
        self.errors = tuple(errors)
        first = self.errors[0]
        self.path, self.step, self.key = first.path, None, None
        count = len(self.errors)
        lines = "\n".join(f"  {error}" for error in self.errors)
        self.message = f"{count} problem{'s' if count > 1 else ''}"
        PosekitError.__init__(self, f"{first.path}: {self.message}\n{lines}")

    def __reduce__(self) -> tuple:
        return (type(self), (list(self.errors),))


class ClusterError(PosekitError):
    """A Dask cluster cannot be used: Dask is not installed, the local cluster does not
    start, or the scheduler cannot be reached. Raised before any file is processed.

    Examples
    --------
    >>> raise ClusterError("cannot reach the Dask scheduler at tcp://nowhere:8786")
    Traceback (most recent call last):
    ...
    posekit.core.errors.ClusterError: cannot reach the Dask scheduler at tcp://nowhere:8786
    """
