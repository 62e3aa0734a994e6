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
from posekit.presence import DEFAULT_MAX_GAP, check_max_gap, keep_present
from posekit.registry import Registry, get_registry
from posekit.sequence import IMPUTED_CONFIDENCE, PoseSequence
from posekit.windowing import pad_to_window

if TYPE_CHECKING:
    from posekit.jumps.checkpoint import JumpsModel

#: Window length of the networks (frames).
WINDOW = 24

#: Settings each preset stands for; explicit parameters override them.
PRESETS: dict[str, dict[str, float | int]] = {
    # The paper's inference: 200 Adam steps, half-overlapping windows.
    "paper": {"iterations": 200, "starts": 4, "overlap": 0.5, "patience": 0, "learning_rate": 1.0},
    # Real time on a 2-core CPU: the encoder's start only, stopped when it stalls.
    "fast": {"iterations": 60, "starts": 1, "overlap": 0.5, "patience": 8, "learning_rate": 1.0},
}


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
    iterations, starts, overlap, learning_rate
        Override the preset: Adam steps, parallel starts per window, window overlap,
        Adam's step size on the latent code.
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
    gamma_latent
        Weight of the prior's negative log-density of the code (**ours**; see
        :class:`~posekit.jumps.inpaint.InpaintSettings`).
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
    confidence_threshold
        Joints with a confidence below it count as missing.
    device
        ``auto`` (CUDA when available), ``cpu`` or ``cuda``.
    seed
        Seed of the prior samples; results are deterministic for a seed on CPU.
    batch_windows
        Windows optimised together at most (bounds memory on long sequences).
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
    iterations: int | None = None
    starts: int | None = None
    overlap: float | None = None
    learning_rate: float | None = None
    windowing: str = "closest"
    procrustes: bool = True
    alignment: Literal["frame", "window"] = "frame"
    gamma_prior: float = 0.0
    gamma_latent: float = 0.0
    encoder_init: bool = True
    keep_observed: bool = True
    attach: bool = True
    attach_smoothing: float = 1.0
    completion: str | None = "ridge"
    confidence_threshold: float = 0.4
    device: Literal["auto", "cpu", "cuda"] = "auto"
    seed: int = 0
    batch_windows: int = 2048
    max_gap: int | None = attrs.field(default=DEFAULT_MAX_GAP, validator=check_max_gap)

    def __attrs_post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {self.preset!r}")
        get_registry().entry("windowing", self.windowing)
        if self.completion is not None:
            get_registry().entry("stage", self.completion)
        resolved = self.resolved()
        if resolved["iterations"] < 1 or resolved["starts"] < 1:
            raise ValueError("iterations and starts must be at least 1")
        if self.attach_smoothing < 0:
            raise ValueError(f"attach_smoothing must be 0 or more, got {self.attach_smoothing}")
        if not self.gamma_latent >= 0:
            raise ValueError(f"gamma_latent must be 0 or more, got {self.gamma_latent}")
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

    def resolved(self) -> dict[str, object]:
        """The preset's settings with the explicit parameters applied."""
        settings: dict[str, object] = dict(PRESETS[self.preset])
        for name in ("iterations", "starts", "overlap", "learning_rate"):
            value = getattr(self, name)
            if value is not None:
                settings[name] = value
        settings.update(procrustes=self.procrustes, encoder_init=self.encoder_init)
        return settings

    def _complete(self, sequence: PoseSequence) -> np.ndarray:
        """``(I, T, 28, 2)`` positions of the ``completion`` stage's output; NaN where
        it could not fill a joint (the encoder then sees that joint as missing)."""
        return get_registry().entry("stage", self.completion).cls()(sequence).positions()

    def __call__(self, sequence: PoseSequence) -> PoseSequence:
        import torch

        from posekit.jumps.attach import attach_to_observed
        from posekit.jumps.inpaint import InpaintSettings, inpaint_windows

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
        settings = InpaintSettings(
            iterations=int(resolved["iterations"]),
            starts=int(resolved["starts"]),
            learning_rate=float(resolved["learning_rate"]),
            procrustes=self.procrustes,
            per_frame=self.alignment == "frame",
            gamma_prior=self.gamma_prior,
            gamma_latent=self.gamma_latent,
            encoder_init=self.encoder_init,
            patience=int(resolved["patience"]),
        )
        strategy = get_registry().entry("windowing", self.windowing).cls(
            overlap=float(resolved["overlap"])
        )

        positions = sequence.positions()  # (I, T, 28, 2)
        confidence = sequence.confidences()
        observed = np.isfinite(positions).all(-1) & ~(confidence < self.confidence_threshold)
        n_frames = sequence.n_frames
        padded_frames = max(n_frames, WINDOW)
        starts = strategy.starts(padded_frames, WINDOW)
        offsets = starts[:, None] + np.arange(WINDOW)  # (W, 24)

        active = [i for i in range(len(positions)) if observed[i].any()]
        for i in sorted(set(range(len(positions))) - set(active)):
            warnings.warn(
                f"jumps: individual {sequence.individuals[i]!r} has no observed joint; "
                "it is left missing",
                stacklevel=2,
            )
        output = positions.copy()
        imputed = sequence.imputed_flags().copy()
        hops = get_registry().skeleton(SKELETON).hop_distances()
        if active:
            finite = np.where(observed[active][..., None], positions[active], 0.0)
            padded = pad_to_window(finite, WINDOW, axis=1)
            mask = pad_to_window(observed[active], WINDOW, axis=1)
            windows = padded[:, offsets]  # (A, W, 24, 28, 2)
            window_mask = mask[:, offsets]
            generator = torch.Generator().manual_seed(self.seed)
            flat_windows = torch.from_numpy(windows.reshape(-1, WINDOW, *windows.shape[-2:]))
            flat_mask = torch.from_numpy(window_mask.reshape(-1, WINDOW, windows.shape[-2]))
            flat_complete = None
            if self.completion is not None:
                complete = self._complete(sequence)[active]
                flat_complete = torch.from_numpy(
                    pad_to_window(complete, WINDOW, axis=1)[:, offsets].reshape(flat_windows.shape)
                )
            estimates, frame_losses = [], []
            for chunk in range(0, len(flat_windows), self.batch_windows):
                part = slice(chunk, chunk + self.batch_windows)
                result = inpaint_windows(
                    model, flat_windows[part], flat_mask[part].float(), settings, generator,
                    encoder_positions=None if flat_complete is None else flat_complete[part],
                )
                estimates.append(result.positions.cpu().double().numpy())
                frame_losses.append(result.frame_losses.cpu().double().numpy())
            estimate = np.concatenate(estimates).reshape(windows.shape)
            losses = np.concatenate(frame_losses).reshape(window_mask.shape[:3])
            for row, i in enumerate(active):
                merged = strategy.merge(estimate[row], losses[row], starts, padded_frames)[:n_frames]
                if self.keep_observed:
                    if self.attach:
                        merged = attach_to_observed(merged, positions[i], observed[i], hops,
                                                    self.attach_smoothing)
                    merged = np.where(observed[i][..., None], positions[i], merged)
                    imputed[i] |= ~observed[i]
                else:
                    imputed[i] = True
                output[i] = merged
        new_confidence = np.where(imputed & ~observed, IMPUTED_CONFIDENCE, confidence)
        filled = sequence.replace(position=output, confidence=new_confidence, imputed=imputed)
        return keep_present(sequence, filled, self.max_gap).with_log(
            "jumps", {**attrs.asdict(self), "resolved": resolved,
                      "model_sha256": model.metadata.get("sha256")})


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
