"""Shared steps of the pose-estimator readers.

Every estimator writes *records*: one detected person in one frame, with a frame
(an image name or a frame id), maybe a track id, and ``K`` keypoints. The readers
parse their own layout into flat numpy arrays and hand them to :func:`assemble`,
which lays them out on a frame grid (``0 .. last frame``; frames nobody was found in
are NaN rows) and builds the :class:`~posekit.core.sequence.PoseSequence`.

The helpers here raise :class:`~posekit.core.errors.PoseFileError` naming the file, the
record and the field, so every reader reports malformed input the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeGuard

import attrs
import numpy as np

from posekit.core.errors import PoseFileError
from posekit.core.sequence import PoseSequence
from posekit.io._values import checked_fps, usable_confidence, usable_points

#: Frame numbers have at most this many digits (larger ones are no frame numbers).
MAX_FRAME_DIGITS = 15
#: A frame grid this large (bytes) that is over 99 % empty means a bad frame number.
SPARSE_GRID_BYTES = 64 * 1024**2

_LAST_NUMBER = re.compile(r"(\d+)\D*$")


def load_json(path: Path) -> Any:
    """Parse a JSON file, turning every failure into a :class:`PoseFileError`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.json"
    >>> _ = path.write_text('{"people": []}')
    >>> load_json(path)
    {'people': []}
    """
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise PoseFileError(path, f"cannot read: {err.strerror or err}") from None
    if not raw.strip():
        raise PoseFileError(path, "the file is empty")
    try:
        return json.loads(raw)
    except json.JSONDecodeError as err:
        raise PoseFileError(path, f"not valid JSON: {err.msg}", line=err.lineno) from None
    except (UnicodeDecodeError, RecursionError) as err:
        raise PoseFileError(path, f"not valid JSON: {err}") from None


def json_array_items(path: Path) -> Iterator[Any] | None:
    """The items of a file whose JSON value is an array, parsed one at a time.

    ``None`` when the value is not an array (read it with :func:`load_json`). Long
    estimator files are arrays of small records: parsing them one by one keeps memory
    to one record's objects instead of the whole file's (an hour of AlphaPose output
    is ~200 MB of text and ~1 GB of Python objects). What the streaming parser
    refuses is read whole with :func:`load_json`, so the values and the errors
    (:class:`PoseFileError`, with the line) are those of Python's ``json``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.json"
    >>> _ = path.write_text('[{"score": 0.5}, {"score": 1}]')
    >>> list(json_array_items(path))
    [{'score': 0.5}, {'score': 1}]
    >>> _ = path.write_text('{"people": []}')
    >>> json_array_items(path) is None
    True
    """
    first = read_head(path, 4096).lstrip("\ufeff \t\r\n")[:1]
    if first != "[":
        return None
    return _items(path)


def _items(path: Path) -> Iterator[Any]:
    import ijson  # only the readers of long JSON arrays need it

    count = 0
    try:
        with open(path, "rb") as handle:
            for item in ijson.items(handle, "item", use_float=True):
                count += 1
                yield item
    except ijson.JSONError:
        # What the streaming parser refuses but Python's json reads (NaN, Infinity,
        # 1e999, a byte-order mark) is read whole; a real syntax error is reported
        # by load_json with its line.
        data = load_json(path)
        if not isinstance(data, list):
            raise PoseFileError(path, "expected a JSON array") from None
        yield from data[count:]
    except OSError as err:
        raise PoseFileError(path, f"cannot read: {err.strerror or err}") from None


#: The first bytes of every HDF5 file (DeepLabCut .h5, SLEAP, netCDF-4).
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def read_head_bytes(path: Path, size: int = 65536) -> bytes:
    """The first ``size`` bytes of a file (for ``sniff``); b"" if unreadable."""
    try:
        with open(path, "rb") as handle:
            return handle.read(size)
    except OSError:
        return b""


def read_head(path: Path, size: int = 65536) -> str:
    """The first ``size`` bytes of a file as text (for ``sniff``); "" if unreadable."""
    return read_head_bytes(path, size).decode("utf-8", errors="replace")


def is_hdf5_naming(head: bytes, names: Sequence[bytes]) -> bool:
    """True when ``head`` (a file's first bytes) is an HDF5 file's and holds every one
    of ``names`` (datasets, groups or attributes written near the start).

    Examples
    --------
    >>> is_hdf5_naming(HDF5_MAGIC + b"..df_with_missing..", [b"df_with_missing"])
    True
    >>> is_hdf5_naming(b"scorer,df_with_missing", [b"df_with_missing"])
    False
    """
    return head.startswith(HDF5_MAGIC) and all(name in head for name in names)


def frame_number(name: str) -> int | None:
    """The frame number in a file or image name: the last run of digits of its stem.

    None when the stem has no digits (or more than :data:`MAX_FRAME_DIGITS`).

    Examples
    --------
    >>> frame_number("12.jpg"), frame_number("clip_000000000042_keypoints.json")
    (12, 42)
    >>> frame_number("labeled-data/mouse/img0007.png"), frame_number("cat.jpg")
    (7, None)
    """
    stem = name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    if stem.endswith("_keypoints.json"):
        stem = stem[: -len("_keypoints.json")]
    elif "." in stem.lstrip("."):
        stem = stem[: stem.rindex(".")]
    match = _LAST_NUMBER.search(stem)
    if match is None or len(match.group(1)) > MAX_FRAME_DIGITS:
        return None
    return int(match.group(1))


def individual_numbers(individuals: Sequence[str]) -> list[int]:
    """Numbers for individual ids in files that want numbers (track ids).

    The trailing number of each id (``id_3`` -> 3) when every id has a distinct one,
    else the position in the list. Readers name individuals ``id_<number>``, so ids
    round-trip.

    Examples
    --------
    >>> individual_numbers(["id_0", "id_7"]), individual_numbers(["alice", "bob"])
    ([0, 7], [0, 1])
    """
    numbers = [re.search(r"(\d+)$", name) for name in individuals]
    values = [int(m.group(1)) for m in numbers if m is not None]
    if len(values) == len(individuals) and len(set(values)) == len(values):
        return values
    return list(range(len(individuals)))


def is_number(value: object) -> TypeGuard[int | float]:
    """True for JSON numbers (int or float, not bool)."""
    return type(value) in (int, float)


def is_id(value: object) -> TypeGuard[int | str]:
    """True for a JSON id: an int (not bool) or a string.

    Examples
    --------
    >>> is_id(3), is_id("a.jpg"), is_id(True), is_id(1.0)
    (True, True, False, False)
    """
    return type(value) in (int, str)


def as_float(value: object) -> float | None:
    """A JSON number as a float; None for anything else (or an int too large).

    Examples
    --------
    >>> as_float(2), as_float("2"), as_float(10**400)
    (2.0, None, None)
    """
    if not is_number(value):
        return None
    try:
        return float(value)
    except OverflowError:
        return None


def track_id(value: object) -> int | None:
    """A track id given as a number or a (nested) list holding one, e.g. ``[[1.0]]``.

    The first number of a list is used (AlphaPose writes the ids of every box merged
    into a pose; the first is the pose's own). Returns None when ``value`` is no
    integral number.

    Examples
    --------
    >>> track_id(3), track_id([[1.0]]), track_id([-1]), track_id("a")
    (3, 1, -1, None)
    """
    while isinstance(value, list) and value:
        value = value[0]
    number = as_float(value)
    if number is not None and abs(number) < 2**53 and number == int(number):
        return int(number)
    return None


def numeric_rows(
    rows: Sequence[Any], locate: Callable[[int], tuple[Path, str]], field: str, ndim: int = 2
) -> np.ndarray:
    """Stack equally shaped (nested) lists of JSON numbers into a float array, fast.

    ``ndim`` is the dimension of the result (2 for flat rows, 3 for rows of
    ``[x, y]`` pairs). ``locate(i)`` gives the file and the record name of row ``i``
    for error messages. The common case costs one ``np.array`` call; rows are
    inspected one by one only to report an error.

    Examples
    --------
    >>> numeric_rows([[1, 2.5], [3, 4]], lambda i: (Path("a.json"), f"[{i}]"), "keypoints")
    array([[1. , 2.5],
           [3. , 4. ]])
    """
    try:
        array = np.array(rows)
    except (ValueError, TypeError, OverflowError):
        array = None
    if array is not None and array.dtype.kind in "iuf" and array.ndim == ndim:
        return array.astype(np.float64, copy=False)
    first_shape = _shape(rows[0]) if rows else None
    for i, row in enumerate(rows):
        shape = _shape(row)
        if shape is None or len(shape) != ndim - 1 or not _numbers_only(row):
            path, record = locate(i)
            depth = "numbers" if ndim == 2 else "lists of numbers"
            raise PoseFileError(path, f"expected a list of {depth}", record=record, field=field)
        if shape != first_shape:
            path, record = locate(i)
            raise PoseFileError(
                path, "not the same shape as the first record", record=record, field=field
            )
    try:
        return np.array(rows, dtype=np.float64)
    except (ValueError, TypeError, OverflowError) as err:
        path, record = locate(0)
        raise PoseFileError(path, f"expected numbers: {err}", field=field) from None


def _numbers_only(value: object) -> bool:
    if isinstance(value, list):
        return all(_numbers_only(item) for item in value)
    return is_number(value)


def _shape(value: object) -> tuple[int, ...] | None:
    if not isinstance(value, list):
        return None
    try:
        return np.shape(value)
    except ValueError:
        return None


@attrs.frozen
class Layout:
    """Which skeleton a file's keypoints follow and how many of them to keep."""

    skeleton: str
    keypoints: tuple[str, ...]

    @property
    def n_keypoints(self) -> int:
        """Keypoints kept per person (the first ones of each record)."""
        return len(self.keypoints)


def layout_for(
    path: Path,
    n_keypoints: int,
    defaults: Mapping[int, str],
    skeleton: str | None,
    *,
    record: str | None = None,
    field: str | None = None,
) -> Layout:
    """The skeleton of records with ``n_keypoints`` keypoints.

    ``defaults`` maps a keypoint count to a skeleton name; when the count exceeds the
    skeleton's joints (whole-body files), the first joints are kept. A ``skeleton``
    given by the user wins; it must fit the count.

    Examples
    --------
    >>> layout_for(Path("a.json"), 133, {133: "coco_17"}, None).n_keypoints
    17
    """
    from posekit.plugins.registry import get_skeleton

    if skeleton is None:
        if n_keypoints not in defaults:
            known = ", ".join(f"{k} ({v})" for k, v in sorted(defaults.items()))
            raise PoseFileError(
                path,
                f"{n_keypoints} keypoints per person is not a known layout (known: "
                f"{known}); pass the reader parameter 'skeleton' for another layout",
                record=record,
                field=field,
            )
        skeleton = defaults[n_keypoints]
    joints = get_skeleton(skeleton).joint_names
    if n_keypoints != len(joints) and not (
        defaults.get(n_keypoints) == skeleton and n_keypoints > len(joints)
    ):
        raise PoseFileError(
            path,
            f"{n_keypoints} keypoints per person do not fit skeleton {skeleton!r} "
            f"({len(joints)} joints)",
            record=record,
            field=field,
        )
    return Layout(skeleton, tuple(joints))


def individuals_from_tracks(
    frames: np.ndarray, tracks: np.ndarray
) -> tuple[np.ndarray, list[str]] | None:
    """Individuals from track ids: ``id_<track>``, sorted by track id.

    Returns None when a track id repeats within a frame (trackers that were off
    write the same id, e.g. 0, for everybody), so the caller can fall back to
    :func:`individuals_by_rank`.

    Examples
    --------
    >>> slots, names = individuals_from_tracks(np.array([0, 0, 1]), np.array([5, 2, 5]))
    >>> slots.tolist(), names
    ([1, 0, 1], ['id_2', 'id_5'])
    """
    pairs = np.stack([frames, tracks], axis=1)
    if len(np.unique(pairs, axis=0)) != len(pairs):
        return None
    ids, slots = np.unique(tracks, return_inverse=True)
    return slots.ravel(), [f"id_{int(i)}" for i in ids]


def individuals_by_rank(
    frames: np.ndarray, scores: np.ndarray | None = None
) -> tuple[np.ndarray, list[str]]:
    """Individuals by rank within each frame: ``id_0`` is the highest score.

    Without scores the order of the records in the file is kept. NaN scores rank
    last; ties keep the file order.

    Examples
    --------
    >>> slots, names = individuals_by_rank(np.array([0, 0, 1]), np.array([0.2, 0.9, 0.5]))
    >>> slots.tolist(), names
    ([1, 0, 0], ['id_0', 'id_1'])
    """
    n = len(frames)
    secondary = np.arange(n) if scores is None else -scores
    order = np.lexsort((secondary, frames))
    sorted_frames = frames[order]
    first = np.searchsorted(sorted_frames, sorted_frames, side="left")
    slots = np.empty(n, dtype=np.int64)
    slots[order] = np.arange(n) - first
    n_individuals = int(slots.max()) + 1 if n else 0
    return slots, [f"id_{i}" for i in range(n_individuals)]


def assemble(
    path: Path,
    *,
    frames: np.ndarray,
    slots: np.ndarray,
    individuals: Sequence[str],
    points: np.ndarray,
    confidence: np.ndarray | None,
    missing: np.ndarray | None = None,
    skeleton: str | None = None,
    keypoints: Sequence[str],
    fps: float | None,
    confidence_threshold: float | None,
    source_software: str,
    n_frames: int | None = None,
) -> PoseSequence:
    """Lay records out on the frame grid ``0 .. max(frames)`` and build the sequence.

    Parameters
    ----------
    path
        The file read (for errors and ``source_file``).
    frames, slots
        ``(n,)`` frame and individual index of each record.
    individuals
        Individual ids, indexed by ``slots``.
    points
        ``(n, K, D)`` positions, D = 2 or 3.
    confidence
        ``(n, K)`` confidences, or None (1 where observed, NaN elsewhere).
    missing
        ``(n, K)`` True where the file marks a keypoint as not found.
    skeleton, keypoints
        Skeleton name (None when unknown) and keypoint names.
    fps
        Frames per second, or None for time in frames.
    confidence_threshold
        Keypoints below it lose their position (the confidence is kept).
    source_software
        Written to the ``source_software`` attr.
    n_frames
        Length of the frame axis when the file says (frames after the last record);
        default ``max(frames) + 1``.

    Notes
    -----
    Missing keypoints, keypoints below the threshold and frames without records are
    NaN in ``position``; frames without records are NaN in ``confidence`` too. The
    value rules of :mod:`posekit.io._values` apply (``fps``, unusable coordinates and
    confidences).
    """
    if n_frames is None:
        n_frames = int(frames.max()) + 1 if len(frames) else 0
    n_keypoints, n_space = points.shape[1], points.shape[2]
    grid_bytes = n_frames * n_keypoints * max(len(individuals), 1) * (n_space + 2) * 8
    n_with_data = len(np.unique(frames))
    if grid_bytes > SPARSE_GRID_BYTES and n_frames > 100 * n_with_data:
        raise PoseFileError(
            path,
            f"frame numbers up to {n_frames - 1} for only {n_with_data} frames with data "
            f"would take {grid_bytes / 2**20:.0f} MiB of empty frames; check the frame numbers",
        )
    fps = checked_fps(path, fps)
    points = usable_points(path, points)
    if confidence is not None:
        confidence = usable_confidence(path, confidence)
    # The grids are made in the sequence's layout and filled record by record, so the
    # records are never copied whole (an hour of three people is ~100 MB of them).
    position = np.full((n_frames, n_space, n_keypoints, len(individuals)), np.nan)
    position[frames, :, :, slots] = points.transpose(0, 2, 1)
    lost = ~np.isfinite(points).all(axis=-1)
    if missing is not None:
        lost |= missing
    if confidence is not None and confidence_threshold is not None:
        with np.errstate(invalid="ignore"):
            lost |= confidence < confidence_threshold
    record, keypoint = np.nonzero(lost)
    position[frames[record], :, keypoint, slots[record]] = np.nan
    conf_grid = np.full((n_frames, n_keypoints, len(individuals)), np.nan)
    if confidence is None:
        conf_grid[frames, :, slots] = 1.0
        conf_grid[frames[record], keypoint, slots[record]] = np.nan
    else:
        conf_grid[frames, :, slots] = confidence
    return PoseSequence.from_arrays(
        position,
        conf_grid,
        skeleton=skeleton,
        keypoints=list(keypoints),
        individuals=list(individuals),
        fps=fps,
        source_software=source_software,
        source_file=str(path),
    )
