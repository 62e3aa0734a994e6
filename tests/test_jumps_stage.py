"""The jumps stage: shapes, imputed flags, coverage, determinism, pipelines."""

import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from posekit.jumps.checkpoint import save_checkpoint
from posekit.jumps.networks import build_networks
from posekit.pipeline import Pipeline
from posekit.registry import get_skeleton
from posekit.sequence import PoseSequence
from posekit.stages.jumps import Jumps

UPSAMPLE_JOINTS = [
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
]  # fmt: skip


@pytest.fixture(scope="module")
def untrained_model(tmp_path_factory):
    """A small random checkpoint: enough to test the mechanics, not the accuracy."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "random.safetensors"
    save_checkpoint(path, build_networks(), {})
    return str(path)


def upsample_input(n_frames, n_individuals=1, seed=0):
    rng = np.random.default_rng(seed)
    position = rng.normal(size=(n_frames, 2, 28, n_individuals)) * 40 + 500
    keep = get_skeleton("mpi_inf_3dhp_28").indices(UPSAMPLE_JOINTS)
    hidden = np.setdiff1d(np.arange(28), keep)
    position[:, :, hidden] = np.nan
    return PoseSequence.from_arrays(position, skeleton="mpi_inf_3dhp_28", fps=30), keep


def test_output_has_28_joints_and_imputed_flags(untrained_model):
    seq, keep = upsample_input(30, n_individuals=2)
    out = Jumps(model=untrained_model, preset="fast", iterations=2)(seq)
    assert out.keypoints == list(get_skeleton("mpi_inf_3dhp_28").joint_names)
    assert np.isfinite(out.positions()).all()
    imputed = out.imputed_flags()
    assert not imputed[..., keep].any()
    assert imputed[..., np.setdiff1d(np.arange(28), keep)].all()
    # Observed joints keep their measured values by default.
    np.testing.assert_array_equal(out.positions()[..., keep, :], seq.positions()[..., keep, :])
    entry = out.log[-1]
    assert entry["stage"] == "jumps" and entry["parameters"]["model_sha256"]


def test_keep_observed_false_marks_everything_generated(untrained_model):
    seq, keep = upsample_input(24)
    out = Jumps(model=untrained_model, preset="fast", iterations=2, keep_observed=False)(seq)
    assert out.imputed_flags().all()
    assert not np.array_equal(out.positions()[..., keep, :], seq.positions()[..., keep, :])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n_frames=st.integers(1, 100), overlap=st.sampled_from([0.0, 0.5]))
def test_any_length_gives_one_output_per_frame(untrained_model, n_frames, overlap):
    seq, _ = upsample_input(n_frames)
    out = Jumps(model=untrained_model, preset="fast", iterations=1, overlap=overlap)(seq)
    assert out.n_frames == n_frames
    assert np.isfinite(out.positions()).all()


def test_nan_only_individual_is_skipped_with_a_warning(untrained_model):
    seq, _ = upsample_input(30, n_individuals=2)
    position = seq.positions().copy()
    position[1] = np.nan
    seq = seq.replace(position=position)
    with pytest.warns(UserWarning, match="id_1.*no observed joint"):
        out = Jumps(model=untrained_model, preset="fast", iterations=1)(seq)
    assert np.isnan(out.positions()[1]).all()
    assert not out.imputed_flags()[1].any()  # nothing presented as measured or generated
    assert np.isfinite(out.positions()[0]).all()


def test_low_confidence_joints_count_as_missing(untrained_model):
    seq, keep = upsample_input(24)
    confidence = np.where(np.isfinite(seq.positions()).all(-1), 0.9, np.nan)
    confidence[0, :, keep[0]] = 0.1
    seq = seq.replace(confidence=confidence)
    out = Jumps(model=untrained_model, preset="fast", iterations=1, confidence_threshold=0.4)(seq)
    assert out.imputed_flags()[0, :, keep[0]].all()
    assert out.imputed_flags()[0, :, keep[1]].sum() == 0


def test_deterministic_for_a_seed_on_cpu(untrained_model):
    seq, _ = upsample_input(40)
    run = lambda seed: Jumps(model=untrained_model, starts=3, iterations=3, seed=seed, device="cpu")(seq)
    a, b, c = run(1), run(1), run(2)
    np.testing.assert_array_equal(a.positions(), b.positions())
    assert not np.array_equal(a.positions(), c.positions())


def test_needs_the_28_joint_layout(untrained_model):
    seq = PoseSequence.from_arrays(np.zeros((24, 2, 17, 1)), skeleton="coco_17")
    with pytest.raises(Exception, match="remap"):
        Jumps(model=untrained_model)(seq)


def test_parameters_are_checked():
    with pytest.raises(ValueError, match="at least 1"):
        Jumps(iterations=0)
    with pytest.raises(KeyError, match="closest"):
        Jumps(windowing="closests")


def test_runs_in_a_pipeline_from_yaml(untrained_model, tmp_path):
    seq, _ = upsample_input(30)
    seq.to_netcdf(tmp_path / "clip.nc")
    (tmp_path / "pipeline.yaml").write_text(
        "input: {path: clip.nc}\n"
        "steps:\n"
        f"  - jumps: {{model: {untrained_model}, preset: fast, iterations: 2}}\n"
        "output: {writer: netcdf, path: \"out/{stem}.nc\"}\n"
    )
    report = Pipeline.from_yaml(tmp_path / "pipeline.yaml").run()
    assert report.ok
    out = PoseSequence.read_netcdf(tmp_path / "out" / "clip.nc")
    assert out.n_keypoints == 28 and np.isfinite(out.positions()).all()
