"""Losses of JUMPS training and inpainting, in torch.

MPJPE and MPJVE (eqs. 3-9 as reconstructed in the reading notes, **ours**): the mean
Euclidean distance per joint (and frame) of positions and of frame-to-frame velocities,
optionally over a mask of joints. The WGAN-GP gradient penalty of eq. (2) is taken on
random interpolates between real and generated grids.
"""

from __future__ import annotations

import torch
from torch import Tensor

_EPS = 1e-12


def _distance(a: Tensor, b: Tensor) -> Tensor:
    """Euclidean distance over the last axis (its gradient at 0 is 0, not NaN)."""
    return torch.linalg.vector_norm(a - b, dim=-1)


def _masked_mean(values: Tensor, mask: Tensor | None) -> Tensor:
    if mask is None:
        return values.mean()
    weights = mask.to(values.dtype).expand_as(values)
    return (values * weights).sum() / weights.sum().clamp(min=1.0)


def mpjpe(pred: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
    """Mean per-joint position error of ``(..., F, J, D)`` positions.

    Parameters
    ----------
    pred, target
        Positions ``(..., F, J, D)``.
    mask
        Joints to include ``(..., F, J)`` (booleans or weights); None: all.

    Examples
    --------
    >>> x = torch.zeros(2, 3, 4, 2)
    >>> float(mpjpe(x + torch.tensor([3.0, 4.0]), x))
    5.0
    """
    return _masked_mean(_distance(pred, target), mask)


def mpjve(pred: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
    """Mean per-joint velocity error: MPJPE of the frame-to-frame differences.

    A velocity counts where ``mask`` holds at both of its frames.

    Examples
    --------
    >>> x = torch.cumsum(torch.ones(5, 3, 2), dim=0)
    >>> float(mpjve(x + 7.0, x))  # a constant offset has no velocity error
    0.0
    """
    dp = pred[..., 1:, :, :] - pred[..., :-1, :, :]
    dt = target[..., 1:, :, :] - target[..., :-1, :, :]
    if mask is not None:
        mask = mask[..., 1:, :].bool() & mask[..., :-1, :].bool()
    return _masked_mean(_distance(dp, dt), mask)


def interpolates(real: Tensor, fake: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Points uniformly on the segments between real and fake samples (one t per sample)."""
    shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    t = torch.rand(shape, generator=generator, dtype=real.dtype, device=real.device)
    return t * real + (1.0 - t) * fake


def gradient_penalty(critic, points: Tensor, scale: float = 1.0) -> Tensor:
    """WGAN-GP penalty ``E[(|grad_x D(x)|_2 - 1)^2]`` at ``points`` (differentiable).

    Parameters
    ----------
    critic
        The critic (a callable on grids).
    points
        The grids to take it at, usually :func:`interpolates` of real and fake ones.
    scale
        Loss scale of a fp16 ``GradScaler`` (the score is scaled before the gradient
        and the gradient unscaled after, as PyTorch's AMP recipe for penalties).

    Examples
    --------
    >>> lin = torch.nn.Linear(3, 1, bias=False)
    >>> with torch.no_grad():
    ...     _ = lin.weight.fill_(2.0)  # |grad| = 2 * sqrt(3) everywhere
    >>> gp = gradient_penalty(lambda x: lin(x)[:, 0], torch.zeros(4, 3))
    >>> round(gp.item(), 4) == round((2 * 3 ** 0.5 - 1) ** 2, 4)
    True
    """
    points = points.detach().requires_grad_(True)
    scores = critic(points)
    (grad,) = torch.autograd.grad(
        scores.sum() * scale, points, create_graph=True
    )
    grad = grad.float() / scale
    norm = torch.sqrt(grad.reshape(grad.shape[0], -1).pow(2).sum(dim=1) + _EPS)
    return ((norm - 1.0) ** 2).mean()
