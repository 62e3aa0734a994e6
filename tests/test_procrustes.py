"""Tests of posekit.ops.procrustes: similarity alignment for numpy and torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from posekit.ops.procrustes import SimilarityTransform, align, fit_similarity

SETTINGS = settings(max_examples=25, deadline=None)
seeds = st.integers(0, 2**32 - 1)
dims = st.sampled_from([2, 3])
backends = st.sampled_from(["numpy", "torch"])


def random_rotation(rng: np.random.Generator, dim: int) -> np.ndarray:
    """A uniformly random proper rotation (QR of a Gaussian matrix)."""
    q, r = np.linalg.qr(rng.normal(size=(dim, dim)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def random_similarity(rng: np.random.Generator, dim: int) -> SimilarityTransform:
    return SimilarityTransform(
        random_rotation(rng, dim), np.array(rng.uniform(0.2, 5.0)), rng.uniform(-50, 50, dim)
    )


def to_backend(backend: str, *arrays: np.ndarray) -> list:
    if backend == "torch":
        return [torch.as_tensor(a) for a in arrays]
    return list(arrays)


def numpy(x) -> np.ndarray:
    return x.detach().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


@SETTINGS
@given(seed=seeds, dim=dims, backend=backends, n=st.integers(3, 12))
def test_recovers_a_random_similarity(seed: int, dim: int, backend: str, n: int) -> None:
    rng = np.random.default_rng(seed)
    source = rng.normal(size=(n, dim))
    truth = random_similarity(rng, dim)
    target = truth.apply(source)
    src, tgt = to_backend(backend, source, target)
    aligned, fitted = align(src, tgt)
    np.testing.assert_allclose(numpy(aligned), target, atol=1e-6)
    np.testing.assert_allclose(numpy(fitted.rotation), truth.rotation, atol=1e-6)
    np.testing.assert_allclose(numpy(fitted.scale), truth.scale, rtol=1e-6)
    np.testing.assert_allclose(numpy(fitted.translation), truth.translation, atol=1e-6)


@SETTINGS
@given(seed=seeds, dim=dims, backend=backends)
def test_without_scale_recovers_a_rigid_motion(seed: int, dim: int, backend: str) -> None:
    rng = np.random.default_rng(seed)
    source = rng.normal(size=(8, dim))
    truth = SimilarityTransform(random_rotation(rng, dim), np.array(1.0), rng.normal(size=dim))
    src, tgt = to_backend(backend, source, truth.apply(source))
    fitted = fit_similarity(src, tgt, with_scale=False)
    assert float(fitted.scale) == 1.0
    np.testing.assert_allclose(numpy(fitted.rotation), truth.rotation, atol=1e-9)
    np.testing.assert_allclose(numpy(fitted.translation), truth.translation, atol=1e-9)


@SETTINGS
@given(seed=seeds, dim=dims, backend=backends, masked=st.booleans())
def test_aligned_result_is_invariant_to_moving_the_source(
    seed: int, dim: int, backend: str, masked: bool
) -> None:
    rng = np.random.default_rng(seed)
    source = rng.normal(size=(9, dim))
    target = rng.normal(size=(9, dim))  # unrelated: a genuine least-squares fit
    mask = rng.random(9) < 0.7 if masked else np.ones(9, dtype=bool)
    mask[:3] = True
    moved = random_similarity(rng, dim).apply(source)
    src, mov, tgt, msk = to_backend(backend, source, moved, target, mask)
    np.testing.assert_allclose(
        numpy(align(mov, tgt, msk)[0]), numpy(align(src, tgt, msk)[0]), atol=1e-8
    )


@SETTINGS
@given(seed=seeds, dim=dims, backend=backends)
def test_rotation_is_proper_even_for_reflected_targets(seed: int, dim: int, backend: str) -> None:
    rng = np.random.default_rng(seed)
    source = rng.normal(size=(3, 7, dim))
    mirror = np.diag([-1.0] + [1.0] * (dim - 1))
    target = source @ mirror @ random_rotation(rng, dim).T + 0.01 * rng.normal(size=source.shape)
    src, tgt = to_backend(backend, source, target)
    fitted = fit_similarity(src, tgt)
    np.testing.assert_allclose(np.linalg.det(numpy(fitted.rotation)), 1.0, atol=1e-9)
    assert np.all(numpy(fitted.scale) >= 0)


@SETTINGS
@given(seed=seeds, dim=dims, backend=backends, garbage=st.sampled_from([np.nan, np.inf, 1e9]))
def test_joints_outside_the_mask_do_not_change_the_fit(
    seed: int, dim: int, backend: str, garbage: float
) -> None:
    rng = np.random.default_rng(seed)
    source = rng.normal(size=(10, dim))
    target = rng.normal(size=(10, dim))
    mask = rng.random(10) < 0.6
    mask[:2] = True
    reference = fit_similarity(*to_backend(backend, source[mask], target[mask]))
    source[~mask] = garbage
    target[~mask] = -garbage
    fitted = fit_similarity(*to_backend(backend, source, target, mask))
    for got, want in [
        (fitted.rotation, reference.rotation),
        (fitted.scale, reference.scale),
        (fitted.translation, reference.translation),
    ]:
        np.testing.assert_allclose(numpy(got), numpy(want), atol=1e-10)


@pytest.mark.parametrize("dim", [2, 3])
def test_weights_act_as_repeated_joints(dim: int) -> None:
    rng = np.random.default_rng(5)
    source, target = rng.normal(size=(2, 5, dim))
    weights = np.array([2.0, 1.0, 1.0, 0.0, 1.0])
    repeated = [0, 0, 1, 2, 4]
    fitted = fit_similarity(source, target, weights)
    reference = fit_similarity(source[repeated], target[repeated])
    np.testing.assert_allclose(fitted.rotation, reference.rotation, atol=1e-12)
    np.testing.assert_allclose(fitted.scale, reference.scale, atol=1e-12)
    np.testing.assert_allclose(fitted.translation, reference.translation, atol=1e-12)


def degenerate_cases(dim: int) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """name -> (source, target, mask, expected translation)."""
    rng = np.random.default_rng(0)
    target = rng.normal(size=(5, dim))
    spread = rng.normal(size=(5, dim))
    one_point = np.tile(100.0 * rng.normal(size=dim), (5, 1))
    weights = rng.uniform(0.1, 1.0, 5)  # uneven weights: the centred source is round-off
    all_joints = np.ones(5, dtype=bool)
    single = np.array([False, False, True, False, False])
    nothing = np.zeros(5, dtype=bool)
    return {
        "source at one point": (
            one_point, target, weights, weights @ target / weights.sum() - one_point[0]
        ),
        "one observed joint": (spread, target, single, target[2] - spread[2]),
        "nothing observed": (spread, target, nothing, np.zeros(dim)),
        "zero weights": (spread, target, np.zeros(5), np.zeros(dim)),
        "everything at the origin": (np.zeros((5, dim)), np.zeros((5, dim)), all_joints,
                                     np.zeros(dim)),
    }


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize(
    "case",
    ["source at one point", "one observed joint", "nothing observed", "zero weights",
     "everything at the origin"],
)
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_degenerate_input_gives_the_documented_fallback(dim: int, case: str, backend: str) -> None:
    source, target, mask, translation = degenerate_cases(dim)[case]
    source[~mask.astype(bool)] = np.nan
    src, tgt, msk = to_backend(backend, source, target, mask)
    if backend == "torch":
        src.requires_grad_(True)
        tgt.requires_grad_(True)
    fitted = fit_similarity(src, tgt, msk)
    np.testing.assert_allclose(numpy(fitted.rotation), np.eye(dim), atol=1e-12)
    np.testing.assert_allclose(numpy(fitted.scale), 1.0)
    np.testing.assert_allclose(numpy(fitted.translation), translation, atol=1e-12)
    if backend == "torch":
        observed = torch.where(torch.as_tensor(mask, dtype=bool)[:, None], src, 0.0)
        loss = (
            fitted.apply(observed).sum()
            + fitted.rotation.sum()
            + fitted.scale
            + fitted.translation.sum()
        )
        loss.backward()
        assert torch.isfinite(src.grad).all() and torch.isfinite(tgt.grad).all()


@pytest.mark.parametrize("dim", [2, 3])
def test_target_at_one_point_gives_scale_zero_and_finite_gradients(dim: int) -> None:
    rng = np.random.default_rng(1)
    source = torch.tensor(rng.normal(size=(6, dim)), requires_grad=True)
    target = torch.tensor(np.tile(rng.normal(size=dim), (6, 1)), requires_grad=True)
    aligned, fitted = align(source, target)
    torch.testing.assert_close(aligned, target.detach(), rtol=0, atol=1e-12)
    assert fitted.scale.item() == 0.0
    torch.testing.assert_close(fitted.rotation, torch.eye(dim, dtype=torch.float64))
    aligned.sum().backward()
    assert torch.isfinite(source.grad).all() and torch.isfinite(target.grad).all()


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("with_scale", [True, False])
def test_gradcheck(dim: int, with_scale: bool) -> None:
    rng = np.random.default_rng(2)
    source = torch.tensor(rng.normal(size=(5, dim)), requires_grad=True)
    target = torch.tensor(rng.normal(size=(5, dim)), requires_grad=True)
    mask = torch.tensor([True, True, False, True, True])

    def aligned(src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
        return align(src, tgt, mask, with_scale)[0]

    assert torch.autograd.gradcheck(aligned, (source, target))


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_batched_fit_equals_per_item_fits(dim: int, backend: str) -> None:
    rng = np.random.default_rng(3)
    source = rng.normal(size=(2, 3, 8, dim))
    target = rng.normal(size=(2, 3, 8, dim))
    mask = rng.random((2, 3, 8)) < 0.7
    mask[..., :3] = True
    mask[1, 2] = False  # one fully unobserved item in the batch
    batched = fit_similarity(*to_backend(backend, source, target, mask))
    for index in np.ndindex(2, 3):
        item = fit_similarity(*to_backend(backend, source[index], target[index], mask[index]))
        for field in ("rotation", "scale", "translation"):
            np.testing.assert_allclose(
                numpy(getattr(batched, field))[index], numpy(getattr(item, field)), atol=1e-12
            )


def test_numpy_and_torch_agree_and_torch_keeps_dtype() -> None:
    rng = np.random.default_rng(4)
    source, target = rng.normal(size=(2, 6, 3))
    from_numpy = fit_similarity(source, target)
    from_torch = fit_similarity(torch.tensor(source, dtype=torch.float32), target)
    assert from_torch.rotation.dtype == torch.float32
    np.testing.assert_allclose(from_torch.rotation.numpy(), from_numpy.rotation, atol=1e-5)


@pytest.mark.parametrize("dim", [2, 3])
def test_inverse_undoes_apply(dim: int) -> None:
    rng = np.random.default_rng(6)
    transform = random_similarity(rng, dim)
    points = rng.normal(size=(4, dim))
    np.testing.assert_allclose(transform.inverse().apply(transform.apply(points)), points)


def test_rejects_mismatched_dimensions() -> None:
    with pytest.raises(ValueError, match="same D >= 2"):
        fit_similarity(np.zeros((4, 2)), np.zeros((4, 3)))
