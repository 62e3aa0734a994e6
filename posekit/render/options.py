"""The options of a rendering: how frames look (:class:`Style`) and which frames
(:class:`TimeRange`). Plain values, checked when built, with no drawing library needed."""

from __future__ import annotations

import re

import attrs

from posekit.core.errors import PosekitError

_TIME = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(s?)\s*$")


def frame_number(value: int | str, fps: float | None) -> int:
    """A frame number from a frame count (``45``, ``"45"``) or seconds (``"1.5s"``).

    Raises
    ------
    PosekitError
        If the value is neither, or is in seconds and the frame rate is unknown.

    Examples
    --------
    >>> frame_number("1.5s", fps=30), frame_number(45, fps=None), frame_number("7", None)
    (45, 45, 7)
    """
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise PosekitError(f"a frame number must not be negative, got {value}")
        return value
    match = _TIME.match(str(value))
    if match is None:
        raise PosekitError(f"expected a frame number (45) or seconds (1.5s), got {value!r}")
    number, seconds = match.groups()
    if not seconds:
        if "." in number:
            raise PosekitError(f"a frame number is whole; for seconds write {number}s")
        return int(number)
    if fps is None:
        raise PosekitError(
            f"{value!r} is in seconds but the sequence has no frame rate; give frames, "
            "or the frame rate (--fps, or the reader's fps parameter)"
        )
    return round(float(number) * fps)


def check_time(value: int | str | None) -> None:
    """Check the form of a start or end value before any file is read (see
    :func:`frame_number`); None passes."""
    if value is not None:
        frame_number(value, fps=1.0)


@attrs.frozen
class TimeRange:
    """Frames ``[start, end)`` as frame numbers or seconds (``"2s"``); None: the ends.

    Examples
    --------
    >>> TimeRange("1s", 40).frames(100, fps=30)
    range(30, 40)
    >>> TimeRange().frames(5, fps=None)
    range(0, 5)
    """

    start: int | str | None = None
    end: int | str | None = None

    def frames(self, n_frames: int, fps: float | None) -> range:
        """The frame numbers, clipped to the sequence.

        Raises
        ------
        PosekitError
            If the range holds no frame of the sequence.
        """
        start = 0 if self.start is None else frame_number(self.start, fps)
        end = n_frames if self.end is None else min(frame_number(self.end, fps), n_frames)
        if start >= end:
            raise PosekitError(
                f"the time range start={self.start!r}, end={self.end!r} holds no frame "
                f"of the {n_frames}-frame sequence"
            )
        return range(start, end)


@attrs.frozen
class Style:
    """How frames look.

    Parameters
    ----------
    height
        Height of each panel in pixels (at least 64); the width follows the motion's
        or the video's aspect.
    joint_names
        Label every joint with its name.

    Examples
    --------
    >>> Style(height=240).height
    240
    """

    height: int = attrs.field(default=360, validator=attrs.validators.ge(64))
    joint_names: bool = False
