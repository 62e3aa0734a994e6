"""The networks' linear path: G as the PCA of the training windows, E as its posterior."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from test_jumps_training import synthetic_windows, tiny_config

from posekit.jumps.checkpoint import CheckpointError, check_architecture
from posekit.jumps.encoding import encoder_input, mirror_positions
from posekit.jumps.grid import from_grid
from posekit.jumps.networks import FRAMES, N_JOINTS, Encoder, build_networks
from training.linear_code import LinearCode
from training.train_jumps import Trainer, merge

LINEAR = {"linear_path": True, "generator": "temporal", "latent": 48, "latent_frames": 6,
          "generator_widths": [32, 24, 16]}


def posterior_by_covariance(weight, mean, noise, flat, seen):
    """E[z | x_o] from the joint Gaussian of (z, x): W_o^T (W_o W_o^T + noise I)^-1 (x_o - mean_o)."""
    w_o = weight[seen]
    cov = w_o @ w_o.T + noise * np.eye(len(w_o))
    return w_o.T @ np.linalg.solve(cov, flat[seen] - mean[seen])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), keep=st.floats(0.05, 1.0), noise=st.floats(1e-3, 1.0))
def test_the_encoders_linear_path_is_the_gaussian_posterior_mean(seed, keep, noise):
    rng = np.random.default_rng(seed)
    encoder = Encoder(latent=8, linear_path=True)
    size = FRAMES * N_JOINTS * 2
    weight, mean = rng.normal(size=(size, 8)) * 0.1, rng.normal(size=size)
    encoder.linear.weight.copy_(torch.from_numpy(weight))
    encoder.linear.mean.copy_(torch.from_numpy(mean))
    encoder.linear.noise.fill_(noise)
    positions = rng.normal(size=(2, FRAMES, N_JOINTS, 2))
    observed = rng.random((2, FRAMES, N_JOINTS)) < keep
    code = encoder.linear(torch.from_numpy(positions), torch.from_numpy(observed)).numpy()
    for i in range(2):
        seen = np.repeat(observed[i].reshape(-1), 2)
        expected = posterior_by_covariance(weight, mean, noise, positions[i].reshape(-1), seen)
        np.testing.assert_allclose(code[i], expected, rtol=1e-5, atol=1e-7)


def noisy_windows(n, seed):
    """Synthetic windows (a few dimensions) plus noise in every coordinate."""
    rng = np.random.default_rng(seed)
    return synthetic_windows(n, seed) + rng.normal(0, 0.02, (n, 24, 28, 2)).astype(np.float32)


@pytest.fixture(scope="module")
def trainer():
    return Trainer(merge(tiny_config(), {"model": LINEAR}), noisy_windows(400, 0),
                   noisy_windows(16, 1))


def test_training_starts_the_generator_and_encoder_as_the_linear_code(trainer):
    """Before any step, E(whole window) is the posterior mean of its PCA code (in the
    encoder's frame; PPCA with the left-out variance as noise), G(code) the PCA
    decoding, and the convolutions add nothing yet."""
    train = np.concatenate([trainer.train_windows, mirror_positions(trainer.train_windows)])
    code = LinearCode.fit(framed(trainer, train), 48)
    x = noisy_windows(32, 2)
    grid, _ = encoder_input(torch.from_numpy(x), None, trainer.E.mean_pose)
    trainer.G.eval()
    trainer.E.eval()
    with torch.no_grad():
        codes = trainer.E(grid)
        rebuilt = trainer.G.positions(codes).numpy()
    weight, mean = code.decoder()
    seen = np.ones(weight.shape[0], dtype=bool)
    flat = framed(trainer, x).reshape(len(x), -1)
    posterior = np.stack([posterior_by_covariance(weight, mean, code.residual, f, seen)
                          for f in flat])
    np.testing.assert_allclose(codes.numpy(), posterior, atol=1e-3)
    expected = (posterior @ weight.T + mean).reshape(rebuilt.shape)
    assert np.abs(rebuilt - expected).max() < 1e-4
    # a small code keeps almost what PCA keeps, not everything
    pca_error = np.abs(code.reconstruct(framed(trainer, x)) - framed(trainer, x)).mean()
    assert pca_error < np.abs(rebuilt - framed(trainer, x)).mean() < 1.1 * pca_error


def framed(trainer, windows):
    """Whole windows in the encoder's frame (each fitted to the mean pose)."""
    grid, _ = encoder_input(torch.from_numpy(windows), None, trainer.E.mean_pose)
    return from_grid(grid[:, :4]).numpy()


def test_a_linear_path_checkpoint_loads_back(tmp_path, trainer):
    from posekit.jumps.checkpoint import load_model, save_checkpoint

    nets = {k: v.eval() for k, v in trainer.nets.items()}
    save_checkpoint(tmp_path / "m.safetensors", nets, {"architecture": LINEAR})
    model = load_model(tmp_path / "m.safetensors")
    x = torch.from_numpy(synthetic_windows(4, seed=3))
    with torch.no_grad():
        assert torch.allclose(model.E.encode(x), nets["E"].encode(x), atol=1e-5)
        assert torch.allclose(model.G(model.E.encode(x)), nets["G"](nets["E"].encode(x)), atol=1e-5)


def test_a_default_network_has_no_linear_path():
    nets = build_networks(names=("G", "E"))
    assert nets["G"].linear is None and nets["E"].linear is None
    with pytest.raises(CheckpointError, match="'linear_path' must be true or false"):
        check_architecture({"linear_path": "yes"}, "m.json")
