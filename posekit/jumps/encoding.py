"""The encoder's input: partial windows normalized from their observed joints only.

Training windows are normalized with the whole ground truth (mean pelvis at the origin,
scaled by the mean torso length); at inference the pelvis and neck may be missing, so
the encoder cannot rely on that normalization. **ours**: the encoder sees the window
re-centred and re-scaled by a translation and a uniform scale fitted from the observed
joints to the dataset mean pose (in the training frame), which is computed in the same
way during training and at inference:

1. per joint, the mean of its observed positions over the window, ``p_j``, with the
   number of frames it is observed in, ``n_j``, as its weight;
2. ``c`` = the weighted centroid of the ``p_j``, ``m`` = the weighted centroid of the mean
   pose's same joints ``M_j``;
3. scale ``s = sqrt(sum n_j |M_j - m|^2 / sum n_j |p_j - c|^2)`` (the ratio of the
   spreads; rotation-free and always positive, unlike a regression slope), and
   translation ``t = m - s c``.

The normalized window is ``s * x + t`` at observed joints and 0 at missing ones; the
mask is passed alongside, so the encoder can tell a missing joint from one at 0. One
transform per window keeps the window's motion (translation, scaling) intact.
Degenerate input (fewer than two distinct observed joints) falls back to ``s = 1``.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch import Tensor

from posekit.core.catalogue import builtin_skeleton
from posekit.jumps.grid import SKELETON, to_grid
from posekit.ops.procrustes import SimilarityTransform

_EPS = 1e-8


@functools.cache
def mirror_permutation() -> tuple[int, ...]:
    """Joint order of the mirrored 28-joint layout (left and right joints swapped)."""
    return tuple(int(j) for j in builtin_skeleton(SKELETON).mirror_permutation())


def mirror_positions(positions):
    """Mirror poses ``(..., J=28, 2)`` left/right: swap the sides and negate x.

    Works on numpy arrays and torch tensors (a mask ``(..., 28)`` is mirrored with
    ``mask[..., mirror_permutation()]``).
    """
    perm = list(mirror_permutation())
    mirrored = positions[..., perm, :]
    sign = np.array([-1.0, 1.0], dtype=np.float32)
    if isinstance(positions, Tensor):
        return mirrored * torch.as_tensor(sign, dtype=positions.dtype, device=positions.device)
    return mirrored * sign.astype(positions.dtype)


def default_mean_pose() -> Tensor:
    """A rough standing pose ``(28, 2)`` in the training frame (pelvis at 0, torso 1, y down).

    Only a placeholder for untrained encoders: a trained encoder carries the mean pose
    of its training data (buffer ``mean_pose``), which replaces this one.
    """
    axial = {
        "pelvis": 0.0, "spine": -0.25, "spine2": -0.5, "spine3": -0.7, "spine4": -0.9,
        "neck": -1.0, "head": -1.2, "head_top": -1.45,
    }  # fmt: skip
    sided = {
        "clavicle": (0.15, -0.95), "shoulder": (0.35, -0.95), "elbow": (0.4, -0.45),
        "wrist": (0.42, 0.0), "hand": (0.43, 0.12), "hip": (0.18, 0.0), "knee": (0.18, 0.85),
        "ankle": (0.18, 1.7), "foot": (0.18, 1.8), "toe": (0.18, 1.85),
    }  # fmt: skip
    pose = []
    for name in builtin_skeleton(SKELETON).joint_names:
        if name in axial:
            pose.append((0.0, axial[name]))
        else:
            side, part = name.split("_", 1)
            x, y = sided[part]
            pose.append((x if side == "left" else -x, y))
    return torch.tensor(pose, dtype=torch.float32)


def fit_encoder_transform(positions: Tensor, mask: Tensor, mean_pose: Tensor) -> SimilarityTransform:
    """The translation + scale that normalizes windows for the encoder (module docstring).

    Parameters
    ----------
    positions
        ``(B, F, J, 2)``; values at unobserved joints are ignored (NaN allowed).
    mask
        ``(B, F, J)`` booleans, True = observed.
    mean_pose
        ``(J, 2)``, the dataset mean pose in the training frame.

    Returns
    -------
    SimilarityTransform
        Rotation identity ``(B, 2, 2)``, scale ``(B,)``, translation ``(B, 2)``;
        differentiable with respect to ``positions``.
    """
    w = mask.to(positions.dtype)
    p = torch.where(mask[..., None], positions, torch.zeros_like(positions))
    counts = w.sum(dim=1)  # (B, J)
    joint_mean = p.sum(dim=1) / counts.clamp(min=1.0)[..., None]  # (B, J, 2)
    total = counts.sum(dim=1)  # (B,)
    safe_total = total.clamp(min=1.0)[:, None]
    weights = counts[..., None]
    mean_pose = mean_pose.to(dtype=positions.dtype, device=positions.device)
    c = (weights * joint_mean).sum(dim=1) / safe_total  # (B, 2)
    m = (weights * mean_pose).sum(dim=1) / safe_total
    spread_p = (weights * (joint_mean - c[:, None]) ** 2).sum(dim=(1, 2)) / safe_total[:, 0]
    spread_m = (weights * (mean_pose - m[:, None]) ** 2).sum(dim=(1, 2)) / safe_total[:, 0]
    ok = (spread_p > _EPS) & (spread_m > _EPS)
    ratio = torch.where(ok, spread_m, torch.ones_like(spread_m)) / torch.where(
        ok, spread_p, torch.ones_like(spread_p)
    )
    scale = torch.sqrt(ratio)
    translation = m - scale[:, None] * c
    rotation = torch.eye(2, dtype=positions.dtype, device=positions.device).expand(
        positions.shape[0], 2, 2
    )
    return SimilarityTransform(rotation, scale, translation)


def encoder_input(
    positions: Tensor, mask: Tensor | None, mean_pose: Tensor
) -> tuple[Tensor, SimilarityTransform]:
    """Normalize (partial) windows and arrange them as the encoder's 8-channel grids.

    Parameters
    ----------
    positions
        ``(B, F, 28, 2)`` in any frame (pixels at inference, the training frame in
        training); values at missing joints are ignored (NaN allowed).
    mask
        ``(B, F, 28)`` booleans, True = observed; None: observed where finite.
    mean_pose
        ``(28, 2)`` dataset mean pose (an :class:`~posekit.jumps.networks.Encoder`'s
        ``mean_pose`` buffer).

    Returns
    -------
    grid : Tensor
        ``(B, 8, F, 18)``: channels 0-3 the grid of the normalized coordinates (0 at
        missing joints), channels 4-7 the grid of the mask (1.0 observed, 0.0 missing).
    transform : SimilarityTransform
        The translation + scale applied (``normalized = transform.apply(positions)``);
        its ``inverse()`` maps back to the input's frame.

    Examples
    --------
    >>> from posekit.jumps.encoding import default_mean_pose
    >>> x = torch.randn(3, 24, 28, 2)
    >>> grid, t = encoder_input(x, None, default_mean_pose())
    >>> grid.shape, t.scale.shape
    (torch.Size([3, 8, 24, 18]), torch.Size([3]))
    """
    if mask is None:
        mask = torch.isfinite(positions).all(dim=-1)
    mask = mask.to(torch.bool)
    transform = fit_encoder_transform(positions, mask, mean_pose)
    normalized = transform.scale[:, None, None, None] * positions + transform.translation[
        :, None, None, :
    ]
    normalized = torch.where(mask[..., None], normalized, torch.zeros_like(normalized))
    mask_grid = to_grid(mask[..., None].expand(*mask.shape, 2).to(positions.dtype))
    return torch.cat([to_grid(normalized), mask_grid], dim=-3), transform
