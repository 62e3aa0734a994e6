"""The ``jumps`` stage: fill and upsample a 2D sequence to the 28-joint layout.

A thin adapter: it checks and resolves its parameters when it is built (names against
the registry in use, so a pipeline's own registry), loads the model, and calls
:func:`posekit.jumps.upsample.upsample`, the per-sequence method. torch is imported only
when the stage runs, so listing or validating pipelines stays fast. The model is loaded
once per process (and checkpoint version), so a batch run or a Dask worker loads it for
its first file only.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, Any, Literal

import attrs

from posekit.core.catalogue import builtin_skeleton
from posekit.core.errors import PosekitError
from posekit.core.presence import DEFAULT_MAX_GAP, check_max_gap
from posekit.core.sequence import PoseSequence
from posekit.jumps.grid import SKELETON
from posekit.jumps.settings import COMPLETION_WEIGHTS, GAP_WEIGHT, PRESETS, InpaintSettings
from posekit.plugins.hookspecs import hookimpl
from posekit.plugins.registry import Registry, get_registry
from posekit.stages.provenance import note

if TYPE_CHECKING:
    from posekit.jumps.checkpoint import JumpsModel


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
        ``fast`` (the default: the encoder's start, no latent steps; faster than real time
        on a CPU, and more accurate than ``paper`` with the shipped model, see the model
        card) or ``paper`` (the paper's settings: 200 iterations, 4 starts).
    iterations, starts, overlap, learning_rate, patience
        Override the preset (None: the preset's, :data:`posekit.jumps.settings.PRESETS`):
        Adam steps, parallel starts per window, window overlap, Adam's step size on the
        latent code, and the steps without improvement after which a window stops (0:
        never; each window stops on its own).
    windowing
        Name of a registered window strategy: ``closest`` (the paper's) or ``blend``.
    procrustes
        Align the generated window to the input at every step (False: the paper's
        ablation). None: the preset's.
    alignment
        ``frame``: one similarity transform per frame, as the shipped model was trained;
        ``window``: one per window. None: the preset's.
    gamma_prior
        Weight of the critic's score in the objective (the paper's γ_d = 15 assumes a
        critic scale that ours does not have; 0, both presets' value, was best on the
        val split, see the model card). None: the preset's.
    encoder_init
        Start from the encoder's code of the input (False: the paper's ablation).
        None: the preset's.
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
        Name of a registered stage that completes the input first (it sees the joints
        under ``confidence_threshold`` as missing); the encoder's start is the code of
        the completed sequence, while the latent fit still uses the measured joints
        only (**ours**). Default ``ridge_window`` (the shipped window ridge baseline,
        which fills occlusions from the measured values around and across them),
        chosen on the CMU val split (added-joint AUC of ``upsample`` and ``hpe``, and
        the given joints of ``hpe``); ``None``: the paper's encoder start from the
        measured joints.
    completion_weights
        Weight in [0, 1] of the ``completion`` stage's value for each joint the
        individual's input never measures, blended with the generator's
        (``(1 - w) * generated + w * completed``; **ours**: each joint from the better
        mix of the two sources). Joints not named are the generator's. None:
        :data:`~posekit.jumps.settings.COMPLETION_WEIGHTS` when there is a completion
        (1 for spine2, clavicles and hands, down to 0.25 for head, feet and toes;
        chosen per joint on the CMU val split, see the model card), none without one;
        ``{}``: every added joint from the generator. Measured joints are kept either
        way.
    gap_weight
        Weight in [0, 1] of the ``completion`` stage's value in the gaps of the joints
        the individual measures (occlusions), blended likewise with the generator's
        (**ours**). Default :data:`~posekit.jumps.settings.GAP_WEIGHT` (1: the
        completion's value, chosen on the CMU val split, ``hpe`` and ``dropout``); 0:
        JUMPS alone fills them. No effect without a completion.
    flip_test
        Also inpaint the left-right mirrored input (sides swapped) and average the
        generated joints of the two runs, mirrored back (test-time flip augmentation,
        **ours**; the model was trained on mirrored windows too), for twice the
        networks' time. None: the preset's (``fast``: True, chosen on the CMU val split,
        added-joint AUC +0.004 in ``upsample`` and ``hpe``; ``paper``: False).
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
        (:func:`posekit.jumps.upsample.cuda_batch_windows`).
    max_gap
        Longest absence of a person (frames without any of its keypoints) filled;
        longer absences and the frames before its first and after its last detection
        stay missing (:mod:`posekit.core.presence`). None: every absence in between.

    Examples
    --------
    >>> Jumps(preset="fast", starts=2).resolved()["starts"]
    2
    >>> Jumps(windowing="nope")
    Traceback (most recent call last):
    ...
    posekit.core.errors.UnknownNameError: unknown windowing 'nope' (known: blend, closest)
    """

    model: str | None = None
    preset: Literal["paper", "fast"] = "fast"
    iterations: int | None = attrs.field(
        default=None,
        validator=attrs.validators.optional([attrs.validators.ge(1), attrs.validators.le(100_000)]),
    )
    starts: int | None = None
    overlap: float | None = attrs.field(
        default=None,
        validator=attrs.validators.optional([attrs.validators.ge(0.0), attrs.validators.lt(1.0)]),
    )
    learning_rate: float | None = None
    patience: int | None = None
    windowing: str = "closest"
    procrustes: bool | None = None
    alignment: Literal["frame", "window"] | None = None
    gamma_prior: float | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.ge(0.0))
    )
    encoder_init: bool | None = None
    keep_observed: bool = True
    attach: bool = True
    attach_smoothing: float = 1.0
    completion: str | None = "ridge_window"
    completion_weights: dict[str, float] | None = attrs.field(default=None, hash=False)
    gap_weight: float = attrs.field(
        default=GAP_WEIGHT, validator=[attrs.validators.ge(0.0), attrs.validators.le(1.0)]
    )
    flip_test: bool | None = None
    confidence_threshold: float = attrs.field(
        default=0.4, validator=[attrs.validators.ge(0.0), attrs.validators.le(1.0)]
    )
    device: Literal["auto", "cpu", "cuda"] = "auto"
    seed: int = 0
    batch_windows: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.ge(1))
    )
    max_gap: int | None = attrs.field(default=DEFAULT_MAX_GAP, validator=check_max_gap)
    #: The window strategy's and the completion stage's classes, resolved when the stage
    #: is built (an UnknownNameError lists the registered names).
    _strategy: type = attrs.field(init=False, eq=False, repr=False)
    _completion: type | None = attrs.field(init=False, eq=False, repr=False)

    @_strategy.default
    def _resolve_strategy(self) -> type:
        return get_registry().entry("windowing", self.windowing).cls

    @_completion.default
    def _resolve_completion(self) -> type | None:
        if self.completion is None:
            return None
        return get_registry().entry("stage", self.completion).cls

    def __attrs_post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {self.preset!r}")
        if self.completion_weights and self.completion is None:
            raise ValueError("completion_weights needs a completion stage")
        weights = self.blend_weights()
        unknown = set(weights) - set(builtin_skeleton(SKELETON).joint_names)
        if unknown:
            raise ValueError(f"completion_weights: {sorted(unknown)} are not joints of {SKELETON}")
        outside = {name: w for name, w in weights.items() if not 0.0 <= w <= 1.0}
        if outside:
            raise ValueError(f"completion_weights must be between 0 and 1, got {outside}")
        settings = self.settings()
        if settings.iterations < 1 or settings.starts < 1:
            raise ValueError("iterations and starts must be at least 1")
        if settings.patience < 0:
            raise ValueError(f"patience must be 0 or more, got {settings.patience}")
        if self.attach_smoothing < 0:
            raise ValueError(f"attach_smoothing must be 0 or more, got {self.attach_smoothing}")
        if not settings.learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {settings.learning_rate}")

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
        if self._completion is not None:
            completion = self._completion()
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

    def settings(self) -> InpaintSettings:
        """The latent optimisation's settings: the preset's, with the explicit
        parameters applied.

        Examples
        --------
        >>> Jumps(preset="paper", iterations=50, alignment="window").settings().per_frame
        False
        """
        given: dict[str, Any] = {  # InpaintSettings' fields, each of its own type
            "iterations": self.iterations,
            "starts": self.starts,
            "learning_rate": self.learning_rate,
            "patience": self.patience,
            "procrustes": self.procrustes,
            "per_frame": None if self.alignment is None else self.alignment == "frame",
            "gamma_prior": self.gamma_prior,
            "encoder_init": self.encoder_init,
        }
        changes = {name: value for name, value in given.items() if value is not None}
        return attrs.evolve(PRESETS[self.preset].inpaint, **changes)

    def resolved(self) -> dict[str, Any]:
        """The settings a run uses (preset and parameters resolved), as logged."""
        settings = self.settings()
        preset = PRESETS[self.preset]
        overlap = preset.overlap if self.overlap is None else self.overlap
        flip_test = preset.flip_test if self.flip_test is None else self.flip_test
        return {
            "iterations": settings.iterations,
            "starts": settings.starts,
            "overlap": overlap,
            "flip_test": flip_test,
            "patience": settings.patience,
            "learning_rate": settings.learning_rate,
            "procrustes": settings.procrustes,
            "alignment": "frame" if settings.per_frame else "window",
            "gamma_prior": settings.gamma_prior,
            "encoder_init": settings.encoder_init,
        }

    def __call__(self, sequence: PoseSequence) -> PoseSequence:
        import torch

        from posekit.jumps.upsample import Upsampling, default_batch_windows, run_record, upsample

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
        skeleton = builtin_skeleton(SKELETON)
        upsampling = Upsampling(
            settings=settings,
            strategy=self._strategy(overlap=float(resolved["overlap"])),
            hops=skeleton.hop_distances(),
            confidence_threshold=self.confidence_threshold,
            keep_observed=self.keep_observed,
            attach=self.attach,
            attach_smoothing=self.attach_smoothing,
            completion=None if self._completion is None else self._completion(),
            weights={
                skeleton.joint_names.index(name): w for name, w in self.blend_weights().items() if w
            },
            gap_weight=self.gap_weight,
            flip_test=bool(resolved["flip_test"]),
            seed=self.seed,
            batch_windows=self.batch_windows or default_batch_windows(model, settings, device),
            max_gap=self.max_gap,
        )
        filled, iterations = upsample(sequence, model, upsampling)
        note(
            resolved=resolved,
            model_sha256=model.metadata.get("sha256"),
            run=run_record(iterations, upsampling.batch_windows, device, upsampling.passes),
        )
        return filled


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
