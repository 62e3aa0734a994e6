"""The JUMPS networks and the encoder's input normalization."""

import numpy as np
import pytest
import torch

from posekit.jumps.encoding import (
    default_mean_pose,
    encoder_input,
    mirror_positions,
)
from posekit.jumps.grid import from_grid, mirror_grid, to_grid
from posekit.jumps.networks import (
    LATENT,
    Critic,
    Encoder,
    Generator,
    build_networks,
    parameter_counts,
)


@pytest.fixture(scope="module")
def nets():
    torch.manual_seed(0)
    return {k: v.eval() for k, v in build_networks().items()}


def test_shapes(nets):
    z = torch.randn(5, LATENT)
    grid = nets["G"](z)
    assert grid.shape == (5, 4, 24, 18)
    assert nets["G"].positions(z).shape == (5, 24, 28, 2)
    assert torch.equal(nets["G"].positions(z), from_grid(grid))
    assert nets["D"](grid).shape == (5,)
    x = torch.randn(5, 24, 28, 2)
    assert nets["E"].encode(x, torch.ones(5, 24, 28, dtype=torch.bool)).shape == (5, LATENT)
    assert nets["E"](torch.zeros(5, 8, 24, 18)).shape == (5, LATENT)


def test_parameter_counts_near_the_paper():
    counts = parameter_counts()
    paper = {"G": 1_148_480, "D": 1_115_393, "E": 1_148_096}
    for name, n in counts.items():
        assert abs(n - 1_100_000) / 1_100_000 < 0.10, (name, n)
        assert abs(n - paper[name]) / paper[name] < 0.02, (name, n)
    frozen = Critic()
    frozen.requires_grad_(False)  # as during the generator's step
    assert parameter_counts({"D": frozen})["D"] == counts["D"]


def test_critic_has_no_batchnorm():
    for module in (Critic(), Encoder()):
        assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in module.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in Generator().modules())


def test_critic_scores_are_per_sample():
    """No batch coupling: a sample's score does not depend on the rest of the batch."""
    critic = Critic().train()
    grids = torch.randn(6, 4, 24, 18)
    together = critic(grids)
    alone = torch.cat([critic(grids[i : i + 1]) for i in range(6)])
    assert torch.allclose(together, alone, atol=1e-5)


def test_encoder_input_layout_and_missing_joints():
    x = torch.randn(2, 24, 28, 2)
    mask = torch.rand(2, 24, 28) > 0.3
    x_nan = torch.where(mask[..., None], x, torch.full_like(x, float("nan")))
    grid, transform = encoder_input(x_nan, mask, default_mean_pose())
    assert grid.shape == (2, 8, 24, 18)
    assert torch.isfinite(grid).all()
    coords = from_grid(grid[:, :4])
    assert torch.equal(coords[~mask], torch.zeros_like(coords[~mask]))
    # Mask channels: 1 where observed (both copies of axial joints).
    assert torch.equal(from_grid(grid[:, 4:])[..., 0] > 0.5, mask)
    expected = transform.scale[:, None, None, None] * x + transform.translation[:, None, None]
    assert torch.allclose(coords[mask], expected[mask], atol=1e-5)
    # Missing values (NaN) never leak, mask None = finite.
    grid2, _ = encoder_input(x_nan, None, default_mean_pose())
    assert torch.equal(grid, grid2)


def test_encoder_input_is_invariant_to_translation_and_scale():
    """The normalization uses observed joints only, so pixels or units do not matter."""
    torch.manual_seed(1)
    x = torch.randn(3, 24, 28, 2, dtype=torch.float64)
    mask = torch.zeros(3, 24, 28, dtype=torch.bool)
    mask[..., [9, 14, 10, 15, 11, 16, 18, 23, 19, 24, 20, 25]] = True
    mean = default_mean_pose().double()
    a, _ = encoder_input(x, mask, mean)
    b, _ = encoder_input(417.0 * x + torch.tensor([960.0, 540.0], dtype=torch.float64), mask, mean)
    assert torch.allclose(a, b, atol=1e-9)


