"""The ``jumps`` stage: fill and upsample a 2D sequence to the 28-joint layout.

torch is imported only when the stage runs, so listing or validating pipelines stays
fast. The model is loaded once per process (and checkpoint version), so a batch run or
a Dask worker loads it for its first file only.
"""

from __future__ import annotations

import functools
import os
import warnings
from typing import TYPE_CHECKING, Literal

import attrs
import numpy as np

from posekit.errors import PosekitError
from posekit.grid import SKELETON
from posekit.hookspecs import hookimpl
from posekit.presence import DEFAULT_MAX_GAP, check_max_gap, presence
from posekit.registry import Registry, get_registry
from posekit.sequence import IMPUTED_CONFIDENCE, PoseSequence
from posekit.windowing import pad_to_window

if TYPE_CHECKING:
    from collections.abc import Callable

    from posekit.jumps.checkpoint import JumpsModel
    from posekit.jumps.inpaint import InpaintSettings

#: Window length of the networks (frames).
WINDOW = 24

#: Settings each preset stands for; explicit parameters override them.
PRESETS: dict[str, dict[str, float | int]] = {
    # The paper's inference: 200 Adam steps, half-overlapping windows.
    "paper": {"iterations": 200, "starts": 4, "overlap": 0.5, "patience": 0, "learning_rate": 1.0},
    # Real time on a 2-core CPU: the encoder's start only, stopped when it stalls.
    "fast": {"iterations": 60, "starts": 1, "overlap": 0.5, "patience": 3, "learning_rate": 1.0},
}


#: Frames the completion stage sees at a time, and the frames of context it gets on
#: each side (more than a second and more than the default ``max_gap``).
COMPLETION_BLOCK = 9000
COMPLETION_MARGIN = 120

#: Weight of the completion's value (ridge regression) for each joint the input never
#: measures; the generator's value (after the attachment) gets the rest, and joints not
#: named are the generator's alone. Chosen joint by joint on the CMU val split, where
#: the blend beats taking either source whole (model card, "Inference settings").
COMPLETION_WEIGHTS: dict[str, float] = {
    "spine2": 1.0, "left_clavicle": 1.0, "right_clavicle": 1.0, "left_hand": 1.0,
    "right_hand": 1.0, "spine": 0.75, "spine3": 0.75, "spine4": 0.75, "pelvis": 0.5,
    "neck": 0.5, "head": 0.25, "head_top": 0.25, "left_foot": 0.25, "right_foot": 0.25,
    "left_toe": 0.25, "right_toe": 0.25,
}  # fmt: skip


