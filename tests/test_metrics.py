"""Tests of posekit.ops.metrics against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from posekit.ops.metrics import (
    AUC_THRESHOLDS,
    auc,
    head_size,
    jitter,
    mpjpe,
    mpjve,
    normalized_errors,
    pckh,
    summarize,
)

HEAD_TOP, NECK = 0, 1
SETTINGS = settings(max_examples=30, deadline=None)
finite = st.floats(-1e3, 1e3, allow_nan=False)
sequences = arrays(np.float64, st.tuples(st.integers(3, 8), st.integers(1, 4), st.just(2)),
                   elements=finite)


def skeleton_clip(frames: int = 5, joints: int = 6, head: float = 2.0) -> np.ndarray:
    """A ground-truth clip whose head (head top to neck) is ``head`` long in every frame.

    Integer coordinates, so that dyadic offsets give exact errors.
    """
    rng = np.random.default_rng(0)
    gt = rng.integers(-20, 20, size=(frames, joints, 2)).astype(float)
    gt[:, HEAD_TOP] = gt[:, NECK] + [0.0, head]
    return gt


def test_head_size_is_the_head_top_to_neck_distance() -> None:
    gt = np.zeros((2, 3, 2))
    gt[0, HEAD_TOP] = [3.0, 4.0]
    gt[1, HEAD_TOP] = [1.0, 1.0]
    gt[1, NECK] = [1.0, -1.0]
    np.testing.assert_array_equal(head_size(gt, HEAD_TOP, NECK), [5.0, 2.0])


def test_auc_thresholds() -> None:
    assert len(AUC_THRESHOLDS) == 101
    assert AUC_THRESHOLDS[0] == 0.0 and AUC_THRESHOLDS[-1] == 1.0
    np.testing.assert_allclose(np.diff(AUC_THRESHOLDS), 0.01)


def test_constant_error_of_a_quarter_head() -> None:
    gt = skeleton_clip(head=2.0)
    pred = gt + [0.5, 0.0]  # 0.5 / 2.0 = 0.25 head units on every joint, exactly
    errors = normalized_errors(pred, gt, head_size(gt, HEAD_TOP, NECK))
    np.testing.assert_array_equal(errors, 0.25)
    np.testing.assert_array_equal(pckh(errors, [0.1, 0.24, 0.25, 0.5, 1.0]), [0, 0, 1, 1, 1])
    # Correct at thresholds k / 100 >= 0.25, i.e. k = 25, ..., 100: 76 of 101.
    assert auc(errors) == pytest.approx((100 - 25 + 1) / 101)


def test_two_error_levels() -> None:
    errors = np.array([[0.055, 0.755], [0.055, 0.755]])
    np.testing.assert_array_equal(pckh(errors, [0.05, 0.1, 0.5, 1.0]), [0, 0.5, 0.5, 1])
    # 0.055 is correct from k = 6 (95 thresholds), 0.755 from k = 76 (25 thresholds).
    assert auc(errors) == pytest.approx((95 + 25) / (2 * 101))


def test_missing_predictions_count_as_wrong_and_missing_ground_truth_is_excluded() -> None:
    gt = skeleton_clip(frames=4, joints=6)
    pred = gt.copy()
    pred[:2, 2:] = np.nan  # 8 of 24 entries missing, all others perfect
    gt[3, 4] = np.nan  # excluded: 23 valid entries remain
    errors = normalized_errors(pred, gt, head_size(gt, HEAD_TOP, NECK))
    assert np.isinf(errors[:2, 2:]).all() and np.isnan(errors[3, 4])
    np.testing.assert_allclose(pckh(errors, [0.0, 0.5, 1.0]), 15 / 23)
    assert auc(errors) == pytest.approx(15 / 23)


def test_frames_without_a_head_size_are_excluded() -> None:
    gt = skeleton_clip(frames=3, joints=4)
    gt[0, HEAD_TOP] = gt[0, NECK]  # zero head size
    gt[1, NECK] = np.nan  # unknown head size
    pred = gt + 100.0
    errors = normalized_errors(pred, gt, head_size(gt, HEAD_TOP, NECK))
    assert np.isnan(errors[:2]).all() and np.isfinite(errors[2]).all()
    np.testing.assert_array_equal(pckh(errors, [1.0]), [0.0])


def test_pckh_without_valid_entries_is_nan() -> None:
    assert np.isnan(pckh(np.full((2, 3), np.nan), [0.5])).all()
    assert np.isnan(auc(np.array([np.nan])))


def test_batch_dimensions_give_the_same_errors() -> None:
    rng = np.random.default_rng(1)
    gt = rng.normal(size=(3, 5, 4, 2))
    pred = gt + rng.normal(size=gt.shape) * 0.1
    batched = normalized_errors(pred, gt, head_size(gt, HEAD_TOP, NECK))
    for b in range(3):
        np.testing.assert_array_equal(
            batched[b], normalized_errors(pred[b], gt[b], head_size(gt[b], HEAD_TOP, NECK))
        )


def test_mpjpe_hand_computed() -> None:
    gt = np.zeros((2, 3, 2))
    pred = gt + [3.0, 4.0]
    pred[0, 0] = [6.0, 8.0]
    assert mpjpe(pred, gt) == pytest.approx((10 + 5 * 5) / 6)
    mask = np.array([[True, False, False], [True, True, False]])
    assert mpjpe(pred, gt, mask) == pytest.approx((10 + 5 + 5) / 3)


def test_mpjpe_excludes_missing_ground_truth() -> None:
    gt = np.zeros((1, 2, 2))
    gt[0, 1] = np.nan
    assert mpjpe(gt + [0.0, 2.0], gt) == 2.0


@SETTINGS
@given(gt=sequences, offset=st.tuples(finite, finite))
def test_mpjve_of_a_constant_offset_is_zero(gt: np.ndarray, offset: tuple[float, float]) -> None:
    assert mpjve(gt + np.array(offset), gt) == pytest.approx(0.0, abs=1e-9)


def test_mpjve_of_a_constant_drift_is_its_speed() -> None:
    gt = skeleton_clip(frames=6)
    pred = gt + np.arange(6)[:, None, None] * np.array([0.3, 0.4])
    assert mpjve(pred, gt) == pytest.approx(0.5)
    pred[2, 0] += [30.0, 40.0]  # a spike in frame 2 of joint 0 ...
    assert mpjve(pred, gt) > 0.5
    mask = np.ones((6, 6), dtype=bool)
    mask[2, 0] = False  # ... masked out: removes the velocities 1 -> 2 and 2 -> 3 of joint 0
    assert mpjve(pred, gt, mask) == pytest.approx(0.5)


@SETTINGS
@given(gt=sequences)
def test_jitter_of_the_ground_truth_is_zero(gt: np.ndarray) -> None:
    assert jitter(gt, gt) == 0.0


@SETTINGS
@given(gt=sequences, velocity=st.tuples(finite, finite))
def test_jitter_ignores_constant_velocity(gt: np.ndarray, velocity: tuple[float, float]) -> None:
    drift = np.arange(len(gt))[:, None, None] * np.array(velocity)
    assert jitter(gt + drift, gt) == pytest.approx(0.0, abs=1e-6)


def test_jitter_of_a_spike() -> None:
    gt = np.zeros((5, 2, 2))
    pred = gt.copy()
    pred[2, 1] = [0.0, 1.0]  # y = 0, 0, 1, 0, 0: accelerations 1, -2, 1 on one of two joints
    assert jitter(pred, gt) == pytest.approx((1 + 2 + 1) / 6)


def test_summarize() -> None:
    gt = skeleton_clip(frames=4, joints=6, head=2.0)
    pred = gt.copy()
    pred[:, 2:4] += [0.0, 0.5]  # 0.25 head units, exactly
    pred[:, 4] = np.nan  # missing
    groups = {"all": list(range(6)), "given": [0, 1, 2, 3], "added": [4, 5]}
    summary = summarize(pred, gt, groups, HEAD_TOP, NECK)
    assert set(summary) == set(groups)
    assert summary["given"] == pytest.approx(
        {"pckh@0.1": 0.5, "pckh@0.5": 1.0, "pckh@1": 1.0,
         "auc": (101 + (100 - 25 + 1)) / (2 * 101), "mean_error": 0.125, "missing": 0.0,
         "count": 16}
    )
    assert summary["added"] == pytest.approx(
        {"pckh@0.1": 0.5, "pckh@0.5": 0.5, "pckh@1": 0.5, "auc": 0.5, "mean_error": 0.0,
         "missing": 0.5, "count": 8}
    )
    assert summary["all"]["pckh@0.1"] == pytest.approx(3 / 6)
    assert summary["all"]["mean_error"] == pytest.approx(2 * 0.25 / 5)
