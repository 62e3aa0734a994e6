"""The jumps stage: shapes, imputed flags, coverage, determinism, pipelines."""

from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from posekit.core.errors import InvalidPipelineError, PosekitError
from posekit.core.sequence import IMPUTED_CONFIDENCE, PoseSequence
from posekit.jumps.checkpoint import save_checkpoint
from posekit.jumps.networks import build_networks
from posekit.pipeline.run import Pipeline
from posekit.plugins.registry import get_skeleton
from posekit.stages.jumps import Jumps
from posekit.stages.provenance import apply_stage

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
    out = apply_stage(Jumps(model=untrained_model, preset="fast", iterations=2), seq)
    assert out.keypoints == list(get_skeleton("mpi_inf_3dhp_28").joint_names)
    assert np.isfinite(out.positions()).all()
    imputed = out.imputed_flags()
    assert not imputed[..., keep].any()
    assert imputed[..., np.setdiff1d(np.arange(28), keep)].all()
    # Observed joints keep their measured values by default.
    np.testing.assert_array_equal(out.positions()[..., keep, :], seq.positions()[..., keep, :])
    entry = out.log[-1]
    assert entry["stage"] == "jumps" and entry["parameters"]["model_sha256"]
    assert entry["parameters"]["resolved"]["iterations"] == 2 and entry["parameters"]["iterations"] == 2


def test_keep_observed_keeps_input_flags_and_measured_confidences(untrained_model):
    seq, keep = upsample_input(24)
    imputed = seq.imputed_flags().copy()
    imputed[0, :5, keep[0]] = True  # an earlier stage filled this (observed) joint
    confidence = seq.confidences().copy()
    confidence[..., keep] = np.linspace(0.5, 0.9, 24)[None, :, None]
    seq = seq.replace(imputed=imputed, confidence=confidence)
    out = Jumps(model=untrained_model, preset="fast", iterations=1, completion=None)(seq)
    flags = out.imputed_flags()
    assert flags[0, :5, keep[0]].all() and not flags[0, 5:, keep[0]].any()  # |=, not =
    assert not flags[..., keep[1:]].any()
    hidden = np.setdiff1d(np.arange(28), keep)
    assert flags[..., hidden].all()
    # Measured joints keep their confidence, flagged or not; generated ones get the
    # documented confidence of imputed values.
    np.testing.assert_array_equal(out.confidences()[..., keep], confidence[..., keep])
    assert (out.confidences()[..., hidden] == IMPUTED_CONFIDENCE).all()


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
    with pytest.raises(PosekitError, match="remap"):
        Jumps(model=untrained_model)(seq)


def test_parameters_are_checked():
    with pytest.raises(ValueError, match="'iterations' must be >= 1"):
        Jumps(iterations=0)
    with pytest.raises(ValueError, match="at least 1"):
        Jumps(starts=0)
    for bad in ({"overlap": 1.0}, {"batch_windows": 0}, {"gamma_prior": -0.1},
                {"confidence_threshold": 1.5}, {"iterations": 10**9}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            Jumps(**bad)
    with pytest.raises(KeyError, match="closest"):
        Jumps(windowing="closests")
    with pytest.raises(ValueError, match="attach_smoothing"):
        Jumps(attach_smoothing=-1)
    with pytest.raises(ValueError, match="learning_rate"):
        Jumps(learning_rate=0)


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


def test_a_sequence_generated_by_the_shipped_model_is_recovered():
    """Known z, a random similarity transform, the 16 non-input joints hidden."""
    from posekit.jumps.checkpoint import load_model

    generator = load_model().G
    with torch.no_grad():
        z = torch.randn(2, generator.latent, generator=torch.Generator().manual_seed(3))
        truth = generator.positions(z).reshape(48, 28, 2).double().numpy()
    angle, scale, shift = 0.4, 120.0, np.array([700.0, 400.0])
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    pixels = scale * truth @ rotation.T + shift
    skeleton = get_skeleton("mpi_inf_3dhp_28")
    hidden = np.setdiff1d(np.arange(28), skeleton.indices(UPSAMPLE_JOINTS))
    given = pixels.copy()
    given[:, hidden] = np.nan
    seq = PoseSequence.from_arrays(given.transpose(0, 2, 1)[..., None], skeleton=skeleton.name)
    out = Jumps(preset="fast")(seq)
    torso = np.linalg.norm(pixels[:, skeleton.index("neck")] - pixels[:, skeleton.index("pelvis")], axis=-1)
    error = np.linalg.norm(out.positions()[0][:, hidden] - pixels[:, hidden], axis=-1)
    # 0.084 torso lengths measured with the shipped model; a broken fit is several times that.
    assert error.mean() / torso.mean() < 0.12


def test_the_main_job_runs_with_the_shipped_model(tmp_path):
    root = Path(__file__).resolve().parents[1] / "examples"
    out = tmp_path / "result.nc"
    report = Pipeline.from_yaml(root / "upsample.yaml", {"output.path": str(out)}).run()
    assert report.ok, report.failed
    result = PoseSequence.read_netcdf(out)
    assert result.n_keypoints == 28 and result.n_frames == 464
    assert np.isfinite(result.positions()).all()
    assert result.imputed_flags().sum() == report.files[0].imputed > 0


def test_attach_moves_only_the_generated_joints(untrained_model):
    seq, keep = upsample_input(30)
    run = lambda attach: Jumps(model=untrained_model, preset="fast", iterations=2, attach=attach,
                               device="cpu")(seq).positions()[0]
    attached, loose = run(True), run(False)
    np.testing.assert_array_equal(attached[:, keep], loose[:, keep])
    hidden = np.setdiff1d(np.arange(28), keep)
    assert not np.allclose(attached[:, hidden], loose[:, hidden])


def test_completion_starts_the_encoder_from_a_baseline(untrained_model):
    seq, keep = upsample_input(30)
    run = lambda completion: Jumps(model=untrained_model, preset="fast", iterations=1,
                                   completion=completion, device="cpu")(seq).positions()[0]
    with_ridge, plain = run("ridge"), run(None)
    np.testing.assert_array_equal(with_ridge[:, keep], plain[:, keep])
    assert not np.allclose(with_ridge, plain)
    with pytest.raises(KeyError, match="ridge"):
        Jumps(completion="ridg")
    # A completion that leaves joints missing: the encoder sees them as missing.
    partial = Jumps(model=untrained_model, preset="fast", iterations=1, completion="interpolate",
                    device="cpu")(seq).positions()[0]
    assert np.isfinite(partial).all()
    np.testing.assert_allclose(partial, plain)  # interpolate adds nothing to never-seen joints


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.integers(1, 5), starts=st.integers(1, 2))
def test_batches_give_the_output_of_one_batch(untrained_model, batch, starts):
    seq, _ = upsample_input(70, n_individuals=2)  # 5 windows per individual
    options = {"model": untrained_model, "iterations": 3, "starts": starts, "device": "cpu"}
    one = Jumps(**options, batch_windows=1000)(seq)
    streamed = Jumps(**options, batch_windows=batch)(seq)
    # float32 networks: batches of other sizes round differently (1e-5 of the pixels)
    np.testing.assert_allclose(streamed.positions(), one.positions(), atol=1e-3, rtol=1e-5)
    np.testing.assert_array_equal(streamed.imputed_flags(), one.imputed_flags())


