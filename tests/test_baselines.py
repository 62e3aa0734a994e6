"""The baselines: recovery on their own training distribution, model files, stages."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posekit.baselines.common import (
    ModelFileError,
    conditional,
    fill_gaps_linear,
    load_model,
    mirror_symmetric,
    save_model,
)
from posekit.baselines.interpolate import interpolate_gaps
from posekit.baselines.knn import FrameDatabase
from posekit.baselines.mean_pose import fit_mean_pose, mean_pose
from posekit.baselines.ridge import FrameGaussian
from posekit.baselines.ridge_window import WindowGaussian
from posekit.core.sequence import IMPUTED_CONFIDENCE, PoseSequence
from posekit.evaluation.scoring import UPSAMPLE_JOINTS
from posekit.plugins.registry import get_registry, get_skeleton, get_stage
from posekit.stages.provenance import apply_stage

NAMES = get_skeleton("mpi_inf_3dhp_28").joint_names
GIVEN = np.array([n in UPSAMPLE_JOINTS for n in NAMES])
RNG = np.random.default_rng(7)
TEMPLATE = RNG.normal(size=(28, 2))
BASIS = RNG.normal(size=(4, 56)) * 0.15


def low_rank_windows(n: int, frames: int = 24, seed: int = 0, rank: int = 4) -> np.ndarray:
    """Windows ``(n, F, 28, 2)`` from a rank-``rank`` Gaussian with smooth (AR(1))
    coefficients in time, around a template, with a random translation per window."""
    rng = np.random.default_rng(seed)
    z = np.empty((n, frames, 4))
    z[:, 0] = rng.normal(size=(n, 4))
    for t in range(1, frames):
        z[:, t] = 0.95 * z[:, t - 1] + np.sqrt(1 - 0.95**2) * rng.normal(size=(n, 4))
    z[..., rank:] = 0.0
    poses = TEMPLATE + (z @ BASIS).reshape(n, frames, 28, 2)
    return poses + rng.normal(size=(n, 1, 1, 2)) * 0.3


@pytest.fixture(scope="module")
def training():
    """Training windows, 12 frames long to keep the window model small and fast."""
    return low_rank_windows(1500, frames=12)


@pytest.fixture(scope="module")
def test_clip():
    """A 40-frame clip in pixel-like units: scaled and shifted."""
    return low_rank_windows(1, frames=40, seed=99)[0] * 37.0 + [500.0, 300.0]


def upsample_input(clip: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    seen = np.broadcast_to(GIVEN, clip.shape[:2]).copy()
    return np.where(seen[..., None], clip, np.nan), seen


def test_conditional_matches_least_squares_on_data():
    """The closed form from mean and covariance equals ridge fitted on the centred data."""
    x = RNG.normal(size=(400, 10)) @ RNG.normal(size=(10, 10)) + RNG.normal(size=10)
    points = np.array([True, False, True, True, False])
    cond = conditional(x.mean(0), np.cov(x, rowvar=False, bias=True), points, alpha=0.1)
    coords = np.repeat(points, 2)
    xy = x.reshape(400, 5, 2)
    z = (xy - xy[:, points].mean(axis=1, keepdims=True)).reshape(400, 10)
    zo, zm = z[:, coords], z[:, ~coords]
    zo_c, zm_c = zo - zo.mean(0), zm - zm.mean(0)
    expected = np.linalg.solve(zo_c.T @ zo_c / 400 + 0.1 * np.eye(6), zo_c.T @ zm_c / 400).T
    np.testing.assert_allclose(cond.weights, expected, atol=1e-10)


def test_ridge_recovers_the_training_distribution(training, test_clip):
    model = FrameGaussian.fit(training.reshape(-1, 28, 2), alpha=1e-8)
    pred = model.predict(*upsample_input(test_clip))
    assert np.abs(pred - test_clip).max() < 1e-3  # pixels; the clip's unit is 37 pixels
    assert np.isfinite(model.predict(*upsample_input(test_clip), scale="spread")).all()
    # Any other mask: 20 random joints observed.
    seen = np.zeros((40, 28), bool)
    seen[:, RNG.permutation(28)[:20]] = True
    pred = model.predict(np.where(seen[..., None], test_clip, np.nan), seen)
    assert np.abs(pred - test_clip).max() < 1e-3


def test_ridge_window_recovers_the_training_distribution(training, test_clip):
    for model in (
        WindowGaussian.fit(training, alpha=1e-8),
        WindowGaussian.fit(training, alpha=1e-8, rank=100),
    ):
        pred = model.predict(*upsample_input(test_clip))
        assert np.abs(pred - test_clip).max() < 1e-2
    short = model.predict(*upsample_input(test_clip[:10]))  # padded to a window
    assert short.shape == (10, 28, 2) and np.abs(short - test_clip[:10]).max() < 1e-2


def test_ridge_window_fills_occlusions_of_measured_joints(training, test_clip):
    """Gaps in the measured joints (bursts of 1-8 frames) are filled from the model of
    those joints alone, then every joint follows: all recover the clip, and the gap
    pass used the measured joints' model; its result matches the one-pass regression
    from the gappy mask (a Gaussian's conditional mean does not depend on the order)."""
    model = WindowGaussian.fit(training, alpha=1e-8)
    clip, seen = upsample_input(test_clip)
    rng = np.random.default_rng(3)
    for joint in np.flatnonzero(GIVEN):
        start = rng.integers(0, 32)
        seen[start : start + rng.integers(1, 9), joint] = False
    position = np.where(seen[..., None], clip, np.nan)
    pred = model.predict(position, seen)
    assert not seen[:, GIVEN].all() and model._marginals  # the gap pass ran
    assert np.abs(pred - test_clip).max() < 1e-2
    window = model.n_frames
    one_pass = model.predict_window(position[:window], seen[:window])
    two_pass = model.predict_window(*model._fill_measured_gaps(
        position[:window], seen[:window], 0.0, "gls"))
    np.testing.assert_allclose(two_pass, one_pass, atol=1e-4)


def test_knn_recovers_the_training_distribution(test_clip):
    dense = low_rank_windows(4000, frames=8, seed=3, rank=1).reshape(-1, 28, 2)
    clip = np.concatenate(list(low_rank_windows(3, frames=8, seed=5, rank=1))) * 20.0 + 100.0
    pred = FrameDatabase(dense, k=3).predict(*upsample_input(clip))
    assert np.abs(pred - clip).max() < 0.05 * 20.0  # within 5 % of the unit scale


def test_mean_pose_fits_a_similarity_image_of_the_template():
    angle = 0.3
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    frames = np.stack([s * TEMPLATE @ rot.T + [s, -s] for s in (2.0, 5.0, 9.0)])
    template = mean_pose(TEMPLATE[None] + RNG.normal(size=(1, 1, 2)))
    position, seen = upsample_input(frames)
    np.testing.assert_allclose(fit_mean_pose(template, position, seen), frames, atol=1e-9)


def test_interpolate_fills_gaps_and_leaves_unobserved_joints():
    t = np.arange(10.0)
    pos = np.stack([t**2, 3 * t], axis=-1)[:, None, :].repeat(2, axis=1)
    seen = np.ones((10, 2), bool)
    seen[3:6, 0] = False
    seen[:, 1] = False
    out = interpolate_gaps(np.where(seen[..., None], pos, np.nan), seen)
    np.testing.assert_allclose(out[:, 0], pos[:, 0], atol=1e-9)
    assert np.isnan(out[:, 1]).all()


def test_fill_gaps_linear_respects_the_limit():
    pos = np.arange(8.0).reshape(8, 1, 1)
    seen = np.array([1, 0, 0, 1, 0, 0, 0, 1], bool)[:, None]
    out, filled = fill_gaps_linear(np.where(seen[..., None], pos, np.nan), seen, max_gap=2)
    assert filled[:, 0].tolist() == [0, 1, 1, 0, 0, 0, 0, 0]
    assert out[1:3, 0, 0].tolist() == [1.0, 2.0] and np.isnan(out[4:7]).all()


# -- model files and stages ------------------------------------------------------------
@pytest.fixture(scope="module")
def models(training, tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    frames = training.reshape(-1, 28, 2)
    return {
        "ridge": save_model(folder / "ridge.npz", "ridge",
                            FrameGaussian.fit(frames, 1e-8).arrays(), {}),
        "ridge_window": save_model(folder / "ridge_window.npz", "ridge_window",
                                   WindowGaussian.fit(training, 1e-8, rank=100).arrays(), {}),
        "knn": save_model(folder / "knn.npz", "knn",
                          {"frames": frames[::4].astype(np.float16), "k": np.int64(10)}, {}),
        "mean_pose": save_model(folder / "mean_pose.npz", "mean_pose",
                                {"mean_pose": mean_pose(frames)}, {}),
    }


def clip_sequence(clip: np.ndarray, seen: np.ndarray) -> PoseSequence:
    position = np.where(seen[..., None], clip, np.nan)
    return PoseSequence.from_arrays(position.transpose(0, 2, 1)[..., None],
                                    skeleton="mpi_inf_3dhp_28")


@pytest.mark.parametrize("name", ["ridge", "ridge_window", "knn", "mean_pose"])
def test_stage_passes_given_joints_and_flags_the_rest(models, test_clip, name):
    _, seen = upsample_input(test_clip)
    seen = seen.copy()
    seen[10:14, NAMES.index("left_wrist")] = False  # an hpe-style gap
    seq = clip_sequence(test_clip, seen)
    out = apply_stage(get_stage(name)(model=models[name]), seq)
    position, imputed = out.positions()[0], out.imputed_flags()[0]
    assert np.isfinite(position).all()
    np.testing.assert_array_equal(position[seen], test_clip[seen])  # measured, untouched
    np.testing.assert_array_equal(imputed, ~seen)
    assert (out.confidences()[0][~seen] == IMPUTED_CONFIDENCE).all()  # kept by filters
    assert [entry["stage"] for entry in out.log] == [name]  # one entry, by apply_stage
    if name in ("ridge", "ridge_window"):  # exact but for the linearly filled gap
        assert np.abs(position - test_clip).max() < 8.0  # pixels, of a 37-pixel unit


@settings(max_examples=25, deadline=None)
@given(frames=st.integers(1, 3), seed=st.integers(0, 2**31 - 1))
def test_mirror_symmetric_moments_are_those_of_the_data_and_its_mirror(frames, seed):
    """The symmetrised moments equal the moments of the windows pooled with their
    mirror images (left and right joints swapped, x negated), computed directly."""
    from posekit.jumps.encoding import mirror_positions

    windows = np.random.default_rng(seed).normal(size=(50, frames, 28, 2))
    pooled = np.concatenate([windows, mirror_positions(windows)]).reshape(100, -1)
    flat = windows.reshape(50, -1)
    mean, second = mirror_symmetric(flat.mean(axis=0), flat.T @ flat / 50,
                                    get_skeleton("mpi_inf_3dhp_28").mirror_permutation())
    np.testing.assert_allclose(mean, pooled.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(second, pooled.T @ pooled / 100, atol=1e-12)


def test_shipped_window_ridge_is_mirror_equivariant(test_clip):
    """The shipped window model was fitted on every training clip and its left/right
    mirror image, so the completion of a mirrored input is the mirrored completion."""
    from posekit.baselines.common import default_model_path
    from posekit.jumps.encoding import mirror_positions

    if not default_model_path("ridge_window").exists():
        pytest.skip("baseline models not fitted yet (python -m training.fit_baselines)")
    seq = clip_sequence(test_clip, upsample_input(test_clip)[1])
    mirrored = seq.replace(position=mirror_positions(seq.positions()))
    stage = get_stage("ridge_window")()
    out, out_of_mirrored = stage(seq).positions(), stage(mirrored).positions()
    np.testing.assert_allclose(out_of_mirrored, mirror_positions(out), atol=0.01)  # pixels


def test_round_trip_through_the_file(models, training, test_clip):
    arrays, meta = load_model(models["ridge"], "ridge")
    assert meta["sha256"] and meta["method"] == "ridge"
    direct = FrameGaussian.fit(training.reshape(-1, 28, 2), 1e-8)
    loaded = FrameGaussian.from_arrays(arrays)
    np.testing.assert_array_equal(loaded.cov, direct.cov)
    inputs = upsample_input(test_clip)
    np.testing.assert_array_equal(loaded.predict(*inputs), direct.predict(*inputs))
    window_arrays, _ = load_model(models["ridge_window"], "ridge_window")
    assert WindowGaussian.from_arrays(window_arrays).basis.shape == (12 * 56, 100)


def test_tampered_or_mislabelled_file_is_refused(models, tmp_path):
    data = bytearray(models["mean_pose"].read_bytes())
    data[len(data) // 2] ^= 0xFF
    tampered = tmp_path / "mean_pose.npz"
    tampered.write_bytes(bytes(data))
    (tmp_path / "mean_pose.json").write_text(models["mean_pose"].with_suffix(".json").read_text())
    with pytest.raises(ModelFileError, match="SHA-256"):
        load_model(tampered, "mean_pose")
    with pytest.raises(ModelFileError, match="SHA-256"):
        get_stage("mean_pose")(model=tampered)(clip_sequence(np.zeros((3, 28, 2)),
                                                              np.ones((3, 28), bool)))
    with pytest.raises(ModelFileError, match="expected 'knn'"):
        load_model(models["mean_pose"], "knn")
    (tmp_path / "lone.npz").write_bytes(models["knn"].read_bytes())
    with pytest.raises(ModelFileError, match="sidecar"):
        load_model(tmp_path / "lone.npz", "knn")


def test_a_missing_model_file_says_what_the_user_can_do(tmp_path, monkeypatch):
    """A user's missing file: use the shipped model or fit one in a source checkout;
    the shipped file missing: the installation is broken."""
    from posekit.baselines import common

    with pytest.raises(ModelFileError, match="gone.npz: no such model file") as caught:
        get_stage("ridge")(model=tmp_path / "gone.npz").check()
    assert "model unset" in str(caught.value) and "source repository" in str(caught.value)
    monkeypatch.setattr(common, "default_model_path", lambda method: tmp_path / f"{method}.npz")
    with pytest.raises(ModelFileError, match="reinstall posekit"):
        get_stage("knn")().check()


def test_object_arrays_are_never_saved(tmp_path):
    with pytest.raises(ValueError, match="object"):
        save_model(tmp_path / "x.npz", "x", {"bad": np.array([{}], dtype=object)}, {})


def test_every_baseline_is_registered():
    stages = get_registry().stages
    for name in ("mean_pose", "ridge", "ridge_window", "knn", "interpolate"):
        assert stages[name].origin == "posekit"


def test_shipped_models_have_matching_hashes():
    """Each shipped model's sidecar holds its hash (and the files stay small)."""
    from posekit.baselines.common import default_model_path, sha256_of

    for name in ("mean_pose", "ridge", "ridge_window", "knn"):
        path = default_model_path(name)
        if not path.exists():
            pytest.skip("baseline models not fitted yet (python -m training.fit_baselines)")
        meta = json.loads(path.with_suffix(".json").read_text())
        assert meta["sha256"] == sha256_of(path)
        assert path.stat().st_size < 4_000_000
