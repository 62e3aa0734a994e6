"""Latent-code inpainting of 24-frame windows (JUMPS paper, section III-D).

For each window ``x`` with observed-joint weights ``w``, find
``z* = argmin γ_p MPJPE(x, x̂) + γ_s MPJVE(x, x̂) − γ_d D(G(z))`` with Adam, where
``x̂`` is ``G(z)`` aligned to ``x`` by a similarity (Procrustes) transform over the
observed joints at every step. Several starts run side by side: ``E(x)`` and samples
of the prior; each window keeps its best. The windows given (and their starts) are one
batch: no Python loop over windows.

Each start is optimised on its own (the objective of one does not depend on the
others): with ``patience``, a start whose loss stopped improving leaves the batch, so
the remaining steps cost only the starts still improving, and its result is the one it
would have reached alone (Adam is written out per element for that reason: its state
follows each start as the batch shrinks).
"""

from __future__ import annotations

import attrs
import torch
from torch import Tensor

from posekit.jumps.checkpoint import JumpsModel
from posekit.jumps.encoding import default_mean_pose, encoder_input
from posekit.jumps.grid import from_grid
from posekit.jumps.settings import InpaintSettings
from posekit.ops.procrustes import _TOLERANCE_FACTOR


@attrs.frozen
class InpaintResult:
    """Best reconstruction per window, in the input's coordinates.

    ``positions`` is ``(B, F, 28, 2)``; ``frame_losses`` ``(B, F)`` is the contextual
    loss (MPJPE + MPJVE terms) of each frame, used to merge overlapping windows;
    ``losses`` ``(B,)`` is the full objective of the kept start; ``iterations`` ``(B,)``
    the number of objective evaluations each window took (its longest-running start;
    Adam steps are one fewer).
    """

    positions: torch.Tensor
    frame_losses: torch.Tensor
    losses: torch.Tensor
    iterations: torch.Tensor


