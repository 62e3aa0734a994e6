"""JUMPS inference settings, each default written once: the window length, the latent
optimisation's settings (:class:`InpaintSettings`, defaults: the paper's), the presets
the ``jumps`` stage offers (:data:`PRESETS`; the stage's parameters override them) and
the completion's weight per joint.
"""

from __future__ import annotations

import attrs

#: Frames per window: the networks see 24 frames at a time (the paper's F).
WINDOW = 24


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
        Early stopping, per start of each window: a start stops when its loss has not
        improved by more than ``tolerance`` (relative) for ``patience`` steps;
        ``patience=0`` runs every start for ``iterations`` steps.
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


@attrs.frozen
class Preset:
    """A named starting point of the ``jumps`` stage: the latent optimisation's settings,
    the overlap of consecutive windows (a share of :data:`WINDOW`) and whether the
    mirrored input is inpainted too (the flip test).

    Examples
    --------
    >>> PRESETS["fast"].inpaint.starts, PRESETS["paper"].inpaint.iterations
    (1, 200)
    >>> PRESETS["fast"].flip_test, PRESETS["paper"].flip_test
    (True, False)
    """

    inpaint: InpaintSettings
    overlap: float = 0.5
    flip_test: bool = False


#: The critic's weight in both presets: the paper's γ_d = 15 assumes a critic scale
#: that ours does not have; 0 was best on the val split (model card).
PRESET_GAMMA_PRIOR = 0.0

#: The presets of the ``jumps`` stage; its explicit parameters override them.
PRESETS: dict[str, Preset] = {
    # The paper's inference: 200 Adam steps, 4 starts, half-overlapping windows.
    "paper": Preset(InpaintSettings(gamma_prior=PRESET_GAMMA_PRIOR)),
    # Real time on a 2-core CPU: the encoder's start, evaluated once (with the shipped
    # model the fit never improved on it: 60 steps with patience 3 stopped every window
    # after 3 evaluations, with the same result on val; model card), and the flip test.
    "fast": Preset(
        InpaintSettings(iterations=1, starts=1, patience=3, gamma_prior=PRESET_GAMMA_PRIOR),
        flip_test=True,
    ),
}

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

#: Weight of the completion's value in the gaps of the joints an individual measures
#: (occlusions); the generator's value (after the attachment) gets the rest. 1 was best
#: on the CMU val split (mean of the given joints' AUC in ``hpe`` and the filled
#: joints' in ``dropout``; model card, "Inference settings"): the window ridge fills
#: occlusions better than the generator.
GAP_WEIGHT = 1.0
