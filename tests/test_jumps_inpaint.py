"""The latent optimisation: per-start early stopping equals running each window alone."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from posekit.jumps.checkpoint import JumpsModel
from posekit.jumps.inpaint import _adam_step, inpaint_windows
from posekit.jumps.networks import build_networks
from posekit.jumps.settings import InpaintSettings


@pytest.fixture(scope="module")
def model():
    """Random networks in eval mode, frozen, as :func:`load_model` returns them."""
    torch.manual_seed(0)
    nets = {name: net.eval().requires_grad_(False) for name, net in build_networks().items()}
    return JumpsModel(nets["G"], nets["D"], nets["E"])


def random_windows(n_windows, seed=0):
    generator = torch.Generator().manual_seed(seed)
    positions = torch.randn(n_windows, 24, 28, 2, generator=generator) * 40 + 500
    weights = (torch.rand(n_windows, 24, 28, generator=generator) > 0.3).float()
    return positions, weights


def test_windows_that_stop_early_end_as_when_run_alone(model):
    positions, weights = random_windows(12)
    # Settings under which the random model's windows stop at different steps.
    options = InpaintSettings(iterations=15, starts=2, patience=2, tolerance=1e-3)
    prior = torch.randn(12, 1, model.latent, generator=torch.Generator().manual_seed(1))
    together = inpaint_windows(model, positions, weights, options, prior=prior)
    steps = together.iterations.tolist()
    assert len(set(steps)) > 1 and min(steps) < options.iterations  # some left early
    early = [w for w, n in enumerate(steps) if n < options.iterations]
    full = [w for w, n in enumerate(steps) if n == options.iterations]
    for w in early[:2] + full[:1]:  # alone runs are slow: a few of each kind
        alone = inpaint_windows(
            model, positions[w : w + 1], weights[w : w + 1], options, prior=prior[w : w + 1]
        )
        assert alone.iterations.tolist() == [steps[w]]
        torch.testing.assert_close(alone.positions[0], together.positions[w], atol=1e-3, rtol=0)
        torch.testing.assert_close(alone.losses[0], together.losses[w], atol=1e-4, rtol=1e-5)


def test_without_patience_every_window_takes_every_step(model):
    positions, weights = random_windows(3)
    options = InpaintSettings(iterations=4, starts=1, patience=0)
    assert inpaint_windows(model, positions, weights, options).iterations.tolist() == [4, 4, 4]


def test_the_result_is_the_best_evaluation_of_the_kept_start(model):
    positions, weights = random_windows(4, seed=3)
    short = inpaint_windows(model, positions, weights, InpaintSettings(iterations=1, starts=1))
    long = inpaint_windows(model, positions, weights, InpaintSettings(iterations=6, starts=1))
    assert (long.losses <= short.losses + 1e-5).all()  # the start's own loss is kept if best


@settings(max_examples=10, deadline=None)
@given(
    steps=st.integers(1, 6),
    learning_rate=st.floats(1e-3, 2.0),
    beta1=st.floats(0.0, 0.95),
    beta2=st.floats(0.9, 0.9999),
    seed=st.integers(0, 2**16),
)
def test_adam_step_is_torchs_adam(steps, learning_rate, beta1, beta2, seed):
    generator = torch.Generator().manual_seed(seed)
    start = torch.randn(5, 7, generator=generator)
    grads = [torch.randn(5, 7, generator=generator) for _ in range(steps)]
    reference = start.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([reference], lr=learning_rate, betas=(beta1, beta2))
    options = InpaintSettings(learning_rate=learning_rate, betas=(beta1, beta2))
    ours, moments = start.clone(), (torch.zeros_like(start), torch.zeros_like(start))
    for step, grad in enumerate(grads, start=1):
        reference.grad = grad.clone()
        optimizer.step()
        _adam_step(ours, grad, moments, step, options)
    torch.testing.assert_close(ours, reference.detach(), atol=1e-5, rtol=1e-5)


def test_prior_samples_are_the_starts_after_the_encoders(model):
    positions, weights = random_windows(2)
    options = InpaintSettings(iterations=1, starts=3, encoder_init=False)
    prior = torch.randn(2, 3, model.latent, generator=torch.Generator().manual_seed(0))
    given_prior = inpaint_windows(model, positions, weights, options, prior=prior)
    same = inpaint_windows(model, positions, weights, options, prior=prior.clone())
    other = inpaint_windows(model, positions, weights, options, prior=-prior)
    torch.testing.assert_close(given_prior.positions, same.positions)
    assert not torch.allclose(given_prior.positions, other.positions)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), per_frame=st.booleans(), keep=st.floats(0.0, 1.0))
def test_alignment_is_fit_similarity_applied(seed, per_frame, keep):
    from posekit.jumps.inpaint import _Alignment
    from posekit.ops.procrustes import fit_similarity

    generator = torch.Generator().manual_seed(seed)
    source = torch.randn(3, 4, 28, 2, generator=generator)
    target = 2.0 * source.flip(-1) + torch.randn(3, 4, 28, 2, generator=generator) * 0.3
    weights = (torch.rand(3, 4, 28, generator=generator) < keep).float()
    weights[0, 0] = 0.0  # nothing observed
    weights[0, 1] = 0.0
    weights[0, 1, 5] = 1.0  # one joint observed
    source[1, 2] = source[1, 2, :1]  # all at one point
    target[2, 3] = target[2, 3, :1]  # the target at one point
    target = torch.where(weights[..., None] > 0, target, 0.0)
    if per_frame:
        expected = fit_similarity(source, target, weights).apply(source)
    else:
        flat = fit_similarity(source.flatten(1, 2), target.flatten(1, 2), weights.flatten(1, 2))
        expected = flat.apply(source.flatten(1, 2)).reshape(source.shape)
    aligned = _Alignment(target, weights, per_frame)(source)
    torch.testing.assert_close(aligned, expected, atol=1e-4, rtol=1e-4)


def test_alignment_gradients_are_finite_on_degenerate_input():
    from posekit.jumps.inpaint import _Alignment

    source = torch.zeros(1, 2, 28, 2, requires_grad=True)  # every point at one place
    target = torch.randn(1, 2, 28, 2)
    weights = torch.ones(1, 2, 28)
    weights[0, 1] = 0.0
    _Alignment(target, weights, True)(source).sum().backward()
    assert torch.isfinite(source.grad).all()
