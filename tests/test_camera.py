"""Tests of the pinhole camera and the evaluation protocol's random cameras."""

from __future__ import annotations

import math

import numpy as np
import pytest

from training.camera import PinholeCamera, random_camera

TARGET = np.array([0.3, 0.9, -1.2])


def test_a_point_on_the_optical_axis_projects_to_the_principal_point() -> None:
    camera = PinholeCamera.look_at(eye=(4.0, 2.0, 3.0), target=TARGET)
    axis = camera.rotation[2]
    points = camera.centre + np.outer([0.5, 3.0, 40.0], axis)
    np.testing.assert_allclose(camera.project(points), [[960.0, 540.0]] * 3, atol=1e-9)
    np.testing.assert_allclose(camera.project(TARGET), [960.0, 540.0], atol=1e-9)


def test_a_projection_worked_by_hand() -> None:
    # From z = 5 looking down -z: camera x = world x, camera y = -world y, depth 5.
    camera = PinholeCamera.look_at(eye=(0.0, 1.0, 5.0), target=(0.0, 1.0, 0.0))
    np.testing.assert_allclose(camera.rotation, [[1, 0, 0], [0, -1, 0], [0, 0, -1]], atol=1e-15)
    np.testing.assert_allclose(camera.translation, [0.0, 1.0, 5.0], atol=1e-15)
    # (1, 1.5, 0): x = 1, y = -0.5, z = 5 -> (1000 * 1 / 5 + 960, 1000 * -0.5 / 5 + 540).
    np.testing.assert_allclose(camera.project([1.0, 1.5, 0.0]), [1160.0, 440.0])
    # A point 2 m further away, 1 m left and 1 m lower: (-1, 0, -2) is at depth 7.
    np.testing.assert_allclose(
        camera.project([-1.0, 0.0, -2.0]), [960.0 - 1000.0 / 7.0, 540.0 + 1000.0 / 7.0]
    )


def test_explicit_intrinsics() -> None:
    camera = PinholeCamera(
        focal=500.0, principal_point=(320.0, 240.0), image_size=(640, 480),
        rotation=np.eye(3), translation=(0.0, 0.0, 2.0),
    )
    np.testing.assert_allclose(camera.project([0.4, -0.2, 0.0]), [420.0, 190.0])
    assert camera.image_size == (640, 480)
    np.testing.assert_allclose(camera.centre, [0.0, 0.0, -2.0])


def test_project_keeps_leading_shapes_and_marks_points_behind_with_nan() -> None:
    camera = PinholeCamera.look_at(eye=(0.0, 1.0, 5.0), target=(0.0, 1.0, 0.0))
    points = np.random.default_rng(0).normal(size=(7, 28, 3))
    assert camera.project(points).shape == (7, 28, 2)
    behind = camera.project([[0.0, 1.0, 6.0], [0.0, 1.0, 5.0], [0.0, np.nan, 0.0]])
    assert np.isnan(behind).all()


def test_look_at_has_roll_zero_and_image_y_down() -> None:
    camera = PinholeCamera.look_at(eye=(3.0, 2.5, -4.0), target=TARGET)
    rotation = camera.rotation
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(rotation) == pytest.approx(1.0)
    assert abs(rotation[0, 1]) < 1e-12  # image x axis is horizontal
    assert rotation[1, 1] < 0  # image y points down in the world
    above, below = camera.project([TARGET + [0, 0.5, 0], TARGET - [0, 0.5, 0]])
    assert above[1] < 540.0 < below[1]
    assert not rotation.flags.writeable


@pytest.mark.parametrize(
    ("eye", "target"), [((1.0, 1.0, 1.0), (1.0, 1.0, 1.0)), ((0.0, 5.0, 0.0), (0.0, 0.0, 0.0))]
)
def test_look_at_rejects_degenerate_views(eye, target) -> None:
    with pytest.raises(ValueError):
        PinholeCamera.look_at(eye, target)


def test_rejects_a_matrix_that_is_not_a_rotation() -> None:
    with pytest.raises(ValueError, match="rotation"):
        PinholeCamera(1000.0, (960, 540), (1920, 1080), np.diag([1.0, 1.0, -1.0]), np.zeros(3))
    with pytest.raises(ValueError, match="shape"):
        PinholeCamera(1000.0, (960, 540), (1920, 1080), np.eye(3), np.zeros(2))
    with pytest.raises(ValueError, match="focal"):
        PinholeCamera(0.0, (960, 540), (1920, 1080), np.eye(3), np.zeros(3))


def test_random_camera_is_deterministic_for_a_seed() -> None:
    first = random_camera(np.random.default_rng(42), TARGET)
    again = random_camera(np.random.default_rng(42), TARGET)
    other = random_camera(np.random.default_rng(43), TARGET)
    np.testing.assert_array_equal(first.rotation, again.rotation)
    np.testing.assert_array_equal(first.translation, again.translation)
    assert not np.allclose(first.translation, other.translation)


def test_random_camera_follows_the_protocol() -> None:
    rng = np.random.default_rng(2024)
    azimuths, elevations = [], []
    for _ in range(500):
        camera = random_camera(rng, TARGET)
        offset = camera.centre - TARGET
        distance = np.linalg.norm(offset)
        assert 3.5 <= distance <= 6.0
        elevation = math.degrees(math.asin(offset[1] / distance))
        assert -10.0 - 1e-9 <= elevation <= 30.0 + 1e-9
        azimuths.append(math.degrees(math.atan2(offset[0], offset[2])) % 360.0)
        elevations.append(elevation)
        assert camera.focal == 1000.0
        assert camera.image_size == (1920, 1080)
        assert camera.principal_point == (960.0, 540.0)
        assert abs(camera.rotation[0, 1]) < 1e-12  # roll 0
        np.testing.assert_allclose(camera.project(TARGET), [960.0, 540.0], atol=1e-9)
    # The draws cover their ranges (azimuth all round, elevation both signs).
    assert np.histogram(azimuths, bins=8, range=(0, 360))[0].min() > 20
    assert min(elevations) < -5.0 and max(elevations) > 25.0


def test_random_camera_draws_azimuth_elevation_distance_in_that_order() -> None:
    camera = random_camera(np.random.default_rng(5), TARGET)
    azimuth, elevation, distance = np.random.default_rng(5).uniform(
        [0.0, -10.0, 3.5], [360.0, 30.0, 6.0]
    )
    a, e = math.radians(azimuth), math.radians(elevation)
    expected = TARGET + distance * np.array(
        [math.cos(e) * math.sin(a), math.sin(e), math.cos(e) * math.cos(a)]
    )
    np.testing.assert_allclose(camera.centre, expected, atol=1e-12)
