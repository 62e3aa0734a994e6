"""Upsampling one sequence with JUMPS, the whole per-sequence method: each individual's
frames are cut into overlapping windows (padded to at least one, and run only where the
person is present), the windows are inpainted a batch at a time
(:mod:`posekit.jumps.inpaint`), merged back by a window strategy
(:mod:`posekit.jumps.windowing`), averaged with the same of the mirrored input (the
flip test, where asked), attached to the measured joints (:mod:`posekit.jumps.attach`),
and the joints the input never measures, and the gaps of those it measures, are
blended with a completion where asked.

The ``jumps`` stage (:mod:`posekit.stages.jumps`) only resolves its parameters, loads
the model and calls :func:`upsample`. torch is imported only when work starts.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs
import numpy as np

from posekit.core.presence import presence
from posekit.core.progress import progress_bar
from posekit.core.sequence import IMPUTED_CONFIDENCE, PoseSequence
from posekit.jumps.settings import WINDOW, InpaintSettings
from posekit.jumps.windowing import WindowStrategy, pad_to_window
from posekit.ops.confidence import drop_low_confidence

if TYPE_CHECKING:
    from posekit.jumps.checkpoint import JumpsModel

StageLike = Callable[[PoseSequence], PoseSequence]

#: Frames the completion stage sees at a time, and the frames of context it gets on
#: each side (more than a second and more than the default ``max_gap``).
COMPLETION_BLOCK = 9000
COMPLETION_MARGIN = 120


@attrs.frozen
class Upsampling:
    """How a sequence is upsampled: the ``jumps`` stage's parameters, resolved.

    Parameters
    ----------
    settings
        The latent optimisation's settings.
    strategy
        Where windows start and how overlapping windows merge.
    hops
        Hop distances between the joints of the 28-joint skeleton (for attaching).
    confidence_threshold
        Joints with a confidence below it count as missing.
    keep_observed, attach, attach_smoothing
        Keep the measured values; shift each generated joint by the residual of its
        nearest measured joint, smoothed over time (:mod:`posekit.jumps.attach`).
    completion
        A stage that completes the input first (the encoder's start, and the joints
        blended in by ``weights``), or None.
    weights
        The completion's weight by joint index, for the joints an individual never
        measures (:func:`completion_share`).
    gap_weight
        The completion's weight in the gaps of the joints an individual measures.
    flip_test
        Also inpaint the left-right mirrored input and average the two.
    seed
        Seed of the prior samples.
    batch_windows
        Windows optimised together at most.
    max_gap
        Longest absence of a person filled (:func:`posekit.core.presence.presence`).
    """

    settings: InpaintSettings
    strategy: WindowStrategy
    hops: np.ndarray = attrs.field(eq=False)
    confidence_threshold: float
    keep_observed: bool
    attach: bool
    attach_smoothing: float
    completion: StageLike | None
    weights: dict[int, float] = attrs.field(eq=False)
    gap_weight: float
    flip_test: bool
    seed: int
    batch_windows: int
    max_gap: int | None

    @property
    def passes(self) -> int:
        """Times each window is inpainted: 2 with the flip test, else 1."""
        return 2 if self.flip_test else 1


def upsample(
    sequence: PoseSequence, model: JumpsModel, upsampling: Upsampling
) -> tuple[PoseSequence, list[np.ndarray]]:
    """Fill and upsample a 2D 28-joint sequence, each individual on its own.

    Parameters
    ----------
    sequence
        A 2D sequence in the 28-joint layout.
    model
        The networks.
    upsampling
        How (see :class:`Upsampling`).

    Returns
    -------
    filled
        The sequence with its generated joints flagged ``imputed`` (confidence
        :data:`~posekit.core.sequence.IMPUTED_CONFIDENCE`), only where the person is
        present; measured joints kept when ``keep_observed``.
    iterations
        The steps each window run took, one array per individual processed.
    """
    from posekit.jumps.attach import attach_to_observed
    from posekit.jumps.encoding import mirror_positions

    positions = sequence.positions()  # (I, T, 28, 2)
    confidence = sequence.confidences()
    observed = np.isfinite(positions).all(-1) & ~(confidence < upsampling.confidence_threshold)
    n_frames = sequence.n_frames
    starts = upsampling.strategy.starts(max(n_frames, WINDOW), WINDOW)

    # Windows run only where the person is present; nothing is made elsewhere.
    present = presence(sequence, upsampling.max_gap)  # (I, T)
    active = [i for i in range(len(positions)) if observed[i].any()]
    for i in sorted(set(range(len(positions))) - set(active)):
        warnings.warn(
            f"jumps: individual {sequence.individuals[i]!r} has no observed joint; "
            "it is left missing",
            stacklevel=3,
        )
    needed = {i: _windows_present(present[i], starts) for i in active}
    output = positions.copy()
    imputed = sequence.imputed_flags().copy()
    iterations: list[np.ndarray] = []
    with progress_bar(upsampling.passes * sum(len(run) for run in needed.values()), "jumps") as bar:
        for i, run in needed.items():
            completion = upsampling.completion
            complete = None if completion is None else complete_individual(
                completion, sequence, i, upsampling.confidence_threshold
            )
            windows = _Windows.cut(positions[i], observed[i], complete, starts)
            merged = _inpaint(model, upsampling, windows, run, i, bar.update, iterations)
            merged = merged[:n_frames]
            if upsampling.flip_test:  # the mirrored input, inpainted and mirrored back
                flipped = _inpaint(
                    model, upsampling, windows.mirrored(), run, i, bar.update, iterations
                )
                merged = 0.5 * (merged + mirror_positions(flipped[:n_frames]))
                del flipped
            del windows  # long files: hold one whole-length copy at a time
            if upsampling.keep_observed and upsampling.attach:
                merged = attach_to_observed(
                    merged, positions[i], observed[i], upsampling.hops, upsampling.attach_smoothing
                )
            # Joints the input never has, and the gaps of those it has, are blended with
            # the completion (consistent with the measured joints already).
            if complete is not None:
                share = completion_share(observed[i], upsampling.weights, upsampling.gap_weight)
                _blend(merged, complete, share)
            if upsampling.keep_observed:  # output[i] holds the measured positions
                np.copyto(output[i], merged, where=~observed[i][..., None])
                imputed[i] |= ~observed[i]
            else:
                output[i] = merged
                imputed[i] = True
            output[i][~present[i]] = np.nan
            imputed[i] &= present[i][:, None]
    confidence = np.where(imputed & ~observed, IMPUTED_CONFIDENCE, confidence)
    filled = sequence.replace(position=output, confidence=confidence, imputed=imputed)
    return filled, iterations


def _inpaint(
    model: JumpsModel,
    upsampling: Upsampling,
    windows: _Windows,
    run: np.ndarray,
    individual: int,
    advance: Callable[[int], object],
    iterations: list[np.ndarray],
) -> np.ndarray:
    """Inpaint the windows ``run`` (indices) of one individual, ``batch_windows`` at a
    time, and merge them by the window strategy.

    Returns the merged positions ``(T', 28, 2)`` over the padded frames
    (:class:`_Windows`); the steps each window run took ``(len(run),)`` are appended to
    ``iterations``, and ``advance(n)`` is called after every batch of ``n`` windows.
    """
    import torch

    from posekit.jumps.inpaint import inpaint_windows

    n_windows = len(windows.starts)
    estimate = np.full((n_windows, WINDOW, *windows.positions.shape[1:]), np.nan, np.float32)
    losses = np.full((n_windows, WINDOW), np.nan, np.float32)
    steps = np.empty(len(run), np.int64)
    settings, batch = upsampling.settings, upsampling.batch_windows
    n_prior = settings.starts - int(settings.encoder_init)
    for first in range(0, len(run), batch):
        part = run[first : first + batch]
        positions, mask, complete = windows.batch(part)
        result = inpaint_windows(
            model,
            torch.from_numpy(positions),
            torch.from_numpy(mask).float(),
            settings,
            encoder_positions=None if complete is None else torch.from_numpy(complete),
            prior=torch.from_numpy(
                prior_samples(upsampling.seed, individual, part, n_prior, model.latent)
            ),
        )
        estimate[part] = result.positions.cpu().numpy()
        losses[part] = result.frame_losses.cpu().numpy()
        steps[first : first + len(part)] = result.iterations.cpu().numpy()
        advance(len(part))
    iterations.append(steps)
    return upsampling.strategy.merge(estimate, losses, windows.starts, windows.n_padded)


def complete_individual(
    completion: StageLike, sequence: PoseSequence, individual: int, threshold: float
) -> np.ndarray:
    """``(T, 28, 2)`` float32 positions of a ``completion`` stage's output for one
    individual; NaN where it could not fill a joint (the encoder then sees that
    joint as missing). The stage sees what the windows see: joints with a confidence
    under ``threshold`` are missing.

    The stage sees :data:`COMPLETION_BLOCK` frames at a time with
    :data:`COMPLETION_MARGIN` frames of context on each side, so its memory does
    not grow with the file (the completions are local in time: a scale averaged
    over a second, gaps of at most ``max_gap`` frames).
    """
    name = [sequence.individuals[individual]]
    n_frames = sequence.n_frames
    out = np.empty((n_frames, sequence.n_keypoints, 2), np.float32)
    for first in range(0, n_frames, COMPLETION_BLOCK):
        last = min(first + COMPLETION_BLOCK, n_frames)
        low, high = max(first - COMPLETION_MARGIN, 0), min(last + COMPLETION_MARGIN, n_frames)
        block = sequence.select(individuals=name, frames=slice(low, high))
        part = completion(drop_low_confidence(block, threshold)).positions()
        out[first:last] = part[0, first - low : last - low]
    return out


def _windows_present(present: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Indices of the windows (first frames ``starts``) with a frame where ``present``
    ``(T,)`` is True (the padded frames after ``T`` count as absent).

    Examples
    --------
    >>> present = np.zeros(60, bool)
    >>> present[30:40] = True
    >>> _windows_present(present, np.array([0, 12, 24, 36])).tolist()
    [1, 2, 3]
    """
    padded = np.zeros(max(len(present), int(starts[-1]) + WINDOW), bool)
    padded[: len(present)] = present
    return np.flatnonzero(padded[starts[:, None] + np.arange(WINDOW)].any(axis=1))


def completion_share(
    observed: np.ndarray, weights: dict[int, float], gap_weight: float
) -> np.ndarray:
    """The completion's share ``(T, 28)`` of each joint of each frame of an individual
    with observed joints ``observed`` ``(T, 28)``: ``weights[j]`` for a joint ``j`` it
    never measures, ``gap_weight`` in the gaps of the joints it measures, 0 elsewhere.

    Examples
    --------
    >>> observed = np.zeros((3, 28), bool)
    >>> observed[:, 0] = True
    >>> observed[[0, 2], 1] = True
    >>> share = completion_share(observed, {0: 0.5, 2: 0.25}, 1.0)
    >>> share[:, 0].tolist(), share[:, 1].tolist(), share[:, 2].tolist(), share[:, 3].tolist()
    ([0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.25, 0.25, 0.25], [0.0, 0.0, 0.0])
    """
    measured = np.asarray(observed.any(axis=0), bool)
    share = np.where(~observed & measured, gap_weight, 0.0)
    for joint, weight in weights.items():
        if not measured[joint]:
            share[:, joint] = weight
    return share


def _blend(generated: np.ndarray, completed: np.ndarray, share: np.ndarray) -> None:
    """Blend ``generated`` ``(T, 28, 2)``, in place, with ``completed``'s values where
    those are finite: ``(1 - s) * generated + s * completed`` with ``s`` the share
    ``(T, 28)`` (:func:`completion_share`); one joint at a time, so the temporaries stay
    small for long files.

    Examples
    --------
    >>> generated, completed = np.zeros((2, 28, 2)), np.ones((2, 28, 2))
    >>> completed[1, 3] = np.nan
    >>> share = np.zeros((2, 28))
    >>> share[:, 3], share[:, 5] = 1.0, 0.25
    >>> _blend(generated, completed, share)
    >>> generated[:, 3, 0].tolist(), generated[:, 5, 0].tolist()
    ([1.0, 0.0], [0.25, 0.25])
    """
    for joint in np.flatnonzero(share.any(axis=0)):
        part, weight = completed[:, joint], share[:, joint, None]
        blend = (1.0 - weight) * generated[:, joint] + weight * part
        generated[:, joint] = np.where(np.isfinite(part), blend, generated[:, joint])


@attrs.frozen
class _Windows:
    """One individual's sequence cut into windows on demand (a batch at a time, so the
    windows of a long file never all exist at once).

    ``positions`` ``(T', 28, 2)`` are the measured values and ``mask`` ``(T', 28)`` the
    observed joints, both padded to a window's length; ``complete`` the completion
    stage's output (or None), padded alike. A batch's unobserved values are 0.
    """

    positions: np.ndarray
    mask: np.ndarray
    complete: np.ndarray | None
    starts: np.ndarray

    @classmethod
    def cut(
        cls,
        positions: np.ndarray,
        observed: np.ndarray,
        complete: np.ndarray | None,
        starts: np.ndarray,
    ) -> _Windows:
        """From an individual's ``(T, 28, 2)`` positions, ``(T, 28)`` observed joints,
        completion (or None) and the windows' first frames."""
        return cls(
            pad_to_window(positions, WINDOW),
            pad_to_window(observed, WINDOW),
            None if complete is None else pad_to_window(complete, WINDOW),
            starts,
        )

    def mirrored(self) -> _Windows:
        """The same windows of the left-right mirrored input (sides swapped, x negated;
        :func:`posekit.jumps.encoding.mirror_positions`)."""
        from posekit.jumps.encoding import mirror_permutation, mirror_positions

        return _Windows(
            mirror_positions(self.positions),
            self.mask[:, list(mirror_permutation())],
            None if self.complete is None else mirror_positions(self.complete),
            self.starts,
        )

    @property
    def n_padded(self) -> int:
        """Frames after padding (at least one window)."""
        return len(self.mask)

    def batch(self, part: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Positions ``(B, 24, 28, 2)`` (float32, 0 where not observed), mask
        ``(B, 24, 28)`` and completion of the windows ``part`` (indices)."""
        frames = self.starts[part, None] + np.arange(WINDOW)
        mask = self.mask[frames]
        positions = np.where(mask[..., None], self.positions[frames], 0.0).astype(np.float32)
        complete = None if self.complete is None else self.complete[frames]
        return positions, mask, complete


def prior_samples(
    seed: int, individual: int, windows: np.ndarray, n_samples: int, latent: int
) -> np.ndarray:
    """``(B, n_samples, latent)`` samples of the prior ``N(0, I)`` for the windows
    ``windows`` (indices) of an individual: each window's from its own seed, so a
    result does not depend on how the windows are batched or which are run.

    Examples
    --------
    >>> a = prior_samples(0, 0, np.arange(3), 2, 4)
    >>> b = prior_samples(0, 0, np.array([2]), 2, 4)
    >>> a.shape, bool((a[2] == b[0]).all())
    ((3, 2, 4), True)
    """
    if n_samples == 0:
        return np.zeros((len(windows), 0, latent), np.float32)
    return np.stack(
        [
            np.random.default_rng([seed, individual, int(w)]).standard_normal((n_samples, latent))
            for w in windows
        ]
    ).astype(np.float32)


#: Windows per batch on a CPU: as fast as 256 on 2 cores (the per-step overhead is
#: already small), with 100 MB less of activations (benchmarks/jumps_speed.py).
CPU_BATCH_WINDOWS = 64


def default_batch_windows(model: JumpsModel, settings: InpaintSettings, device: str) -> int:
    """Windows per batch when ``batch_windows`` is None: :data:`CPU_BATCH_WINDOWS` on a
    CPU, :func:`cuda_batch_windows` on CUDA."""
    if not str(device).startswith("cuda"):
        return CPU_BATCH_WINDOWS
    import torch

    free, _ = torch.cuda.mem_get_info(torch.device(device))
    return cuda_batch_windows(free, _bytes_per_start(model, settings), settings.starts)


def cuda_batch_windows(free_bytes: int, bytes_per_start: float, starts: int) -> int:
    """Windows per batch that fill half the free GPU memory (the other half is left to
    the allocator's slack and to other processes), between 256 and 65,536.

    Examples
    --------
    >>> cuda_batch_windows(free_bytes=40 * 2**30, bytes_per_start=2**20, starts=1)
    20480
    >>> cuda_batch_windows(free_bytes=2**30, bytes_per_start=2**20, starts=4)
    256
    """
    fits = int(free_bytes / 2 / (bytes_per_start * starts))
    return max(256, min(65536, fits))


def _bytes_per_start(model: JumpsModel, settings: InpaintSettings, probe: int = 64) -> float:
    """GPU memory one start of one window takes in a step (measured on ``probe`` starts,
    with a margin of 2 for the alignment and the loss), whatever the generator."""
    import torch

    from posekit.jumps.grid import from_grid

    device = next(model.G.parameters()).device
    torch.cuda.synchronize(device)
    base = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    z = torch.zeros(probe, model.latent, device=device, requires_grad=True)
    grid = model.G(z)
    score = from_grid(grid).square().sum()
    if settings.gamma_prior:
        score = score + model.D(grid).sum()
    torch.autograd.grad(score, z)
    peak = torch.cuda.max_memory_allocated(device) - base
    return 2.0 * peak / probe


def run_record(
    iterations: list[np.ndarray], batch: int, device: str, passes: int = 1
) -> dict[str, object]:
    """What the run did, for the provenance log: windows, steps taken, batch, device.

    ``iterations`` holds the steps of every window of every pass (``passes``: 2 with
    the flip test); ``windows`` counts the input's windows once, the steps' mean and
    maximum are over every pass.

    Examples
    --------
    >>> run_record([np.array([1, 1, 3]), np.array([1, 2, 1])], 64, "cpu", passes=2)["windows"]
    3
    """
    steps = np.concatenate(iterations) if iterations else np.zeros(0, np.int64)
    return {
        "windows": int(steps.size // passes),
        "mean_iterations": round(float(steps.mean()), 2) if steps.size else 0.0,
        "max_iterations": int(steps.max()) if steps.size else 0,
        "batch_windows": batch,
        "device": device,
    }
