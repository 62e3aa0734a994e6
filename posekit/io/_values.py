"""Value rules shared by the readers: what a reader refuses, and what it repairs with a
warning.

- Coordinates: NaN is the missing marker. An infinite coordinate, or one larger than
  :data:`MAX_COORDINATE` in magnitude, cannot be a position: that keypoint becomes
  missing, with a :class:`ValueRepairWarning` that counts them.
- Confidences: a negative or infinite confidence becomes unknown (NaN), with a warning;
  the position is kept.
- ``fps``: a positive finite number, or none at all; anything else is refused.
- Joint hierarchies (BVH) deeper than :data:`MAX_CHAIN_DEPTH` are refused.
- Datasets (netCDF): a ``poses`` dataset with at least one keypoint, unique individual
  ids, a finite and strictly increasing time axis and a ``log`` that is a JSON list;
  anything else is refused. An unregistered skeleton name is kept, with a warning.

Every refusal is a :class:`~posekit.core.errors.PoseFileError` naming the file and the
field. The per-reader details are in ``docs/reliability.md``.
"""

from __future__ import annotations

import json
import logging
import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, TypeGuard

import numpy as np

from posekit.core.errors import PoseFileError, brief

if TYPE_CHECKING:
    import xarray as xr

#: Largest coordinate magnitude accepted (pixels, millimetres...); beyond it a value is
#: a corrupt number, not a position.
MAX_COORDINATE = 1e9

#: Deepest joint hierarchy (BVH) a reader follows; deeper is a corrupt file.
MAX_CHAIN_DEPTH = 256

logger = logging.getLogger("posekit.io")


class ValueRepairWarning(UserWarning):
    """A reader changed values it could not use (and said which)."""


def _warn(path: Path | str, message: str) -> None:
    text = f"{path}: {message}"
    logger.warning(text)
    warnings.warn(text, ValueRepairWarning, stacklevel=3)


def usable_points(path: Path | str, points: np.ndarray) -> np.ndarray:
    """``points`` (``(..., D)`` coordinates) with each keypoint that has an infinite or
    huge coordinate set missing (NaN); warns when it changes any.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     out = usable_points("a.json", np.array([[1.0, 2.0], [np.inf, 3.0], [1e300, 0]]))
    >>> out.tolist()[1:]
    [[nan, nan], [nan, nan]]
    >>> print(caught[0].message)
    a.json: 2 keypoints with an infinite or huge coordinate (beyond 1e+09) set missing
    """
    with np.errstate(invalid="ignore"):
        bad = (np.isinf(points) | (np.abs(points) > MAX_COORDINATE)).any(axis=-1)
    count = int(bad.sum())
    if not count:
        return points
    points = points.copy()
    points[bad] = np.nan
    _warn(
        path,
        f"{count} keypoint{'s' if count > 1 else ''} with an infinite or huge coordinate "
        f"(beyond {MAX_COORDINATE:.0e}) set missing",
    )
    return points


def usable_confidence(path: Path | str, confidence: np.ndarray) -> np.ndarray:
    """``confidence`` with negative and infinite values set unknown (NaN); warns when
    it changes any.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     usable_confidence("a.json", np.array([0.5, -1.0, np.inf])).tolist()
    [0.5, nan, nan]
    """
    with np.errstate(invalid="ignore"):
        bad = np.isinf(confidence) | (confidence < 0)
    count = int(bad.sum())
    if not count:
        return confidence
    confidence = confidence.copy()
    confidence[bad] = np.nan
    _warn(path, f"{count} negative or infinite confidence{'s' if count > 1 else ''} set unknown")
    return confidence


def is_fps(value: object) -> TypeGuard[float | int | np.integer | np.floating]:
    """True for a positive finite number (not a bool).

    Examples
    --------
    >>> is_fps(30), is_fps(0), is_fps(float("nan")), is_fps("30"), is_fps(True)
    (True, False, False, False, False)
    """
    return bool(
        isinstance(value, int | float | np.integer | np.floating)
        and not isinstance(value, bool | np.bool_)
        and math.isfinite(value)
        and value > 0
    )


def checked_fps(path: Path | str, fps: object) -> float | None:
    """``fps`` as a float, None if None; refuses anything but a positive finite number.

    Examples
    --------
    >>> checked_fps("a.json", 25), checked_fps("a.json", None)
    (25.0, None)
    >>> checked_fps("a.json", -1)
    Traceback (most recent call last):
    ...
    posekit.core.errors.PoseFileError: a.json, field fps: expected a positive finite number, got -1
    """
    if fps is None:
        return None
    if not is_fps(fps):
        raise PoseFileError(
            path, f"expected a positive finite number, got {brief(fps)}", field="fps"
        )
    return float(fps)


def check_dataset(path: Path | str, dataset: xr.Dataset) -> None:
    """Refuse a dataset (already in posekit's layout) that is no usable pose sequence;
    warn about an unregistered skeleton (see the module docstring)."""
    from posekit.plugins.registry import UnknownNameError, get_skeleton

    attrs = dataset.attrs

    def refuse(message: str, field: str) -> None:
        raise PoseFileError(path, message, field=field)

    if attrs.get("ds_type", "poses") != "poses":
        refuse(f"a {brief(attrs['ds_type'])} dataset, expected 'poses'", "ds_type")
    if dataset.sizes.get("keypoint", 0) == 0:
        refuse("no keypoints", "keypoints")
    individuals = [str(i) for i in dataset["individual"].values]
    if len(set(individuals)) != len(individuals):
        repeated = sorted({i for i in individuals if individuals.count(i) > 1})
        refuse(f"individual ids repeat: {brief(repeated)}", "individuals")
    if "fps" in attrs:
        checked_fps(path, attrs["fps"])
    time = np.asarray(dataset["time"].values)
    if time.dtype.kind not in "iuf":
        refuse(f"expected numbers, got {time.dtype}", "time")
    if not np.isfinite(time).all() or (len(time) > 1 and not (np.diff(time) > 0).all()):
        refuse("the time axis must be finite and strictly increasing", "time")
    log = attrs.get("log", "[]")
    try:
        entries = json.loads(log) if isinstance(log, str) else None
    except json.JSONDecodeError:
        entries = None
    if not isinstance(entries, list):
        refuse(f"the provenance log must be a JSON list, got {brief(log)}", "log")
    skeleton = attrs.get("skeleton")
    if skeleton is not None:
        try:
            get_skeleton(str(skeleton))
        except UnknownNameError:
            _warn(path, f"skeleton {brief(skeleton)} is not registered; kept as it is")


def is_number(text: str) -> bool:
    """True when ``text`` reads as a float (``"1e3"``, ``"nan"``; not ``"x"``).

    Examples
    --------
    >>> is_number("1e3"), is_number("x")
    (True, False)
    """
    try:
        float(text)
    except ValueError:
        return False
    return True
