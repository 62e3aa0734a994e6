"""JUMPS training: losses, gradient penalty, masks, determinism, resume, the run loop."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from posekit.jumps.encoding import default_mean_pose
from posekit.jumps.losses import gradient_penalty, interpolates, mpjpe, mpjve
from posekit.jumps.networks import Critic
from training.build_eval import occlusion_mask
from training.train_jumps import (
    DEFAULTS,
    INPUT_JOINTS,
    Trainer,
    main,
    merge,
    run,
    sample_visibility,
    set_option,
)


def synthetic_windows(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = default_mean_pose().numpy()
    t = np.linspace(0.0, 1.0, 24)[None, :, None, None]
    phase = rng.uniform(0, 6.3, (n, 1, 1, 1)) + 0.3 * np.arange(28)[None, None, :, None]
    amp = rng.uniform(0.0, 0.3, (n, 1, 1, 1))
    return (base + amp * np.sin(6 * t + phase)).astype(np.float32)


TRAIN = synthetic_windows(64)
VAL = synthetic_windows(16, seed=1)


def tiny_config(**train):
    return merge(DEFAULTS, {
        "device": "cpu", "progress": False, "baseline": False,
        "data": {"val_windows": 16},
        "train": {"batch_size": 8, **train},
        "log_every": 1, "val_every": 2, "checkpoint_every": 2,
    })


def weights(trainer):
    return {f"{n}.{k}": v.clone() for n, net in trainer.nets.items()
            for k, v in net.state_dict().items()}


def test_losses():
    x = torch.zeros(2, 24, 28, 2)
    assert mpjpe(x + torch.tensor([3.0, 4.0]), x).item() == pytest.approx(5.0)
    moving = torch.cumsum(torch.ones(2, 24, 28, 2), dim=1)
    assert mpjve(moving + 1.0, moving).item() == pytest.approx(0.0, abs=1e-6)
    mask = torch.zeros(2, 24, 28, dtype=torch.bool)
    mask[:, :, 0] = True
    y = x.clone()
    y[..., 1:, :] = 10.0
    assert mpjpe(y, x, mask).item() == 0.0


def test_interpolates_lie_on_the_segments():
    torch.manual_seed(0)
    real, fake = torch.randn(16, 4, 24, 18), torch.randn(16, 4, 24, 18)
    mid = interpolates(real, fake)
    # mid - fake = t (real - fake) with one t in [0, 1] per sample.
    t = ((mid - fake) * (real - fake)).sum(dim=(1, 2, 3)) / ((real - fake) ** 2).sum(dim=(1, 2, 3))
    assert ((t >= 0) & (t <= 1)).all() and t.std() > 0.1
    assert torch.allclose(mid, t[:, None, None, None] * real + (1 - t[:, None, None, None]) * fake,
                          atol=1e-5)


def test_gradient_penalty_matches_a_direct_computation():
    torch.manual_seed(0)
    critic = Critic()
    real, fake = torch.randn(4, 4, 24, 18), torch.randn(4, 4, 24, 18)
    gen = torch.Generator().manual_seed(3)
    points = interpolates(real, fake, generator=gen)
    t = torch.rand(4, 1, 1, 1, generator=torch.Generator().manual_seed(3))
    assert torch.equal(points, t * real + (1 - t) * fake)
    gp = gradient_penalty(critic, points)
    direct = []
    for i in range(4):
        p = points[i : i + 1].clone().requires_grad_(True)
        (g,) = torch.autograd.grad(critic(p).sum(), p)
        direct.append((g.norm() - 1) ** 2)
    assert gp.item() == pytest.approx(torch.stack(direct).mean().item(), rel=1e-4)
    # It is differentiable with respect to the critic's weights (double backward).
    gp.backward()
    assert all(p.grad is not None for p in critic.parameters() if p.dim() > 1)


def test_visibility_kinds():
    rng = np.random.default_rng(0)
    cfg = DEFAULTS["masks"]
    x = synthetic_windows(6)
    for kind in range(4):
        x_tilde, mask, _ = sample_visibility(rng, x, cfg, np.full(6, kind))
        assert np.isnan(x_tilde[~mask]).all() and np.isfinite(x_tilde[mask]).all()
        if kind == 0:
            assert mask.all() and np.array_equal(x_tilde, x)
        if kind == 1:
            assert np.array_equal(np.flatnonzero(mask[0, 0]), np.sort(INPUT_JOINTS))
            assert mask.all(axis=(0, 1)).sum() == 12 and np.array_equal(x_tilde[mask], x[mask])
        if kind == 2:
            assert not mask[..., [j for j in range(28) if j not in INPUT_JOINTS]].any()
            assert not np.array_equal(x_tilde[mask], x[mask])  # noisy
    bursts = occlusion_mask(rng, (200, 24, 28), 0.02, (1, 20), lead_in=False)
    assert 0.05 < bursts.mean() < 0.3


def test_one_step_lowers_the_reconstruction_loss():
    # A small step: Adam's first step moves every weight by ~lr (sign-like), so a
    # test of the gradient's direction needs lr small enough for the first-order regime.
    trainer = Trainer(tiny_config(lambda_m=0.0, lambda_z=0.0, lr=1e-5), TRAIN, VAL)
    x = TRAIN[:8]
    visibility = sample_visibility(np.random.default_rng(0), x, DEFAULTS["masks"], np.full(8, 1))[:2]

    def loss():
        torch.manual_seed(5)
        return reconstruction(trainer, x, visibility)

    before = loss()
    torch.manual_seed(6)
    trainer.generator_step(x, visibility)
    assert loss() < before


@torch.no_grad()
def reconstruction(trainer, x, visibility):
    from posekit.jumps.encoding import encoder_input

    x_tilde, mask = (torch.from_numpy(a) for a in visibility)
    grid, _ = encoder_input(x_tilde, mask, trainer.E.mean_pose)
    z = torch.cat([torch.randn(len(x), 64), trainer.E(grid)])
    recon = trainer.G.positions(z)[len(x):]
    l_p, l_s, _ = trainer.reconstruction(torch.from_numpy(x), x_tilde, mask, recon)
    return (200 * l_p + 100 * l_s).item()


def test_training_is_deterministic_for_a_seed():
    runs = []
    for _ in range(2):
        trainer = Trainer(tiny_config(), TRAIN, VAL)
        for _ in range(3):
            trainer.train_step()
        runs.append(weights(trainer))
    assert runs[0].keys() == runs[1].keys()
    assert all(torch.equal(runs[0][k], runs[1][k]) for k in runs[0])
    other = Trainer(merge(tiny_config(), {"seed": 1}), TRAIN, VAL)
    other.train_step()
    assert not torch.equal(weights(other)["G.net.0.weight"], runs[0]["G.net.0.weight"])


def test_resume_continues_exactly(tmp_path):
    straight = Trainer(tiny_config(n_critic=2), TRAIN, VAL)
    for _ in range(4):
        straight.train_step()
    first = Trainer(tiny_config(n_critic=2), TRAIN, VAL)
    for _ in range(2):
        first.train_step()
    first.save_state(tmp_path)
    torch.manual_seed(123)  # the resumed run must not depend on the fresh process's state
    second = Trainer(tiny_config(n_critic=2), TRAIN, VAL)
    second.load_state(tmp_path)
    for _ in range(2):
        second.train_step()
    a, b = weights(straight), weights(second)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_run_writes_logs_checkpoints_and_plots(tmp_path):
    from posekit.jumps.checkpoint import load_model

    config = merge(tiny_config(steps=4), {"name": "t"})
    trainer = run(config, tmp_path, train_windows=TRAIN, val_windows=VAL)
    for name in ("losses.csv", "val.csv", "losses.png", "samples.png", "best.safetensors",
                 "best.json", "last.safetensors", "state.safetensors", "config.yaml"):
        assert (tmp_path / name).is_file(), name
    assert trainer.step == 4
    model = load_model(tmp_path / "last.safetensors")
    assert model.metadata["steps"] == 4 and "upsample_auc" in model.metadata["validation"]
    # --max-minutes 0: stops at once, cleanly, with a checkpoint; resume goes on.
    again = run(merge(config, {"train": {"steps": 6}}), tmp_path, resume=True, max_minutes=0,
                train_windows=TRAIN, val_windows=VAL)
    assert again.step == 4
    done = run(merge(config, {"train": {"steps": 6}}), tmp_path, resume=True,
               train_windows=TRAIN, val_windows=VAL)
    assert done.step == 6
    rows = (tmp_path / "losses.csv").read_text().strip().splitlines()
    assert [int(r.split(",")[0]) for r in rows[1:]] == [1, 2, 3, 4, 5, 6]


def test_without_encoder(tmp_path):
    trainer = Trainer(merge(tiny_config(), {"train": {"encoder": False}}), TRAIN, VAL)
    assert trainer.E is None and "E" not in trainer.nets
    logs = trainer.train_step()
    assert logs["mpjpe"] == 0.0 and np.isfinite(logs["loss_d"])


def test_autoencoder_phase_leaves_the_critic_alone():
    """With ``adversarial_from`` unset (null) the critic never trains and G gets no
    adversarial term; from the given step on, both run."""
    never = Trainer(tiny_config(adversarial_from=None, prior_fraction=0.25), TRAIN, VAL)
    critic = {k: v.clone() for k, v in never.D.state_dict().items()}
    for _ in range(2):
        logs = never.train_step()
        assert logs["loss_g"] == 0.0 and logs["wasserstein"] == 0.0
    assert all(torch.equal(v, never.D.state_dict()[k]) for k, v in critic.items())

    later = Trainer(tiny_config(adversarial_from=1), TRAIN, VAL)
    critic = {k: v.clone() for k, v in later.D.state_dict().items()}
    later.train_step()
    assert all(torch.equal(v, later.D.state_dict()[k]) for k, v in critic.items())
    logs = later.train_step()
    assert logs["loss_g"] != 0.0
    assert not all(torch.equal(v, later.D.state_dict()[k]) for k, v in critic.items())


def test_train_fit_and_heldout_divide_the_train_clips(tmp_path):
    import json

    from training.mocap import HELDOUT_EVERY, split_clips

    clips = {"01": [f"01_{i:02d}" for i in range(1, 12)], "02": ["02_01", "02_02"],
             "03": ["03_01"]}
    (tmp_path / "splits.json").write_text(json.dumps(
        {"unit": "subject", "splits": {"train": ["01", "02"], "val": ["03"], "test": []},
         "clips": clips}))
    fit, held = split_clips(tmp_path, "train-fit"), split_clips(tmp_path, "train-heldout")
    assert sorted(fit + held) == sorted(split_clips(tmp_path, "train"))
    assert not set(fit) & set(held)
    assert held == clips["01"][2::HELDOUT_EVERY]


def test_a_run_can_start_from_a_saved_model(tmp_path):
    first = Trainer(tiny_config(), TRAIN, VAL)
    first.train_step()
    first.save_model(tmp_path / "m.safetensors")
    second = Trainer(merge(tiny_config(), {"init_from": str(tmp_path / "m.safetensors")}), TRAIN, VAL)
    saved, started = weights(first), weights(second)
    assert all(torch.allclose(saved[k], started[k]) for k in saved)
    other = merge(tiny_config(), {"init_from": str(tmp_path / "m.safetensors"),
                                  "model": {"latent": 32}})
    with pytest.raises(SystemExit, match="differs from the configuration"):
        Trainer(other, TRAIN, VAL)


def test_set_overrides_nested_settings_and_refuses_unknown_ones(capsys):
    config = tiny_config()
    set_option(config, "train.lr=1.5e-4")
    set_option(config, "data.train=cache/windows-train-abc.npz")
    set_option(config, "model.generator_widths=[16, 8, 4]")
    assert config["train"]["lr"] == 1.5e-4 and config["model"]["generator_widths"] == [16, 8, 4]
    assert config["data"]["train"] == "cache/windows-train-abc.npz"
    for item, message in (("train.lrr=1", "no setting 'lrr'"), ("trian.lr=1", "no section 'trian'"),
                          ("train.lr", "expected SECTION.KEY=VALUE")):
        with pytest.raises(ValueError, match=message):
            set_option(config, item)
    with pytest.raises(SystemExit) as exit_info:  # the command line: a usage error, no run
        main(["--set", "train.lrr=1", "--max-minutes", "0"])
    assert exit_info.value.code == 2 and "no setting 'lrr'" in capsys.readouterr().err


def test_bfloat16_autocast_on_a_cpu_trains_close_to_float32():
    """``amp_cpu``: the same steps under bfloat16 autocast give finite losses and weights
    that moved as in float32 (to bfloat16's precision), the weights staying float32."""
    runs = {}
    for amp_cpu in (False, True):
        config = tiny_config()
        config["amp_cpu"] = amp_cpu
        trainer = Trainer(config, TRAIN, VAL)
        assert trainer.amp == amp_cpu
        before = weights(trainer)
        logs = [trainer.train_step() for _ in range(2)]
        assert all(np.isfinite(v) for entry in logs for v in entry.values())
        after = weights(trainer)
        assert all(v.dtype == before[k].dtype for k, v in after.items())
        runs[amp_cpu] = {k: (after[k] - before[k]).float() for k in before
                         if before[k].is_floating_point()}
    steps = {amp: torch.cat([v.flatten() for v in run.values()]) for amp, run in runs.items()}
    assert steps[False].abs().max() > 0
    assert not torch.equal(steps[False], steps[True])  # bfloat16 did run
    # Adam moves every weight by about the learning rate whatever its gradient's size,
    # so the two runs' steps agree in direction where the gradients do.
    cosine = torch.nn.functional.cosine_similarity(steps[False], steps[True], dim=0)
    assert cosine > 0.5
