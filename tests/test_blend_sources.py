"""Per-joint blends of cached sources, person features and the equivariant linear maps
(training experiments on the added joints)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from training.blend_sources import (
    JOINT_NAMES,
    added_joints,
    auc_of,
    blend_counts,
    choose,
    halves,
    joint_counts,
    score,
    simplex,
)
from training.equivariant_linear import fit, predict_frames, predict_windows
from training.person_features import ADDED, INPUTS, person_features

HEAD_TOP, NECK = JOINT_NAMES.index("head_top"), JOINT_NAMES.index("neck")


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 4), st.sampled_from([0.5, 0.25, 0.2]))
def test_simplex_weights_sum_to_one_and_include_each_source_alone(n, step):
    weights = simplex(n, step)
    assert all(abs(sum(w) - 1) < 1e-9 and min(w) >= 0 for w in weights)
    for k in range(n):
        assert tuple(1.0 if i == k else 0.0 for i in range(n)) in weights
    assert len(set(weights)) == len(weights)


def _clip(rng, n_frames=30):
    """Truth with a head size of 10, the 12 inputs given, two noisy sources: ``a``
    exact on the head top and 3 head sizes off elsewhere, ``b`` the reverse."""
    truth = rng.normal(scale=20, size=(1, n_frames, 28, 2))
    truth[..., HEAD_TOP, :] = truth[..., NECK, :] + [0.0, 10.0]
    given = np.full(truth.shape, np.nan)
    given[..., INPUTS, :] = truth[..., INPUTS, :]
    off = np.zeros(truth.shape)
    off[..., :, 0] = 30.0
    a, b = truth + off, truth.copy()
    a[..., HEAD_TOP, :] = truth[..., HEAD_TOP, :]
    b[..., HEAD_TOP, :] += [30.0, 0.0]
    return {"input": given, "truth": truth, "a": a, "b": b}


def test_each_joint_takes_the_weight_of_its_exact_source():
    rng = np.random.default_rng(0)
    clips = {f"0{k}_01": _clip(rng) for k in range(4)}
    joints = added_joints(clips)
    assert joints == list(ADDED)
    weights = simplex(2, 0.25)
    counts = blend_counts(clips, ["a", "b"], weights)
    chosen = choose(counts, sorted(clips), joints)
    picked = [weights[i][0] for i in chosen]
    assert picked == [1.0 if j == HEAD_TOP else 0.0 for j in joints]
    total, per_joint = score(counts, sorted(clips), joints, chosen)
    assert total == pytest.approx(1.0) and np.allclose(per_joint, 1.0)
    # a alone (the last weight) misses by 3 head sizes everywhere but the head top,
    # b alone (the first) only there.
    a_alone, _ = score(counts, sorted(clips), joints, np.full(len(joints), len(weights) - 1))
    b_alone, _ = score(counts, sorted(clips), joints, np.zeros(len(joints), int))
    assert a_alone == pytest.approx(1 / len(joints))
    assert b_alone == pytest.approx(1 - 1 / len(joints))


def test_joint_counts_pool_to_the_metric_auc():
    from posekit.ops.metrics import auc

    errors = np.random.default_rng(1).exponential(0.4, size=(2, 50, 3))
    errors[0, :5, 1] = np.nan
    per_joint = auc_of(joint_counts(errors))
    assert np.allclose(per_joint, [auc(errors[..., j]) for j in range(3)])


def test_halves_split_every_clip_once_and_subjects_apart():
    clips = ["07_01", "07_02", "10_01", "127_05", "35_01", "35_02"]
    for one, two in halves(clips).values():
        assert sorted(one + two) == sorted(clips) and not set(one) & set(two)
    one, two = halves(clips)["subject"]
    assert not {c.split("_")[0] for c in one} & {c.split("_")[0] for c in two}


@settings(max_examples=20, deadline=None)
@given(st.floats(0.1, 50), st.floats(-500, 500), st.integers(0, 2**16))
def test_person_features_ignore_position_and_size(scale, shift, seed):
    clip = np.random.default_rng(seed).normal(size=(40, 28, 2))
    assert np.allclose(person_features(clip), person_features(scale * clip + shift), atol=1e-8)


def test_person_features_are_nan_without_a_complete_frame():
    clip = np.random.default_rng(2).normal(size=(10, 28, 2))
    clip[:, INPUTS[0]] = np.nan
    assert np.isnan(person_features(clip)).all()


def _linear_windows(rng, n):
    """Windows whose added joints are a fixed linear map of the centred inputs."""
    windows = rng.normal(size=(n, 24, 28, 2))
    inputs = windows[:, :, INPUTS]
    centroid = inputs.mean(axis=2, keepdims=True)
    mix = np.random.default_rng(99).normal(size=(len(INPUTS), len(ADDED))) / 4
    windows[:, :, ADDED] = np.einsum("nfid,ia->nfad", inputs - centroid, mix) + centroid
    return windows


def test_linear_maps_recover_a_linear_relation_and_are_equivariant():
    rng = np.random.default_rng(3)
    maps = fit(_linear_windows(rng, 1500), alpha=1e-8)
    test = _linear_windows(rng, 1)[0]  # (24, 28, 2)
    moved = 3.0 * test + [100.0, -40.0]
    for predicted in (predict_frames(maps["linear"], moved),
                      predict_windows(maps["linear_window"], moved)):
        assert np.allclose(predicted, moved[:, ADDED], atol=1e-4)


def test_window_map_leaves_incomplete_frames_missing():
    rng = np.random.default_rng(4)
    maps = fit(_linear_windows(rng, 400), alpha=1e-6)
    clip = np.concatenate([_linear_windows(rng, 1)[0], _linear_windows(rng, 1)[0]])  # 48 frames
    clip[30, INPUTS[2]] = np.nan
    predicted = predict_windows(maps["linear_window"], clip)
    # Windows start at 0, 12, 24: the two covering frame 30 are dropped.
    assert np.isfinite(predicted[:24]).all() and np.isnan(predicted[24:]).all()


def test_one_source_is_scored_alone(tmp_path, capsys):
    from training.blend_sources import main

    rng = np.random.default_rng(2)
    arrays = {f"0{k}_01/{key}": value for k in range(4) for key, value in _clip(rng).items()}
    np.savez(tmp_path / "val-upsample.npz", **arrays)
    result = main(["--cache", str(tmp_path), "--split", "val", "--sources", "a"])
    assert result["weights"] == [(1.0,)]
    out = capsys.readouterr().out
    assert "per-joint best: added AUC" in out and "reference" not in out


def test_source_cache_labels_another_models_sources(tmp_path):
    """With a label, the sources of a cache are stored as SOURCE@LABEL beside the
    unlabelled input and truth, and hold what the unlabelled run holds."""
    from posekit.core.sequence import PoseSequence
    from posekit.evaluation.scoring import UPSAMPLE_JOINTS
    from training.source_cache import cache_sources

    rng = np.random.default_rng(0)
    positions = rng.normal(300, 30, (40, 2, 28, 1))  # (time, space, keypoint, individual)
    truth = PoseSequence.from_arrays(positions, skeleton="mpi_inf_3dhp_28", fps=30)
    given = truth.positions().copy()  # (individual, time, keypoint, space)
    given[:, :, [j for j, name in enumerate(JOINT_NAMES) if name not in UPSAMPLE_JOINTS]] = np.nan
    for folder in ("upsample", "truth"):
        (tmp_path / folder).mkdir()
    truth.to_netcdf(tmp_path / "truth" / "c1.nc")
    truth.replace(position=given).to_netcdf(tmp_path / "upsample" / "c1.nc")
    plain = cache_sources(tmp_path, "upsample", ["ridge"])
    labelled = cache_sources(tmp_path, "upsample", ["ridge"], label="other")
    assert sorted(labelled) == ["c1/input", "c1/ridge@other", "c1/truth"]
    np.testing.assert_array_equal(labelled["c1/ridge@other"], plain["c1/ridge"])
