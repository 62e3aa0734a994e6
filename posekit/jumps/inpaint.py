"""Latent-code inpainting of 24-frame windows (JUMPS paper, section III-D).

For each window ``x`` with observed-joint weights ``w``, find
``z* = argmin γ_p MPJPE(x, x̂) + γ_s MPJVE(x, x̂) − γ_d D(G(z))`` with Adam, where
``x̂`` is ``G(z)`` aligned to ``x`` by a similarity (Procrustes) transform over the
observed joints at every step. Several starts run side by side: ``E(x)`` and samples
of the prior; each window keeps its best. Every window of every individual and every
start is one batch: no Python loop over windows.
"""

from __future__ import annotations

import attrs
import torch

from posekit.grid import from_grid
from posekit.jumps.checkpoint import JumpsModel
from posekit.jumps.encoding import default_mean_pose, encoder_input
from posekit.procrustes import fit_similarity


@attrs.frozen
class InpaintSettings:
    """Settings of the latent optimisation (defaults: the paper's).

    Parameters
    ----------
    iterations
        Adam steps on ``z``.
    starts
        Parallel starts per window: ``E(x)`` (if ``encoder_init``) and prior samples.
    learning_rate, betas
        Adam settings on ``z``.
    gamma_position, gamma_velocity, gamma_prior
        Weights of MPJPE, MPJVE and the critic's score.
    procrustes
        Align ``G(z)`` to the input at every step; when False the output is compared
        in the input's normalised frame as it is (the paper's "w/o P.A." ablation).
    per_frame
        One similarity transform per frame (True) or one per window (False); it must
        match how the model's reconstruction loss aligned during training.
    encoder_init
        Start one of the runs from the encoder's code of the input.
    patience, tolerance
        Early stopping: stop when no window's loss improved by more than
        ``tolerance`` (relative) for ``patience`` steps; ``patience=0`` never stops early.
    gamma_latent
        Weight of the prior's negative log-density ``|z|² / (2 · latent)`` (**ours**):
        keeps the code where the generator was trained when no critic is used, so the
        fit of the measured joints does not drag the unmeasured ones off the body.
    """

    iterations: int = 200
    starts: int = 4
    learning_rate: float = 1.0
    betas: tuple[float, float] = (0.8, 0.999)
    gamma_position: float = 10.0
    gamma_velocity: float = 5.0
    gamma_prior: float = 15.0
    procrustes: bool = True
    per_frame: bool = True
    encoder_init: bool = True
    patience: int = 0
    tolerance: float = 1e-3
    gamma_latent: float = 0.0


@attrs.frozen
class InpaintResult:
    """Best reconstruction per window, in the input's coordinates.

    ``positions`` is ``(B, F, 28, 2)``; ``frame_losses`` ``(B, F)`` is the contextual
    loss (MPJPE + MPJVE terms) of each frame, used to merge overlapping windows;
    ``losses`` ``(B,)`` is the full objective of the kept start; ``iterations`` the
    number of Adam steps actually taken.
    """

    positions: torch.Tensor
    frame_losses: torch.Tensor
    losses: torch.Tensor
    iterations: int


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


def inpaint_windows(
    model: JumpsModel,
    positions: torch.Tensor,
    weights: torch.Tensor,
    settings: InpaintSettings,
    generator: torch.Generator | None = None,
    encoder_positions: torch.Tensor | None = None,
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
        Random generator for the prior samples (seeded by the caller).
    encoder_positions
        ``(B, F, 28, 2)`` completed windows (e.g. a baseline's completion of the input;
        NaN where it has no value) that the encoder sees instead of the observed joints
        alone; the fit still uses ``positions`` and ``weights`` only.

    Returns
    -------
    InpaintResult
    """
    device = next(model.G.parameters()).device
    positions = positions.to(device=device, dtype=torch.float32)
    weights = weights.to(device=device, dtype=torch.float32)
    n_windows, n_frames = positions.shape[:2]
    k = settings.starts
    if settings.encoder_init and model.E is None:
        raise ValueError("this model has no encoder: use encoder_init=False")
    # Work in the model's normalised frame (translation + scale fitted on observed joints).
    observed = weights > 0
    mean_pose = model.E.mean_pose if model.E is not None else default_mean_pose()
    grid_in, to_model = encoder_input(positions, observed, mean_pose)
    normalized = to_model.apply(torch.nan_to_num(positions).flatten(1, 2)).reshape(positions.shape)
    target = torch.where(observed[..., None], normalized, torch.zeros_like(normalized))

    z = torch.randn(n_windows, k, model.latent, generator=generator).to(device)
    if settings.encoder_init:
        if encoder_positions is not None:
            complete = encoder_positions.to(device=device, dtype=torch.float32)
            grid_in, _ = encoder_input(complete, None, mean_pose)
        with torch.no_grad():
            z[:, 0] = model.E(grid_in)
    z = z.reshape(n_windows * k, model.latent).requires_grad_(True)
    target_k = target.repeat_interleave(k, dim=0)
    weights_k = weights.repeat_interleave(k, dim=0)
    optimizer = torch.optim.Adam([z], lr=settings.learning_rate, betas=settings.betas)

    best_loss = torch.full((n_windows * k,), float("inf"), device=device)
    best_estimate = torch.zeros_like(target_k)
    best_frame_loss = torch.zeros(target_k.shape[:2], device=device)
    stale, steps = 0, 0
    for steps in range(1, settings.iterations + 1):
        grid = model.G(z)
        estimate = from_grid(grid)
        if settings.procrustes and settings.per_frame:
            estimate = fit_similarity(estimate, target_k, weights_k).apply(estimate)
        elif settings.procrustes:
            transform = fit_similarity(
                estimate.flatten(1, 2), target_k.flatten(1, 2), weights_k.flatten(1, 2)
            )
            estimate = transform.apply(estimate.flatten(1, 2)).reshape(estimate.shape)
        position, velocity = _contextual_terms(estimate, target_k, weights_k)
        frame_loss = settings.gamma_position * position + settings.gamma_velocity * velocity
        loss = frame_loss.mean(1)
        if settings.gamma_prior:  # the critic's score costs a forward and backward pass
            loss = loss - settings.gamma_prior * model.D(grid)
        if settings.gamma_latent:
            loss = loss + settings.gamma_latent * z.pow(2).mean(-1) / 2
        with torch.no_grad():
            better = loss < best_loss
            improved = bool((better & (loss < best_loss - settings.tolerance * best_loss.abs())).any())
            best_loss = torch.where(better, loss, best_loss)
            best_estimate[better] = estimate[better]
            best_frame_loss[better] = frame_loss[better]
        if settings.patience:
            stale = 0 if improved else stale + 1
            if stale >= settings.patience:
                break
        if steps == settings.iterations:
            break
        optimizer.zero_grad(set_to_none=True)
        loss.sum().backward()
        optimizer.step()

    # Keep each window's best start, and map it back to the input's coordinates.
    chosen = best_loss.reshape(n_windows, k).argmin(1)
    rows = torch.arange(n_windows, device=device) * k + chosen
    estimate = to_model.inverse().apply(best_estimate[rows].flatten(1, 2)).reshape(
        n_windows, n_frames, -1, 2
    )
    return InpaintResult(
        positions=estimate,
        frame_losses=best_frame_loss[rows].detach(),
        losses=best_loss[rows].detach(),
        iterations=steps,
    )
