"""The grid representation of 2D pose windows (JUMPS paper, Fig. 3).

A window of ``F`` frames of the 28-joint layout becomes a 4-channel image of
``F`` rows and 18 columns ("entries"), ordered along the body from hands to feet
(:data:`ENTRIES`). Each entry holds ``(x_left, y_left, x_right, y_right)``: a
left/right joint pair, or an axial joint duplicated into both halves. Arrays are
channels-first, ``(..., 4, F, 18)``, as convolutions want; numpy arrays and torch
tensors are both accepted, with any leading batch dimensions.

The inverse averages the two copies of every axial joint, which is how the generator's
duplicated outputs become one pose.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np

from posekit.core.catalogue import builtin_skeleton
from posekit.core.skeleton import HUB_SKELETON

if TYPE_CHECKING:
    from posekit.core.sequence import PoseSequence

#: Grid columns, from hands to feet (posekit's choice; the paper gives no order).
ENTRIES: tuple[str, ...] = (
    "hand", "wrist", "elbow", "shoulder", "clavicle",
    "head_top", "head", "neck", "spine4", "spine3", "spine2", "spine", "pelvis",
    "hip", "knee", "ankle", "foot", "toe",
)  # fmt: skip
#: The layout the networks see: posekit's hub skeleton.
SKELETON = HUB_SKELETON
CHANNELS = 4
N_ENTRIES = len(ENTRIES)


@functools.cache
def _layout() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Joint indices of each entry's halves, and each joint's two grid slots."""
    names = builtin_skeleton(SKELETON).joint_names
    left = np.array([names.index(f"left_{e}" if f"left_{e}" in names else e) for e in ENTRIES])
    right = np.array([names.index(f"right_{e}" if f"right_{e}" in names else e) for e in ENTRIES])
    # Slot s = 2 * entry + half; a paired joint has one slot, used twice.
    slot_a = np.empty(len(names), dtype=np.int64)
    slot_b = np.empty(len(names), dtype=np.int64)
    for entry, (lj, rj) in enumerate(zip(left, right, strict=True)):
        slot_a[lj], slot_b[rj] = 2 * entry, 2 * entry + 1
        if lj != rj:
            slot_b[lj], slot_a[rj] = 2 * entry, 2 * entry + 1
    return left, right, slot_a, slot_b


def _is_torch(x: Any) -> bool:
    return type(x).__module__.startswith("torch")


def to_grid(positions: Any) -> Any:
    """Arrange 28-joint 2D positions as grids.

    Parameters
    ----------
    positions
        ``(..., F, 28, 2)`` numpy array or torch tensor, joints in the order of
        ``mpi_inf_3dhp_28``.

    Returns
    -------
    ``(..., 4, F, 18)`` of the same type.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(24, 28, 2))
    >>> to_grid(x).shape
    (4, 24, 18)
    >>> bool(np.array_equal(from_grid(to_grid(x)), x))
    True
    """
    left, right, slot_a, _ = _layout()
    if tuple(positions.shape[-2:]) != (len(slot_a), 2):
        raise ValueError(f"expected positions (..., F, 28, 2), got {tuple(positions.shape)}")
    halves = [positions[..., left, :], positions[..., right, :]]
    if _is_torch(positions):
        import torch

        return torch.movedim(torch.cat(halves, dim=-1), -1, -3)
    return np.moveaxis(np.concatenate(halves, axis=-1), -1, -3)


def from_grid(grid: Any) -> Any:
    """Turn grids back into 28-joint positions, averaging the copies of axial joints.

    Parameters
    ----------
    grid
        ``(..., 4, F, 18)`` numpy array or torch tensor.

    Returns
    -------
    ``(..., F, 28, 2)`` of the same type.
    """
    _, _, slot_a, slot_b = _layout()
    if tuple(grid.shape[-3:-2]) != (CHANNELS,) or grid.shape[-1] != N_ENTRIES:
        raise ValueError(f"expected a grid (..., 4, F, 18), got {tuple(grid.shape)}")
    if _is_torch(grid):
        import torch

        channels_last = torch.movedim(grid, -3, -1)
    else:
        channels_last = np.moveaxis(grid, -3, -1)
    # (..., F, 18, 4) -> (..., F, 36, 2): slot 2e is entry e's left half, 2e+1 its right.
    slots = channels_last.reshape(*channels_last.shape[:-2], 2 * N_ENTRIES, 2)
    return (slots[..., slot_a, :] + slots[..., slot_b, :]) * 0.5


def mirror_grid(grid: Any) -> Any:
    """Swap the left and right halves of every entry: the person mirrored left/right.

    Examples
    --------
    >>> g = to_grid(np.random.default_rng(1).normal(size=(24, 28, 2)))
    >>> bool(np.array_equal(mirror_grid(mirror_grid(g)), g))
    True
    """
    order = [2, 3, 0, 1]
    return grid[..., order, :, :]


def grid_from_sequence(sequence: PoseSequence, start: int = 0, frames: int = 24) -> np.ndarray:
    """Grids of one window of a 2D ``mpi_inf_3dhp_28`` sequence, one per individual.

    Returns
    -------
    ``(individual, 4, frames, 18)`` numpy array (NaN where joints are missing).

    Examples
    --------
    >>> from posekit.core.sequence import PoseSequence
    >>> seq = PoseSequence.from_arrays(np.zeros((30, 2, 28, 2)), skeleton="mpi_inf_3dhp_28")
    >>> grid_from_sequence(seq, start=6).shape
    (2, 4, 24, 18)
    """
    if sequence.skeleton != SKELETON or sequence.n_space != 2:
        raise ValueError(
            f"grids need a 2D {SKELETON} sequence, got skeleton {sequence.skeleton!r} in "
            f"{sequence.n_space}D; add a 'remap: {{to: {SKELETON}}}' step first"
        )
    if not 0 <= start <= sequence.n_frames - frames:
        raise ValueError(f"window [{start}, {start + frames}) exceeds {sequence.n_frames} frames")
    return to_grid(sequence.positions()[:, start : start + frames])


def sequence_from_grid(
    grid: np.ndarray, *, fps: float | None = None, individuals: list[str] | None = None
) -> PoseSequence:
    """A 2D ``mpi_inf_3dhp_28`` PoseSequence from grids ``(individual, 4, F, 18)``."""
    from posekit.core.sequence import PoseSequence

    positions = from_grid(np.asarray(grid, dtype=np.float64))  # (I, F, 28, 2)
    return PoseSequence.from_arrays(
        positions.transpose(1, 3, 2, 0), skeleton=SKELETON, fps=fps, individuals=individuals
    )