def test_the_log_says_what_the_run_did(untrained_model):
    seq, _ = upsample_input(50, n_individuals=2)
    out = apply_stage(Jumps(model=untrained_model, iterations=3, batch_windows=2), seq)
    run = out.log[-1]["parameters"]["run"]
    assert run["windows"] == 2 * 4 and run["batch_windows"] == 2 and run["device"] == "cpu"
    assert 1 <= run["mean_iterations"] <= run["max_iterations"] <= 3


def test_cuda_batches_fill_half_the_free_memory(untrained_model, monkeypatch):
    import posekit.jumps.upsample as stage
    from posekit.jumps.checkpoint import load_model

    model = load_model(untrained_model)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (8 * 2**30, 16 * 2**30))
    monkeypatch.setattr(stage, "_bytes_per_start", lambda model, settings: 2**20)
    settings_ = Jumps(model=untrained_model, starts=2).settings()
    assert stage.default_batch_windows(model, settings_, "cuda") == 8 * 2**30 // 2 // 2**20 // 2
    assert stage.default_batch_windows(model, settings_, "cpu") == stage.CPU_BATCH_WINDOWS


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_runs_on_cuda_with_auto_batches(untrained_model):
    seq, _ = upsample_input(100)
    out = apply_stage(Jumps(model=untrained_model, iterations=3, device="cuda"), seq)
    run = out.log[-1]["parameters"]["run"]
    assert run["device"] == "cuda" and run["batch_windows"] >= 256
    cpu = Jumps(model=untrained_model, iterations=3, device="cpu")(seq)
    np.testing.assert_allclose(out.positions(), cpu.positions(), atol=1e-2, rtol=0)


def test_batch_windows_and_patience_are_checked():
    with pytest.raises(ValueError, match="batch_windows"):
        Jumps(batch_windows=0)
    with pytest.raises(ValueError, match="patience"):
        Jumps(patience=-1)