def test_encoder_input_fits_the_mean_pose_exactly():
    mean = default_mean_pose()
    x = (3.0 * mean + torch.tensor([5.0, -2.0])).expand(1, 24, 28, 2)
    grid, t = encoder_input(x, None, mean)
    assert torch.allclose(from_grid(grid[:, :4])[0, 0], mean, atol=1e-5)
    assert torch.allclose(t.scale, torch.tensor([1 / 3.0]))


def test_encoder_input_gradients_are_finite_with_missing_joints():
    x = torch.randn(2, 24, 28, 2, requires_grad=True)
    mask = torch.rand(2, 24, 28) > 0.5
    mask[1] = False
    mask[1, :, 3] = True  # a single observed joint: the degenerate fallback
    grid, t = encoder_input(x, mask, default_mean_pose())
    assert t.scale[1].item() == 1.0
    Encoder()(grid).sum().backward()
    assert torch.isfinite(x.grad).all()


def test_mirror_positions():
    x = np.random.default_rng(0).normal(size=(24, 28, 2)).astype(np.float32)
    assert np.array_equal(mirror_positions(mirror_positions(x)), x)
    m = to_grid(mirror_positions(x))
    expected = mirror_grid(to_grid(x)) * np.array([-1, 1, -1, 1], dtype=np.float32)[:, None, None]
    assert np.array_equal(m, expected)
    t = torch.from_numpy(x)
    assert torch.equal(mirror_positions(t), torch.from_numpy(mirror_positions(x)))


def test_temporal_generator_outputs_poses_on_the_grid():
    from posekit.jumps.networks import TemporalGenerator

    torch.manual_seed(0)
    g = TemporalGenerator(latent=96, latent_frames=6).eval()
    z = torch.randn(3, 96)
    grid = g(z)
    assert grid.shape == (3, 4, 24, 18)
    assert torch.allclose(from_grid(grid), g.positions(z))
    assert torch.allclose(to_grid(from_grid(grid)), grid)  # both copies of an axial joint agree


def test_temporal_generator_is_local_in_time():
    """Each output frame depends on the latent steps around it only: changing the
    first step of the code leaves the last frames as they were."""
    from posekit.jumps.networks import TemporalGenerator

    torch.manual_seed(1)
    g = TemporalGenerator(latent=96, latent_frames=6).eval()
    z = torch.randn(1, 16, 6)
    changed = z.clone()
    changed[:, :, 0] += 3.0
    a, b = g.positions(z.reshape(1, -1)), g.positions(changed.reshape(1, -1))
    assert not torch.allclose(a[:, :4], b[:, :4])
    assert torch.equal(a[:, -8:], b[:, -8:])


def test_build_networks_names_the_generator():
    nets = build_networks({"generator": "temporal", "latent": 96, "latent_frames": 6}, names=("G", "E"))
    assert nets["G"].latent == 96 and nets["E"](torch.zeros(2, 8, 24, 18)).shape == (2, 96)
    with pytest.raises(ValueError, match="generator must be one of"):
        build_networks({"generator": "mlp"})
    with pytest.raises(ValueError, match="latent_frames"):
        build_networks({"generator": "temporal", "latent": 100, "latent_frames": 6})


def test_a_temporal_checkpoint_loads_back(tmp_path):
    from posekit.jumps.checkpoint import load_model, save_checkpoint

    arch = {"generator": "temporal", "latent": 96, "latent_frames": 6,
            "generator_widths": [64, 48, 32]}
    torch.manual_seed(2)
    nets = {k: v.eval() for k, v in build_networks(arch).items()}
    save_checkpoint(tmp_path / "m.safetensors", nets, {"architecture": arch})
    model = load_model(tmp_path / "m.safetensors")
    z = torch.randn(2, 96)
    assert model.latent == 96
    assert torch.allclose(model.G(z), nets["G"](z))