@attrs.frozen
class Jumps:
    """Fill missing joints and upsample to the 28 joints of ``mpi_inf_3dhp_28``.

    Every 24-frame window is inpainted by optimising the latent code of a GAN trained on
    2D projections of motion capture (JUMPS), then overlapping windows are merged.
    The input must be a 2D ``mpi_inf_3dhp_28`` sequence (add ``remap`` before it);
    any subset of joints may be observed. Each individual is processed on its own.

    Parameters
    ----------
    model
        Path to a ``.safetensors`` checkpoint; default the model shipped with posekit.
    preset
        ``fast`` (the default: one encoder start, early stopping; faster than real time
        on a CPU, and more accurate than ``paper`` with the shipped model, see the model
        card) or ``paper`` (the paper's settings: 200 iterations, 4 starts).
    iterations, starts, overlap, learning_rate, patience
        Override the preset: Adam steps, parallel starts per window, window overlap,
        Adam's step size on the latent code, and the steps without improvement after
        which a window stops (0: never; each window stops on its own).
    windowing
        Name of a registered window strategy: ``closest`` (the paper's) or ``blend``.
    procrustes
        Align the generated window to the input at every step (False: the paper's
        ablation).
    alignment
        ``frame``: one similarity transform per frame, as the shipped model was trained;
        ``window``: one per window.
    gamma_prior
        Weight of the critic's score in the objective (the paper's γ_d = 15 assumes a
        critic scale that ours does not have; 0 was best on the val split, see the
        model card).
    encoder_init
        Start from the encoder's code of the input (False: the paper's ablation).
    keep_observed
        Keep measured values of observed joints (True) or replace them by the
        generated ones (False; then every joint is marked imputed).
    attach
        With ``keep_observed``, shift each generated joint by the residual
        (measured − generated) of its nearest measured joint in the frame, so hands
        follow the measured wrists (**ours**, :mod:`posekit.jumps.attach`).
    attach_smoothing
        Gaussian standard deviation (frames) applied over time to those residuals,
        so detection noise does not shake the attached joints; 0: none. The default 1
        was chosen on the CMU val split (noisy ``hpe`` +0.007 added-joint AUC, exact
        ``upsample`` −0.001).
    completion
        Name of a registered stage that completes the input first; the encoder's start
        is the code of the completed sequence, while the latent fit still uses the
        measured joints only (**ours**). Default ``ridge`` (the shipped per-frame ridge
        baseline), chosen on the CMU val split (mean added-joint AUC of ``upsample`` and
        ``hpe``); ``None``: the paper's encoder start from the measured joints.
    completion_weights
        Weight in [0, 1] of the ``completion`` stage's value for each joint the
        individual's input never measures, blended with the generator's
        (``(1 - w) * generated + w * completed``; **ours**: each joint from the better
        mix of the two sources; JUMPS alone fills the gaps of measured joints). Joints
        not named are the generator's. None: :data:`COMPLETION_WEIGHTS` when there is a
        completion (1 for spine2, clavicles and hands, down to 0.25 for head, feet and
        toes; chosen per joint on the CMU val split, see the model card), none without
        one; ``{}``: every added joint from the generator. Measured joints are kept
        either way.
    confidence_threshold
        Joints with a confidence below it count as missing.
    device
        ``auto`` (CUDA when available), ``cpu`` or ``cuda``.
    seed
        Seed of the prior samples; results are deterministic for a seed on CPU.
    batch_windows
        Windows optimised together at most: they stream through the networks in
        batches of this size, so memory stays flat however long the file. None: 64 on
        a CPU, and on CUDA as many as fill half the free GPU memory
        (:func:`cuda_batch_windows`).
    max_gap
        Longest absence of a person (frames without any of its keypoints) filled;
        longer absences and the frames before its first and after its last detection
        stay missing (:mod:`posekit.presence`). None: every absence in between.

    Examples
    --------
    >>> Jumps(preset="fast", starts=2).resolved()["starts"]
    2
    """

    model: str | None = None
    preset: Literal["paper", "fast"] = "fast"
    iterations: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(
            [attrs.validators.ge(1), attrs.validators.le(100_000)]
        )
    )
    starts: int | None = None
    overlap: float | None = attrs.field(
        default=None, validator=attrs.validators.optional(
            [attrs.validators.ge(0.0), attrs.validators.lt(1.0)]
        )
    )
    learning_rate: float | None = None
    patience: int | None = None
    windowing: str = "closest"
    procrustes: bool = True
    alignment: Literal["frame", "window"] = "frame"
    gamma_prior: float = attrs.field(default=0.0, validator=attrs.validators.ge(0.0))
    encoder_init: bool = True
    keep_observed: bool = True
    attach: bool = True
    attach_smoothing: float = 1.0
    completion: str | None = "ridge"
    completion_weights: dict[str, float] | None = attrs.field(default=None, hash=False)
    confidence_threshold: float = attrs.field(
        default=0.4, validator=[attrs.validators.ge(0.0), attrs.validators.le(1.0)]
    )
    device: Literal["auto", "cpu", "cuda"] = "auto"
    seed: int = 0
    batch_windows: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.ge(1))
    )
    max_gap: int | None = attrs.field(default=DEFAULT_MAX_GAP, validator=check_max_gap)

    def __attrs_post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {self.preset!r}")
        if self.completion_weights and self.completion is None:
            raise ValueError("completion_weights needs a completion stage")
        weights = self.blend_weights()
        unknown = set(weights) - set(get_registry().skeleton(SKELETON).joint_names)
        if unknown:
            raise ValueError(f"completion_weights: {sorted(unknown)} are not joints of {SKELETON}")
        outside = {name: w for name, w in weights.items() if not 0.0 <= w <= 1.0}
        if outside:
            raise ValueError(f"completion_weights must be between 0 and 1, got {outside}")
        get_registry().entry("windowing", self.windowing)
        if self.completion is not None:
            get_registry().entry("stage", self.completion)
        resolved = self.resolved()
        if resolved["iterations"] < 1 or resolved["starts"] < 1:
            raise ValueError("iterations and starts must be at least 1")
        if resolved["patience"] < 0:
            raise ValueError(f"patience must be 0 or more, got {resolved['patience']}")
        if self.attach_smoothing < 0:
            raise ValueError(f"attach_smoothing must be 0 or more, got {self.attach_smoothing}")
        if not resolved["learning_rate"] > 0:
            raise ValueError(f"learning_rate must be positive, got {resolved['learning_rate']}")

    def check(self) -> None:
        """Verify the model files (record, architecture, SHA-256) and the completion
        stage's model; a pipeline calls this before any work.

        Raises
        ------
        CheckpointError, ModelFileError
            Naming the file and what is wrong.
        """
        from posekit.jumps.checkpoint import verify_checkpoint

        verify_checkpoint(self.model)
        if self.completion is not None:
            completion = get_registry().entry("stage", self.completion).cls()
            if callable(getattr(completion, "check", None)):
                completion.check()

    def blend_weights(self) -> dict[str, float]:
        """The completion's weight per joint (``completion_weights`` resolved).

        Examples
        --------
        >>> Jumps().blend_weights() == COMPLETION_WEIGHTS
        True
        >>> Jumps(completion=None).blend_weights()
        {}
        """
        if self.completion_weights is not None:
            return dict(self.completion_weights)
        return dict(COMPLETION_WEIGHTS) if self.completion is not None else {}

    def resolved(self) -> dict[str, object]:
        """The preset's settings with the explicit parameters applied."""
        settings: dict[str, object] = dict(PRESETS[self.preset])
        for name in ("iterations", "starts", "overlap", "learning_rate", "patience"):
            value = getattr(self, name)
            if value is not None:
                settings[name] = value
        settings.update(procrustes=self.procrustes, encoder_init=self.encoder_init)
        return settings

    def _complete(self, sequence: PoseSequence, individual: int) -> np.ndarray:
        """``(T, 28, 2)`` float32 positions of the ``completion`` stage's output for one
        individual; NaN where it could not fill a joint (the encoder then sees that
        joint as missing).

        The stage sees :data:`COMPLETION_BLOCK` frames at a time with
        :data:`COMPLETION_MARGIN` frames of context on each side, so its memory does
        not grow with the file (the completions are local in time: a scale averaged
        over a second, gaps of at most ``max_gap`` frames).
        """
        stage = get_registry().entry("stage", self.completion).cls()
        name = [sequence.individuals[individual]]
        n_frames = sequence.n_frames
        out = np.empty((n_frames, sequence.n_keypoints, 2), np.float32)
        for first in range(0, n_frames, COMPLETION_BLOCK):
            last = min(first + COMPLETION_BLOCK, n_frames)
            low, high = max(first - COMPLETION_MARGIN, 0), min(last + COMPLETION_MARGIN, n_frames)
            part = stage(sequence.select(individuals=name, frames=slice(low, high))).positions()
            out[first:last] = part[0, first - low : last - low]
        return out

    def settings(self) -> InpaintSettings:
        """The latent optimisation's settings (preset and parameters resolved)."""
        from posekit.jumps.inpaint import InpaintSettings

        resolved = self.resolved()
        return InpaintSettings(
            iterations=int(resolved["iterations"]),
            starts=int(resolved["starts"]),
            learning_rate=float(resolved["learning_rate"]),
            procrustes=self.procrustes,
            per_frame=self.alignment == "frame",
            gamma_prior=self.gamma_prior,
            encoder_init=self.encoder_init,
            patience=int(resolved["patience"]),
        )

    def __call__(self, sequence: PoseSequence) -> PoseSequence:
        import torch

        from posekit.jumps.attach import attach_to_observed
        from posekit.progress import progress_bar

        if sequence.skeleton != SKELETON or sequence.n_space != 2:
            raise PosekitError(
                f"jumps needs a 2D {SKELETON} sequence, got skeleton {sequence.skeleton!r} in "
                f"{sequence.n_space}D; add a 'remap: {{to: {SKELETON}}}' step before it"
            )
        device = self.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        model = _model(self.model, device)
        resolved = self.resolved()
        settings = self.settings()
        strategy = get_registry().entry("windowing", self.windowing).cls(
            overlap=float(resolved["overlap"])
        )
        batch = self.batch_windows or default_batch_windows(model, settings, device)

        positions = sequence.positions()  # (I, T, 28, 2)
        confidence = sequence.confidences()
        observed = np.isfinite(positions).all(-1) & ~(confidence < self.confidence_threshold)
        n_frames = sequence.n_frames
        starts = strategy.starts(max(n_frames, WINDOW), WINDOW)

        # Windows run only where the person is present; nothing is made elsewhere.
        present = presence(sequence, self.max_gap)  # (I, T)
        active = [i for i in range(len(positions)) if observed[i].any()]
        for i in sorted(set(range(len(positions))) - set(active)):
            warnings.warn(
                f"jumps: individual {sequence.individuals[i]!r} has no observed joint; "
                "it is left missing",
                stacklevel=2,
            )
        needed = {i: _windows_present(present[i], starts) for i in active}
        output = positions.copy()
        imputed = sequence.imputed_flags().copy()
        skeleton = get_registry().skeleton(SKELETON)
        hops = skeleton.hop_distances()
        weights = {
            skeleton.joint_names.index(name): w for name, w in self.blend_weights().items() if w
        }
        iterations: list[np.ndarray] = []
        with progress_bar(sum(len(run) for run in needed.values()), "jumps") as bar:
            for i, run in needed.items():
                complete = None if self.completion is None else self._complete(sequence, i)
                windows = _Windows.cut(positions[i], observed[i], complete, starts)
                estimate, losses, steps = self._inpaint(
                    model, settings, windows, run, i, batch, bar.update
                )
                iterations.append(steps)
                merged = strategy.merge(estimate, losses, starts, windows.n_padded)[:n_frames]
                del estimate, losses, windows  # long files: hold one whole-length copy at a time
                if self.keep_observed and self.attach:
                    merged = attach_to_observed(
                        merged, positions[i], observed[i], hops, self.attach_smoothing
                    )
                # Joints the input never has are blended with the completion (consistent
                # with the measured joints already); gaps in measured joints stay JUMPS's.
                absent = {j: w for j, w in weights.items() if not observed[i][:, j].any()}
                if absent:
                    _blend_joints(merged, complete, absent)
                if self.keep_observed:  # output[i] holds the measured positions
                    np.copyto(output[i], merged, where=~observed[i][..., None])
                    imputed[i] |= ~observed[i]
                else:
                    output[i] = merged
                    imputed[i] = True
                output[i][~present[i]] = np.nan
                imputed[i] &= present[i][:, None]
        confidence = np.where(imputed & ~observed, IMPUTED_CONFIDENCE, confidence)
        return sequence.replace(position=output, confidence=confidence, imputed=imputed).with_log(
            "jumps", {**attrs.asdict(self), "resolved": resolved,
                      "model_sha256": model.metadata.get("sha256"),
                      "run": _run_record(iterations, batch, device)})

    def _inpaint(
        self,
        model: JumpsModel,
        settings: InpaintSettings,
        windows: _Windows,
        run: np.ndarray,
        individual: int,
        batch: int,
        advance: Callable[[int], object],
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Inpaint the windows ``run`` (indices) of one individual, ``batch`` at a time.

        Returns the generated windows ``(W, 24, 28, 2)`` (float32; NaN for the windows
        not run), their per-frame contextual losses ``(W, 24)`` (NaN likewise) and the
        steps each window run took ``(len(run),)``; ``advance(n)`` is called after every
        batch of ``n`` windows.
        """
        import torch

        from posekit.jumps.inpaint import inpaint_windows

        n_windows = len(windows.starts)
        estimate = np.full((n_windows, WINDOW, *windows.positions.shape[1:]), np.nan, np.float32)
        losses = np.full((n_windows, WINDOW), np.nan, np.float32)
        steps = np.empty(len(run), np.int64)
        n_prior = settings.starts - int(settings.encoder_init)
        for first in range(0, len(run), batch):
            part = run[first : first + batch]
            positions, mask, complete = windows.batch(part)
            result = inpaint_windows(
                model, torch.from_numpy(positions), torch.from_numpy(mask).float(), settings,
                encoder_positions=None if complete is None else torch.from_numpy(complete),
                prior=torch.from_numpy(
                    prior_samples(self.seed, individual, part, n_prior, model.latent)
                ),
            )
            estimate[part] = result.positions.cpu().numpy()
            losses[part] = result.frame_losses.cpu().numpy()
            steps[first : first + len(part)] = result.iterations.cpu().numpy()
            advance(len(part))
        return estimate, losses, steps


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


def _blend_joints(generated: np.ndarray, completed: np.ndarray, weights: dict[int, float]) -> None:
    """Blend joints of ``generated`` ``(T, 28, 2)``, in place, with ``completed``'s values
    where those are finite: ``(1 - w) * generated + w * completed`` for joint ``j`` of
    weight ``w`` in ``weights``.

    Examples
    --------
    >>> generated, completed = np.zeros((2, 28, 2)), np.ones((2, 28, 2))
    >>> completed[1, 3] = np.nan
    >>> _blend_joints(generated, completed, {3: 1.0, 5: 0.25})
    >>> generated[:, 3, 0].tolist(), generated[:, 5, 0].tolist()
    ([1.0, 0.0], [0.25, 0.25])
    """
    for joint, weight in weights.items():
        part = completed[:, joint]
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
    return np.stack([
        np.random.default_rng([seed, individual, int(w)]).standard_normal((n_samples, latent))
        for w in windows
    ]).astype(np.float32)


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

    from posekit.grid import from_grid

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


def _run_record(iterations: list[np.ndarray], batch: int, device: str) -> dict[str, object]:
    """What the run did, for the provenance log: windows, steps taken, batch, device."""
    steps = np.concatenate(iterations) if iterations else np.zeros(0, np.int64)
    return {
        "windows": int(steps.size),
        "mean_iterations": round(float(steps.mean()), 2) if steps.size else 0.0,
        "max_iterations": int(steps.max()) if steps.size else 0,
        "batch_windows": batch,
        "device": device,
    }


def _model(path: str | None, device: str) -> JumpsModel:
    """The model at ``path`` (None: the shipped one) on ``device``, loaded once per
    process; a checkpoint file changed on disk (time or size) is loaded again."""
    stamp = None
    if path is not None and os.path.exists(path):
        status = os.stat(path)
        stamp = (status.st_mtime_ns, status.st_size)
    return _load_model(path, device, stamp)


@functools.lru_cache(maxsize=4)
def _load_model(path: str | None, device: str, stamp: tuple[int, int] | None) -> JumpsModel:
    """:func:`~posekit.jumps.checkpoint.load_model`, cached; ``stamp`` only keys the cache."""
    from posekit.jumps.checkpoint import load_model

    return load_model(path, device=device)


@hookimpl
def posekit_register_stages(registry: Registry) -> None:
    """Register the JUMPS stage."""
    registry.add_stage("jumps", Jumps)
