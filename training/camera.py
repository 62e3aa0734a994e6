"""Pinhole cameras: projection of world points to pixels, and the evaluation's random cameras.

Camera axes follow the image: x to the right, y down, z forward along the optical
axis. A world point ``X`` is at ``R · X + t`` in camera coordinates and projects to
``(f · x / z + cx, f · y / z + cy)`` pixels. The world is Y up, as the motion capture.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs
import numpy as np
from numpy.typing import ArrayLike

#: World up direction (Y up, as CMU's motion capture).
WORLD_UP = (0.0, 1.0, 0.0)


def _pair(value: Sequence[float]) -> tuple[float, float]:
    first, second = (float(v) for v in value)
    return first, second


def _size(value: Sequence[int]) -> tuple[int, int]:
    width, height = (int(v) for v in value)
    return width, height


def _frozen_array(value: ArrayLike, shape: tuple[int, ...]) -> np.ndarray:
    array = np.array(value, dtype=np.float64)
    if array.shape != shape:
        raise ValueError(f"expected shape {shape}, got {array.shape}")
    array.setflags(write=False)
    return array


def _rotation(value: ArrayLike) -> np.ndarray:
    return _frozen_array(value, (3, 3))


def _translation(value: ArrayLike) -> np.ndarray:
    return _frozen_array(value, (3,))


@attrs.frozen(eq=False)
class PinholeCamera:
    """A pinhole camera without distortion.

    Parameters
    ----------
    focal
        Focal length in pixels (square pixels).
    principal_point
        ``(cx, cy)`` in pixels.
    image_size
        ``(width, height)`` in pixels.
    rotation
        World-to-camera rotation, 3 × 3 (rows: camera x, y, z axes in world axes).
    translation
        World-to-camera translation, 3 values.

    Examples
    --------
    >>> camera = PinholeCamera.look_at(eye=(0.0, 1.0, 5.0), target=(0.0, 1.0, 0.0))
    >>> camera.project([0.0, 1.0, 0.0])
    array([960., 540.])
    >>> camera.project([[1.0, 1.5, 0.0]])
    array([[1160.,  440.]])
    """

    focal: float = attrs.field(converter=float)
    principal_point: tuple[float, float] = attrs.field(converter=_pair)
    image_size: tuple[int, int] = attrs.field(converter=_size)
    rotation: np.ndarray = attrs.field(converter=_rotation)
    translation: np.ndarray = attrs.field(converter=_translation)

    def __attrs_post_init__(self) -> None:
        if not (math.isfinite(self.focal) and self.focal > 0):
            raise ValueError(f"focal must be positive, got {self.focal}")
        if not np.allclose(self.rotation @ self.rotation.T, np.eye(3), atol=1e-9) or not (
            np.linalg.det(self.rotation) > 0
        ):
            raise ValueError("rotation must be a proper rotation matrix")

    @classmethod
    def look_at(
        cls,
        eye: ArrayLike,
        target: ArrayLike,
        up: ArrayLike = WORLD_UP,
        *,
        focal: float = 1000.0,
        image_size: tuple[int, int] = (1920, 1080),
        principal_point: tuple[float, float] | None = None,
    ) -> PinholeCamera:
        """A camera at ``eye`` looking at ``target``, with roll 0.

        Parameters
        ----------
        eye, target
            Camera centre and the point on its optical axis, world coordinates.
        up
            World up; the image's y axis points along its opposite, the image's x
            axis stays horizontal (perpendicular to ``up``).
        focal
            Focal length in pixels.
        image_size
            ``(width, height)`` in pixels.
        principal_point
            ``(cx, cy)``; default the image centre ``(width / 2, height / 2)``.

        Raises
        ------
        ValueError
            If ``eye`` equals ``target`` or the view direction is parallel to ``up``.

        Examples
        --------
        >>> camera = PinholeCamera.look_at((0.0, 0.0, 4.0), (0.0, 0.0, 0.0))
        >>> camera.rotation + 0.0
        array([[ 1.,  0.,  0.],
               [ 0., -1.,  0.],
               [ 0.,  0., -1.]])
        >>> camera.centre
        array([0., 0., 4.])
        """
        eye_ = np.asarray(eye, dtype=np.float64)
        forward = np.asarray(target, dtype=np.float64) - eye_
        distance = np.linalg.norm(forward)
        if not distance > 0:
            raise ValueError("eye must differ from target")
        forward /= distance
        right = np.cross(forward, np.asarray(up, dtype=np.float64))
        if not np.linalg.norm(right) > 1e-9:
            raise ValueError("the view direction must not be parallel to up")
        right /= np.linalg.norm(right)
        down = np.cross(forward, right)
        rotation = np.stack([right, down, forward])
        if principal_point is None:
            principal_point = (image_size[0] / 2.0, image_size[1] / 2.0)
        return cls(focal, principal_point, image_size, rotation, -rotation @ eye_)

    @property
    def centre(self) -> np.ndarray:
        """Camera centre in world coordinates, ``-Rᵀ · t``."""
        return -self.rotation.T @ self.translation

    def to_camera(self, points_world: np.ndarray) -> np.ndarray:
        """Camera coordinates ``R · X + t`` of world points, shape ``(..., 3)``."""
        return np.asarray(points_world, dtype=np.float64) @ self.rotation.T + self.translation

    def project(self, points_world: np.ndarray) -> np.ndarray:
        """Pixel coordinates of world points.

        Parameters
        ----------
        points_world
            Points, shape ``(..., 3)``; NaN stays NaN.

        Returns
        -------
        numpy.ndarray
            ``(..., 2)`` pixels, x right and y down; NaN for points not in front of
            the camera (camera z ≤ 0).
        """
        camera = self.to_camera(points_world)
        depth = camera[..., 2:]
        with np.errstate(divide="ignore", invalid="ignore"):
            pixels = self.focal * camera[..., :2] / depth + np.asarray(self.principal_point)
        return np.where(depth > 0, pixels, np.nan)


def random_camera(
    rng: np.random.Generator,
    target: ArrayLike,
    *,
    azimuth_deg: tuple[float, float] = (0.0, 360.0),
    elevation_deg: tuple[float, float] = (-10.0, 30.0),
    distance_m: tuple[float, float] = (3.5, 6.0),
    focal: float = 1000.0,
    image_size: tuple[int, int] = (1920, 1080),
) -> PinholeCamera:
    """The evaluation protocol's random static camera looking at ``target``.

    Draws, in this order, azimuth ~ U[0°, 360°), elevation ~ U[−10°, 30°] and
    distance ~ U[3.5, 6] m (the defaults, as in ``EVALUATION.md``), then places the
    camera at ``target + distance · (cos e · sin a, sin e, cos e · cos a)`` (Y up,
    azimuth about Y from +Z towards +X, positive elevation above the target) and
    looks at ``target`` with roll 0, focal 1000 px, a 1920 × 1080 image and the
    principal point at its centre.

    Parameters
    ----------
    rng
        Source of the three draws; the same seed gives the same camera.
    target
        The point looked at (the protocol uses the clip's mean pelvis position).
    azimuth_deg, elevation_deg, distance_m
        ``(low, high)`` of each uniform draw.
    focal, image_size
        Intrinsics; the principal point is the image centre.

    Examples
    --------
    >>> import numpy as np
    >>> camera = random_camera(np.random.default_rng(0), target=(0.0, 0.9, 0.0))
    >>> camera.project([0.0, 0.9, 0.0]).round(6) + 0.0
    array([960., 540.])
    >>> 3.5 <= float(np.linalg.norm(camera.centre - [0.0, 0.9, 0.0])) <= 6.0
    True
    """
    azimuth = math.radians(rng.uniform(*azimuth_deg))
    elevation = math.radians(rng.uniform(*elevation_deg))
    distance = rng.uniform(*distance_m)
    direction = np.array(
        [
            math.cos(elevation) * math.sin(azimuth),
            math.sin(elevation),
            math.cos(elevation) * math.cos(azimuth),
        ]
    )
    target_ = np.asarray(target, dtype=np.float64)
    return PinholeCamera.look_at(
        target_ + distance * direction, target_, WORLD_UP, focal=focal, image_size=image_size
    )
