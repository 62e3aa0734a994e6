"""The ``mean_pose`` baseline: the mean training pose, fitted to each frame's observed
joints by a similarity transform (Procrustes: translation, rotation, uniform scale)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import attrs
import numpy as np

from posekit.baselines.common import FILL_GAPS, ModelBaseline, Predictor, cached_model
from posekit.core.presence import DEFAULT_MAX_GAP, check_max_gap
from posekit.ops.procrustes import fit_similarity

METHOD = "mean_pose"


def mean_pose(frames: np.ndarray) -> np.ndarray:
    """The mean of frames ``(N, 28, 2)``, each first centred on its own joints' mean.

    Examples
    --------
    >>> frames = np.zeros((2, 28, 2)); frames[1] += 5.0
    >>> float(np.abs(mean_pose(frames)).max())
    0.0
    """
    frames = np.asarray(frames, np.float64)
    return (frames - frames.mean(axis=1, keepdims=True)).mean(axis=0)


def fit_mean_pose(template: np.ndarray, position: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """The template mapped onto each frame's observed joints.

    Parameters
    ----------
    template
        ``(28, 2)``.
    position, observed
        ``(T, 28, 2)`` and ``(T, 28)``.

    Returns
    -------
    numpy.ndarray
        ``(T, 28, 2)``; NaN in frames with fewer than two observed joints.

    Examples
    --------
    >>> template = np.random.default_rng(0).normal(size=(28, 2))
    >>> frame = 3.0 * template[None] + 7.0
    >>> seen = np.zeros((1, 28), bool); seen[0, :5] = True
    >>> bool(np.allclose(fit_mean_pose(template, frame, seen), frame))
    True
    """
    transform = fit_similarity(template[None], position, mask=observed)
    fitted = transform.apply(np.broadcast_to(template, position.shape))
    fitted[observed.sum(axis=1) < 2] = np.nan
    return fitted


@attrs.frozen
class MeanPose(ModelBaseline):
    """Fill missing joints with the mean training pose fitted by Procrustes (``mean_pose: {}``).

    Measured joints pass through unchanged; every joint it creates is marked imputed.

    Parameters
    ----------
    model
        Model file (``.npz`` with a ``.json`` sidecar holding its SHA-256); default the
        one shipped in ``posekit/models/baselines/``, fitted on the CMU train split.
    fill_gaps
        Interior gaps of a joint of at most this many frames are first filled by
        linear interpolation (0: never); those values are imputed too.
    max_gap
        Longest absence of the person (frames without any of its keypoints) filled;
        longer absences and the frames before its first and after its last detection
        stay missing (:mod:`posekit.core.presence`). None: every absence in between.

    Notes
    -----
    A frame with fewer than two observed joints stays missing.
    """

    model: Path | None = None
    fill_gaps: int = attrs.field(default=FILL_GAPS, validator=attrs.validators.ge(0))
    max_gap: int | None = attrs.field(default=DEFAULT_MAX_GAP, validator=check_max_gap)

    method: ClassVar[str] = METHOD

    def predictor(self) -> Predictor:
        """The template's fit to each frame."""
        arrays, _ = cached_model(self.model, METHOD)
        template = np.asarray(arrays["mean_pose"], np.float64)
        return lambda pos, seen: fit_mean_pose(template, pos, seen)