def test_completion_weights_blend_generator_and_completion(untrained_model):
    """A joint of weight ``w`` is ``(1 - w) * generated + w * completed``: weight 1 is
    the completion's value, weight 0 (or a joint not named) the generator's."""
    from posekit.plugins.registry import get_stage

    seq, _ = upsample_input(30)
    ridge = get_stage("ridge_window")()(seq).positions()  # the default completion
    names = list(get_skeleton("mpi_inf_3dhp_28").joint_names)
    fit = {"model": untrained_model, "preset": "fast", "iterations": 2}
    generated = Jumps(**fit, completion_weights={})(seq).positions()
    weights = {"spine2": 1.0, "neck": 0.5, "head_top": 0.25, "left_toe": 0.0}
    out = Jumps(**fit, completion_weights=weights)(seq).positions()
    for name, w in weights.items():
        j = names.index(name)
        np.testing.assert_allclose(
            out[..., j, :], (1 - w) * generated[..., j, :] + w * ridge[..., j, :], atol=1e-9
        )
        if 0 < w:
            assert not np.allclose(out[..., j, :], generated[..., j, :])
    other = names.index("right_foot")
    np.testing.assert_array_equal(out[..., other, :], generated[..., other, :])
    defaults = Jumps(**fit)(seq).positions()
    hand = names.index("left_hand")  # weight 1 in COMPLETION_WEIGHTS
    np.testing.assert_allclose(defaults[..., hand, :], ridge[..., hand, :])
    assert Jumps(completion=None).blend_weights() == {}
    with pytest.raises(ValueError, match="needs a completion stage"):
        Jumps(completion=None, completion_weights={"spine": 1.0})
    with pytest.raises(ValueError, match="not joints of"):
        Jumps(completion_weights={"nose": 1.0})
    with pytest.raises(ValueError, match="between 0 and 1"):
        Jumps(completion_weights={"neck": 1.5})


def test_gaps_of_measured_joints_blend_with_gap_weight(untrained_model):
    """A joint the input measures in some frames is, in the others, ``(1 - gap_weight) *
    generated + gap_weight * completed``, whatever ``completion_weights`` gives it."""
    from posekit.plugins.registry import get_stage

    seq, _ = upsample_input(30)
    names = list(get_skeleton("mpi_inf_3dhp_28").joint_names)
    hand = names.index("left_hand")  # weight 1 in COMPLETION_WEIGHTS
    position = seq.positions().copy()
    position[0, :10, hand] = position[0, :10, names.index("left_wrist")] + 5.0
    seq = seq.replace(position=position)
    completed = get_stage("ridge_window")()(seq).positions()[0, 10:, hand]
    fit = {"model": untrained_model, "preset": "fast", "iterations": 2}
    generated = Jumps(**fit, gap_weight=0.0)(seq).positions()[0, 10:, hand]
    out = Jumps(**fit, gap_weight=0.25)(seq).positions()
    np.testing.assert_array_equal(out[0, :10, hand], position[0, :10, hand])
    np.testing.assert_allclose(out[0, 10:, hand], 0.75 * generated + 0.25 * completed, atol=1e-9)
    assert not np.allclose(generated, completed)
    with pytest.raises(ValueError, match="gap_weight"):
        Jumps(gap_weight=1.5)


def test_flip_test_makes_the_stage_mirror_equivariant(untrained_model):
    """With ``flip_test`` the output of the mirrored input is the mirrored output (the
    two runs are averaged, so the order of the mirror does not matter); one run alone
    is not."""
    from posekit.jumps.encoding import mirror_positions

    seq, _ = upsample_input(30)
    mirrored = seq.replace(position=mirror_positions(seq.positions()))
    fit = {"model": untrained_model, "preset": "fast", "iterations": 2, "completion": None}
    for flip_test in (True, False):
        stage = Jumps(**fit, flip_test=flip_test)
        out, out_mirrored = stage(seq).positions(), stage(mirrored).positions()
        same = np.allclose(mirror_positions(out), out_mirrored, atol=1e-3)
        assert same == flip_test


def test_completion_sees_joints_under_the_threshold_as_missing():
    """The completion gets the sequence the windows see: a joint whose confidence is
    under the threshold is missing for it too (not an estimator's guess to build on)."""
    from posekit.jumps.upsample import complete_individual

    seq, keep = upsample_input(30)
    confidence = np.full(seq.confidences().shape, 0.9)
    confidence[0, 5:9, keep[0]] = 0.1
    seq = seq.replace(confidence=confidence)
    seen = []

    def completion(part: PoseSequence) -> PoseSequence:
        seen.append(part.observed()[0])
        return part

    out = complete_individual(completion, seq, 0, threshold=0.4)
    assert not seen[0][5:9, keep[0]].any() and np.isnan(out[5:9, keep[0]]).all()
    assert seen[0][:5, keep].all() and seen[0][9:, keep].all()
    assert np.isfinite(complete_individual(completion, seq, 0, threshold=0.0)[5:9, keep[0]]).all()


def test_names_resolve_against_the_pipelines_registry(untrained_model):
    """A window strategy only the pipeline's registry knows is found when the stage is
    built, and used when it runs (the shared registry is never asked)."""
    from posekit.jumps.windowing import Blend
    from posekit.plugins.registry import build_registry

    registry = build_registry(entry_points=False)
    registry.add_windowing("mine", Blend)
    step = {"jumps": {"model": untrained_model, "windowing": "mine", "iterations": 1}}
    with pytest.raises(InvalidPipelineError, match="unknown windowing 'mine'"):
        Pipeline.from_dict({"steps": [step]})
    pipeline = Pipeline.from_dict({"steps": [step]}, registry=registry)
    seq, _ = upsample_input(30)
    out = pipeline(seq)
    blend = Jumps(model=untrained_model, windowing="blend", iterations=1)(seq)
    np.testing.assert_array_equal(out.positions(), blend.positions())
    assert out.log[-1]["parameters"]["windowing"] == "mine"
