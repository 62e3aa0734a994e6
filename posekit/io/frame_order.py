"""Frames from image names: the reader option ``frame_order`` of AlphaPose and OpenPose.

An estimator names each result after its image (``12.jpg``,
``clip_000000000012_keypoints.json``); the frame is

- ``number``: the last number of the name; numbers missing in between are frames
  nobody was found in;
- ``sequential``: one frame per image, in the order the estimator listed them (the
  order of the records in an AlphaPose file, of the files' names in an OpenPose folder);
- ``file_name``: one frame per image, in the natural order of the names (``img2``
  before ``img10``);
- ``auto`` (the readers' default): ``number``, unless the numbers cannot be frame
  numbers: a name without a number, a single image, or numbers spread over more than
  :data:`SPARSE_NUMBERS` frames per image (photo collections, time stamps). Then
  ``file_name``, said in a logging message and the provenance log (``frame_order``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import attrs

from posekit.core.errors import PoseFileError
from posekit.core.sequence import PoseSequence
from posekit.io._records import MAX_FRAME_DIGITS, frame_number

logger = logging.getLogger(__name__)

#: How a reader numbers frames.
FrameOrder = Literal["auto", "number", "sequential", "file_name"]
#: The values of :data:`FrameOrder`.
FRAME_ORDERS: tuple[str, ...] = ("auto", "number", "sequential", "file_name")
#: ``auto``: numbers spanning more frames than this per image are no frame numbers.
SPARSE_NUMBERS = 100

_DIGIT_RUNS = re.compile(r"(\d+)")


def natural_key(value: int | str) -> list[tuple[int, int, str]]:
    """Sort key of names with numbers in them: ``img2`` before ``img10``.

    Examples
    --------
    >>> sorted(["img10.jpg", "img2.jpg", "img1.jpg"], key=natural_key)
    ['img1.jpg', 'img2.jpg', 'img10.jpg']
    """
    if isinstance(value, int):
        return [(0, value, "")]
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in _DIGIT_RUNS.split(value)]


def number_of(name: int | str) -> int | None:
    """The frame number of an image name, or of an integer image id.

    Examples
    --------
    >>> number_of(12), number_of("clip_000000000012_keypoints.json"), number_of("cat.jpg")
    (12, 12, None)
    """
    if isinstance(name, int):
        return name if 0 <= name < 10**MAX_FRAME_DIGITS else None
    return frame_number(name)


@attrs.frozen
class Frames:
    """The frame of every image name, and how it was found.

    ``reason`` says why ``auto`` did not use the numbers (None when it did, or when
    the order was asked for).
    """

    of: dict[int | str, int]
    n_frames: int
    order: str
    reason: str | None = None

    def logged(self, sequence: PoseSequence) -> PoseSequence:
        """``sequence`` with a ``frame_order`` log entry when ``auto`` chose the order."""
        if self.reason is None:
            return sequence
        return sequence.with_log("frame_order", {"frame_order": self.order, "reason": self.reason})


def number_frames(
    path: Path,
    names: Sequence[int | str],
    order: str,
    *,
    records: Sequence[str | None],
    field: str | None = None,
) -> Frames:
    """Frames of distinct image names, as ``order`` says (see the module docstring).

    Parameters
    ----------
    path
        The file or folder read (for errors and messages).
    names
        Distinct image names (or integer ids) in the order the estimator listed them.
    order
        One of :data:`FRAME_ORDERS`.
    records, field
        The record of each name and the field holding it, for errors.

    Raises
    ------
    PoseFileError
        With ``number`` (or ``auto``), when a name has no number or two names share
        one (naming the records).

    Examples
    --------
    >>> frames = number_frames(Path("a.json"), ["3.jpg", "1.jpg"], "number", records=["[0]", "[1]"])
    >>> frames.of, frames.n_frames
    ({'3.jpg': 3, '1.jpg': 1}, 4)
    >>> number_frames(Path("a.json"), ["im1010.jpg"], "auto", records=["[0]"]).of
    {'im1010.jpg': 0}
    """
    if order not in FRAME_ORDERS:
        raise ValueError(f"frame_order must be one of {', '.join(FRAME_ORDERS)}, got {order!r}")
    if not names:
        return Frames({}, 0, order)
    if order == "sequential":
        return Frames({name: i for i, name in enumerate(names)}, len(names), order)
    if order == "file_name":
        return _by_name(names, order)
    numbers = [number_of(name) for name in names]
    reason = _implausible(names, numbers) if order == "auto" else None
    if reason is not None:
        frames = _by_name(names, "file_name", reason)
        logger.warning(
            "%s: %s, so they are no frame numbers; frames are the %d images in name order "
            "(frame_order: file_name; set frame_order: number to keep the numbers)",
            path, reason, len(names),
        )  # fmt: skip
        return frames
    first: dict[int, int] = {}
    for i, (name, number) in enumerate(zip(names, numbers, strict=True)):
        if number is None:
            raise PoseFileError(
                path,
                f"no frame number in {name!r} (expected e.g. '12.jpg' or 12); "
                "frame_order 'file_name' or 'sequential' numbers images without numbers",
                record=records[i],
                field=field,
            )
        if number in first:
            other = names[first[number]]
            raise PoseFileError(
                path,
                f"{other} and {name} are both frame {number} (images of two videos?); "
                "frame_order 'file_name' or 'sequential' gives every image its own frame",
                record=records[i],
                field=field,
            )
        first[number] = i
    return Frames({names[i]: number for number, i in first.items()}, max(first) + 1, "number")


def _by_name(names: Sequence[int | str], order: str, reason: str | None = None) -> Frames:
    ranked = sorted(names, key=natural_key)
    return Frames({name: i for i, name in enumerate(ranked)}, len(ranked), order, reason)


def _implausible(names: Sequence[int | str], numbers: Sequence[int | None]) -> str | None:
    """Why the numbers of image names cannot be frame numbers, or None if they can."""
    if any(n is None for n in numbers):
        name = next(name for name, n in zip(names, numbers, strict=True) if n is None)
        return f"image {name!r} has no number"
    if len(names) == 1 and numbers[0] != 0:
        return f"a single image, {names[0]!r}, would be frame {numbers[0]}"
    span = max(n for n in numbers if n is not None) + 1
    if span > SPARSE_NUMBERS * len(names):
        return f"numbers up to {span - 1} for {len(names)} images"
    return None