def _contextual_terms(
    estimate: torch.Tensor, target: torch.Tensor, weights: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-frame weighted joint error and velocity error, each ``(N, F)``.

    ``target`` must be finite (missing joints zeroed, with zero weight).
    """
    error = torch.linalg.vector_norm(estimate - target, dim=-1)  # (N, F, J)
    position = (error * weights).sum(-1) / weights.sum(-1).clamp_min(1e-9)
    velocity_weights = weights[:, 1:] * weights[:, :-1]
    velocity_error = torch.linalg.vector_norm(
        torch.diff(estimate, dim=1) - torch.diff(target, dim=1), dim=-1
    )
    velocity = (velocity_error * velocity_weights).sum(-1) / velocity_weights.sum(-1).clamp_min(
        1e-9
    )
    # Give each frame half of the velocity errors on either side of it.
    velocity_per_frame = torch.zeros_like(position)
    velocity_per_frame[:, 1:] += velocity / 2
    velocity_per_frame[:, :-1] += velocity / 2
    return position, velocity_per_frame


class _Alignment:
    """``fit_similarity(x, target, weights).apply(x)`` onto a fixed target, in 2D.

    The latent fit aligns a new ``x`` to the same target at every step: the target's
    terms (weighted centroid, centred points, size) are computed once here, and the 2D
    closed form needs no angle: with ``a = sum w xc.yc`` and ``b = sum w xc×yc``,
    ``scale * R = [[a, -b], [b, a]] / sum w |xc|^2``. Degenerate groups are handled as
    :func:`~posekit.ops.procrustes.fit_similarity` does (fewer than two observed points or
    all at one point: shift only; a target at one point: scale 0).

    Parameters
    ----------
    target
        ``(N, F, J, 2)`` (zero where unobserved).
    weights
        ``(N, F, J)``.
    per_frame
        One transform per frame (True) or per window (False).
    """

    def __init__(self, target: Tensor, weights: Tensor, per_frame: bool):
        groups = target.shape[1] if per_frame else 1
        self.shape = target.shape
        target = target.reshape(target.shape[0], groups, -1, 2)
        self.w = weights.reshape(target.shape[:-1])[..., None]
        total = self.w.sum(-2, keepdim=True)
        self.total = torch.where(total > 0, total, torch.ones_like(total))
        self.mean_y = (self.w * target).sum(-2, keepdim=True) / self.total
        self.wyc = torch.where(self.w > 0, self.w * (target - self.mean_y), 0.0)
        self.size_y = (self.w * target * target).sum((-2, -1))
        self.few = (self.w[..., 0] > 0).sum(-1) < 2
        self.eps2 = (_TOLERANCE_FACTOR * torch.finfo(target.dtype).eps) ** 2

    def __call__(self, x: Tensor) -> Tensor:
        """``x`` ``(N, F, J, 2)`` aligned onto the target (differentiable)."""
        x = x.reshape(self.wyc.shape)
        xc = x - (self.w * x).sum(-2, keepdim=True) / self.total
        a = (xc * self.wyc).sum((-2, -1))
        b = (xc[..., 0] * self.wyc[..., 1] - xc[..., 1] * self.wyc[..., 0]).sum(-1)
        variance = (self.w * xc * xc).sum((-2, -1))
        size_x = (self.w * x * x).sum((-2, -1))
        degenerate = self.few | (variance <= self.eps2 * size_x)
        flat = degenerate | (a * a + b * b <= self.eps2 * size_x * self.size_y)
        safe = torch.where(degenerate, torch.ones_like(variance), variance)
        cos = torch.where(degenerate, 1.0, torch.where(flat, 0.0, a) / safe)[..., None]
        sin = torch.where(flat, 0.0, b / safe)[..., None]
        aligned = torch.stack(
            [cos * xc[..., 0] - sin * xc[..., 1], sin * xc[..., 0] + cos * xc[..., 1]], dim=-1
        )
        return (aligned + self.mean_y).reshape(self.shape)


def _objective(
    model: JumpsModel,
    z: Tensor,
    target: Tensor,
    weights: Tensor,
    alignment: _Alignment | None,
    settings: InpaintSettings,
) -> tuple[Tensor, Tensor, Tensor]:
    """The loss ``(N,)`` of codes ``z (N, latent)``, their aligned poses ``(N, F, 28, 2)``
    and the contextual loss of each frame ``(N, F)``."""
    grid = model.G(z)
    estimate = from_grid(grid)
    if alignment is not None:
        estimate = alignment(estimate)
    position, velocity = _contextual_terms(estimate, target, weights)
    frame_loss = settings.gamma_position * position + settings.gamma_velocity * velocity
    loss = frame_loss.mean(1)
    if settings.gamma_prior:  # the critic's score costs a forward and backward pass
        loss = loss - settings.gamma_prior * model.D(grid)
    return loss, estimate, frame_loss


def _adam_step(
    z: Tensor, grad: Tensor, moments: tuple[Tensor, Tensor], step: int, settings: InpaintSettings
) -> None:
    """One Adam step on ``z`` in place (``torch.optim.Adam``'s update, eps 1e-8).

    Written out so that its state (``moments``) can shrink with the batch.
    """
    beta1, beta2 = settings.betas
    first, second = moments
    first.mul_(beta1).add_(grad, alpha=1 - beta1)
    second.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    denominator = (second.sqrt() / (1 - beta2**step) ** 0.5).add_(1e-8)
    z.addcdiv_(first, denominator, value=-settings.learning_rate / (1 - beta1**step))


def inpaint_windows(
    model: JumpsModel,
    positions: Tensor,
    weights: Tensor,
    settings: InpaintSettings,
    generator: torch.Generator | None = None,
    encoder_positions: Tensor | None = None,
    prior: Tensor | None = None,
) -> InpaintResult:
    """Inpaint a batch of 2D windows of the 28-joint layout.

    Parameters
    ----------
    model
        Trained G, D and (optionally) E, in eval mode.
    positions
        ``(B, F, 28, 2)`` input windows; values where ``weights`` is 0 are ignored
        (NaN allowed there).
    weights
        ``(B, F, 28)`` observation weights in ``[0, 1]`` (1 = observed).
    settings
        Optimisation settings.
    generator
        Random generator for the prior samples when ``prior`` is not given.
    encoder_positions
        ``(B, F, 28, 2)`` completed windows (e.g. a baseline's completion of the input;
        NaN where it has no value) that the encoder sees instead of the observed joints
        alone; the fit still uses ``positions`` and ``weights`` only.
    prior
        ``(B, starts - 1, latent)`` (``starts`` without ``encoder_init``) samples of the
        prior to start from; None: drawn from ``generator``.

    Returns
    -------
    InpaintResult

    Examples
    --------
    >>> from posekit.jumps.checkpoint import JumpsModel
    >>> from posekit.jumps.networks import build_networks
    >>> nets = {name: net.eval().requires_grad_(False) for name, net in build_networks().items()}
    >>> model = JumpsModel(nets["G"], nets["D"], nets["E"])
    >>> windows = torch.randn(3, 24, 28, 2)
    >>> result = inpaint_windows(model, windows, torch.ones(3, 24, 28),
    ...                          InpaintSettings(iterations=5, starts=2, patience=2))
    >>> result.positions.shape, result.iterations.shape
    (torch.Size([3, 24, 28, 2]), torch.Size([3]))
    """
    device = next(model.G.parameters()).device
    n_windows, n_frames = positions.shape[:2]
    k = settings.starts
    if settings.encoder_init and model.E is None:
        raise ValueError("this model has no encoder: use encoder_init=False")
    with torch.no_grad():  # not inference_mode: the target takes part in the gradient
        positions = positions.to(device=device, dtype=torch.float32)
        weights = weights.to(device=device, dtype=torch.float32)
        # Work in the model's normalised frame (translation + scale fitted on observed joints).
        observed = weights > 0
        mean_pose = model.E.mean_pose if model.E is not None else default_mean_pose()
        grid_in, to_model = encoder_input(positions, observed, mean_pose)
        normalized = to_model.apply(torch.nan_to_num(positions).flatten(1, 2)).reshape(
            positions.shape
        )
        target = torch.where(observed[..., None], normalized, torch.zeros_like(normalized))
        n_prior = k - int(settings.encoder_init)
        if prior is None:
            prior = torch.randn(n_windows, k, model.latent, generator=generator)[:, k - n_prior :]
        starts = [prior.to(device=device, dtype=torch.float32)]
        if settings.encoder_init and model.E is not None:  # (no encoder is refused above)
            if encoder_positions is not None:
                complete = encoder_positions.to(device=device, dtype=torch.float32)
                grid_in, _ = encoder_input(complete, None, mean_pose)
            starts.insert(0, model.E(grid_in)[:, None])
        z0 = torch.cat(starts, dim=1).reshape(n_windows * k, model.latent)

    # The state of the starts still running (row r of each is start rows[r]); a start
    # that stops hands its best to the outputs and leaves.
    rows = torch.arange(n_windows * k, device=device)
    z = z0.clone()
    moments = (torch.zeros_like(z), torch.zeros_like(z))
    target_k = target.repeat_interleave(k, dim=0)
    weights_k = weights.repeat_interleave(k, dim=0)
    best_loss = torch.full((n_windows * k,), float("inf"), device=device)
    best_estimate = torch.zeros_like(target_k)
    best_frame_loss = torch.zeros(target_k.shape[:2], device=device)
    stale = torch.zeros(n_windows * k, dtype=torch.long, device=device)
    out_loss, out_estimate, out_frame_loss = (
        best_loss.clone(),
        best_estimate.clone(),
        best_frame_loss.clone(),
    )
    out_steps = torch.zeros(n_windows * k, dtype=torch.long, device=device)
    finishing = False
    for step in range(1, settings.iterations + 1):
        if finishing or step == 1:  # the rows changed: align onto the rows left
            alignment = (
                _Alignment(target_k, weights_k, settings.per_frame) if settings.procrustes else None
            )
        z.requires_grad_(True)
        loss, estimate, frame_loss = _objective(model, z, target_k, weights_k, alignment, settings)
        with torch.no_grad():
            better = loss < best_loss
            improved = better & (loss < best_loss - settings.tolerance * best_loss.abs())
            best_loss = torch.where(better, loss, best_loss)
            best_estimate = torch.where(better[:, None, None, None], estimate, best_estimate)
            best_frame_loss = torch.where(better[:, None], frame_loss, best_frame_loss)
            stale = torch.where(improved, 0, stale + 1)
            done = torch.full_like(better, step == settings.iterations)
            if settings.patience:
                done |= stale >= settings.patience
            finishing = bool(done.any())
            if finishing:
                finished = rows[done]
                out_loss[finished] = best_loss[done]
                out_estimate[finished] = best_estimate[done]
                out_frame_loss[finished] = best_frame_loss[done]
                out_steps[finished] = step
                if bool(done.all()):
                    break  # no backward pass for a step that no start continues from
        (grad,) = torch.autograd.grad(loss.sum(), z)
        z = z.detach()
        if finishing:
            keep = ~done
            rows, z, grad, target_k, weights_k = (
                t[keep] for t in (rows, z, grad, target_k, weights_k)
            )
            best_loss, best_estimate, best_frame_loss, stale = (
                t[keep] for t in (best_loss, best_estimate, best_frame_loss, stale)
            )
            moments = (moments[0][keep], moments[1][keep])
        _adam_step(z, grad, moments, step, settings)

    with torch.inference_mode():
        # Keep each window's best start, and map it back to the input's coordinates.
        chosen = out_loss.reshape(n_windows, k).argmin(1)
        best = torch.arange(n_windows, device=device) * k + chosen
        estimate = (
            to_model.inverse()
            .apply(out_estimate[best].flatten(1, 2))
            .reshape(n_windows, n_frames, -1, 2)
        )
        return InpaintResult(
            positions=estimate,
            frame_losses=out_frame_loss[best],
            losses=out_loss[best],
            iterations=out_steps.reshape(n_windows, k).amax(1),
        )
