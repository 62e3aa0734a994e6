"""Window normalization: the stated invariants, the exact inverse and the guards."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from posekit.jumps.normalize import (
    NECK,
    PELVIS,
    DegenerateWindowError,
    denormalize_windows,
    normalize_windows,
    valid_windows,
    window_center_and_scale,
)


def _windows(rng, shape=(6, 24)):
    windows = rng.normal(scale=40.0, size=(*shape, 28, 2)) + rng.uniform(0, 1000, size=2)
    windows[..., NECK, 1] = windows[..., PELVIS, 1] - rng.uniform(80, 150, size=shape)
    return windows


def _torso(windows):
    return np.linalg.norm(windows[..., NECK, :] - windows[..., PELVIS, :], axis=-1)


def test_invariants_mean_pelvis_at_origin_and_mean_torso_one():
    windows = _windows(np.random.default_rng(0))
    normalized, center, scale = normalize_windows(windows)
    assert normalized.shape == windows.shape and center.shape == (6, 2) and scale.shape == (6,)
    np.testing.assert_allclose(normalized[..., PELVIS, :].mean(axis=-2), 0, atol=1e-12)
    np.testing.assert_allclose(_torso(normalized).mean(axis=-1), 1, rtol=1e-12)
    np.testing.assert_allclose(center, windows[..., PELVIS, :].mean(axis=-2))
    np.testing.assert_allclose(scale, _torso(windows).mean(axis=-1))


@settings(max_examples=50, deadline=None)
@given(
    arrays(np.float64, (3, 5, 28, 2), elements=st.floats(-2000, 2000)),
    st.floats(1.0, 500.0),
)
def test_round_trip_is_exact(windows, torso):
    windows = windows.copy()
    windows[..., NECK, :] = windows[..., PELVIS, :] + [0.0, -torso]
    normalized, center, scale = normalize_windows(windows)
    np.testing.assert_allclose(denormalize_windows(normalized, center, scale), windows,
                               atol=1e-9 * (1 + np.abs(windows).max()))


def test_any_leading_axes_and_float32_kept():
    windows = _windows(np.random.default_rng(1), shape=(2, 3, 24)).astype(np.float32)
    normalized, center, scale = normalize_windows(windows)
    assert normalized.dtype == np.float32 and center.shape == (2, 3, 2) and scale.shape == (2, 3)
    np.testing.assert_allclose(_torso(normalized).mean(axis=-1), 1, rtol=1e-5)


def test_scale_free_and_translation_free():
    windows = _windows(np.random.default_rng(2))
    moved = windows * 3.5 + np.array([120.0, -40.0])
    np.testing.assert_allclose(normalize_windows(moved)[0], normalize_windows(windows)[0],
                               atol=1e-10)


def test_zero_torso_is_a_clear_error_and_can_be_filtered():
    windows = _windows(np.random.default_rng(3))
    windows[4, :, NECK] = windows[4, :, PELVIS]
    with pytest.raises(DegenerateWindowError, match=r"torso.*index \(4,\)"):
        normalize_windows(windows)
    keep = valid_windows(windows)
    assert keep.tolist() == [True, True, True, True, False, True]
    normalize_windows(windows[keep])


def test_missing_joints_are_left_out_and_stay_missing():
    windows = _windows(np.random.default_rng(4), shape=(1, 24))
    windows[0, 3, PELVIS] = np.nan
    windows[0, 5, 10] = np.nan
    center, scale = window_center_and_scale(windows)
    kept = np.delete(windows[0], 3, axis=0)
    np.testing.assert_allclose(center[0], kept[:, PELVIS].mean(axis=0))
    np.testing.assert_allclose(scale[0], _torso(kept).mean())
    normalized, _, _ = normalize_windows(windows)
    assert np.isnan(normalized[0, 5, 10]).all() and np.isnan(normalized[0, 3, PELVIS]).all()
    assert np.isfinite(np.delete(normalized[0, 5], 10, axis=0)).all()


def test_window_without_pelvis_is_rejected():
    windows = _windows(np.random.default_rng(5), shape=(2, 24))
    windows[1, :, PELVIS] = np.nan
    assert valid_windows(windows).tolist() == [True, False]
    with pytest.raises(DegenerateWindowError):
        normalize_windows(windows)
