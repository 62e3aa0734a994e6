"""The ``ridge`` baseline: per-frame linear (ridge) regression from the observed joints
to all joints, for any set of observed joints.

The model is the mean and covariance of single training frames (56 coordinates, in
torso units, see :mod:`posekit.jumps.normalize`). For the observed joints of a frame the
ridge solution follows from them in closed form (:func:`~posekit.baselines.common.conditional`),
so one small file serves every mask: the 12 joints of the upsampling layout, any
occlusion pattern, anything in between.

Normalization at inference, from the observed joints only: each frame is translated
to the centroid of its observed joints (exactly as the model is, by a linear map of
its statistics). The scale (pixels per torso unit) only enters through the
regression's intercept; it is estimated per frame from the observed joints (by
default the generalized least-squares fit of the centred observed joints to the
model's mean, which makes the whole prediction linear in them, hence equivariant to
translation and scale), then averaged over ``scale_window`` frames, since the training
windows have one scale per 24 frames.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

import attrs
import numpy as np

from posekit.baselines.common import (
    FILL_GAPS,
    Conditional,
    ModelBaseline,
    Predictor,
    built_model,
    cached_model,
    conditional,
    mirror_symmetric,
    moving_nanmean,
)
from posekit.core.presence import DEFAULT_MAX_GAP, check_max_gap

METHOD = "ridge"


@attrs.frozen(eq=False)
class FrameGaussian:
    """Mean ``(56,)`` and covariance ``(56, 56)`` of training frames, with a ridge penalty.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> frames = rng.normal(size=(500, 28, 2))
    >>> model = FrameGaussian.fit(frames, alpha=1e-3)
    >>> model.mean.shape, model.cov.shape
    ((56,), (56, 56))
    """

    mean: np.ndarray
    cov: np.ndarray
    alpha: float
    _cache: dict[tuple[bytes, float], Conditional] = attrs.field(factory=dict, repr=False)

    @classmethod
    def fit(cls, frames: np.ndarray, alpha: float, *, mirror: np.ndarray | None = None) -> FrameGaussian:
        """Statistics of frames ``(N, 28, 2)`` (NaN-free); with ``mirror`` (the joints'
        left/right permutation), of the frames and their mirror images
        (:func:`~posekit.baselines.common.mirror_symmetric`)."""
        flat = np.asarray(frames, np.float64).reshape(len(frames), -1)
        mean, second = flat.mean(axis=0), flat.T @ flat / len(flat)
        if mirror is not None:
            mean, second = mirror_symmetric(mean, second, mirror)
        return cls(mean, second - np.outer(mean, mean), float(alpha))

    def arrays(self) -> dict[str, np.ndarray]:
        """What :func:`~posekit.baselines.common.save_model` stores."""
        return {
            "mean": self.mean.astype(np.float64),
            "cov": self.cov.astype(np.float64),
            "alpha": np.asarray(self.alpha, np.float64),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], alpha: float | None = None) -> FrameGaussian:
        """The inverse of :meth:`arrays`; ``alpha`` overrides the stored penalty."""
        return cls(
            np.asarray(arrays["mean"], np.float64),
            np.asarray(arrays["cov"], np.float64),
            float(arrays["alpha"]) if alpha is None else float(alpha),
        )

    def conditional(self, points: np.ndarray) -> Conditional:
        """The regression for one observed-joint mask ``(28,)`` (cached)."""
        key = (np.asarray(points, bool).tobytes(), self.alpha)
        if key not in self._cache:
            self._cache[key] = conditional(self.mean, self.cov, points, self.alpha)
        return self._cache[key]

    def predict(
        self,
        position: np.ndarray,
        observed: np.ndarray,
        scale_window: int = 25,
        scale: str = "gls",
    ) -> np.ndarray:
        """Predict every joint of every frame with at least one observed joint.

        Parameters
        ----------
        position
            ``(T, 28, 2)``, any units.
        observed
            ``(T, 28)`` bool.
        scale_window
            Frames over which the scale estimate is averaged (1: per frame).
        scale
            How each frame's scale is estimated (see
            :meth:`~posekit.baselines.common.Conditional.scale`).

        Returns
        -------
        numpy.ndarray
            ``(T, 28, 2)``: predictions for all joints (observed ones included);
            NaN in frames with no observed joint, or when no frame in the sequence
            has two observed joints (no scale).
        """
        n_frames = position.shape[0]
        out = np.full(position.shape, np.nan)
        counts = observed.sum(axis=1)
        usable = np.flatnonzero(counts > 0)
        if usable.size == 0:
            return out
        weights = observed / np.maximum(counts, 1)[:, None]
        centroid = np.einsum("tj,tjd->td", weights, np.where(observed[..., None], position, 0.0))
        z = position - centroid[:, None, :]
        patterns, inverse = np.unique(observed[usable], axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        conds = [self.conditional(p) for p in patterns]
        scale_raw = np.full(n_frames, np.nan)
        for k, cond in enumerate(conds):
            frames = usable[inverse == k]
            if patterns[k].sum() >= 2:
                z_obs = z[frames].reshape(len(frames), -1)[:, cond.observed]
                scale_raw[frames] = cond.scale(z_obs, scale)
        scale_raw[~(scale_raw > 0)] = np.nan
        if not np.isfinite(scale_raw).any():
            return out
        smooth = moving_nanmean(scale_raw, scale_window)
        smooth = np.where(np.isfinite(smooth), smooth, np.nanmean(scale_raw))
        for k, cond in enumerate(conds):
            frames = usable[inverse == k]
            z_obs = z[frames].reshape(len(frames), -1)[:, cond.observed]
            full = np.empty((len(frames), position.shape[1] * 2))
            full[:, cond.observed] = z_obs
            full[:, ~cond.observed] = cond.predict(z_obs, smooth[frames])
            out[frames] = full.reshape(len(frames), -1, 2) + centroid[frames, None, :]
        return out


@attrs.frozen
class Ridge(ModelBaseline):
    """Fill missing joints by per-frame ridge regression on the observed ones (``ridge: {}``).

    Measured joints pass through unchanged; every joint it creates is marked imputed.

    Parameters
    ----------
    model
        Model file (``.npz`` with a ``.json`` sidecar holding its SHA-256); default the
        one shipped in ``posekit/models/baselines/``, fitted on the CMU train split.
    alpha
        Ridge penalty overriding the fitted one (torso units squared).
    fill_gaps
        Interior gaps of a joint of at most this many frames are first filled by
        linear interpolation (0: never); those values are imputed too.
    max_gap
        Longest absence of the person (frames without any of its keypoints) filled;
        longer absences and the frames before its first and after its last detection
        stay missing (:mod:`posekit.core.presence`). None: every absence in between.
    scale_window
        Frames over which the per-frame scale estimate is averaged.
    scale
        ``"gls"`` (default) or ``"spread"``: how each frame's scale is estimated (see
        :meth:`~posekit.baselines.common.Conditional.scale`).

    Notes
    -----
    A frame without any observed joint stays missing.
    """

    model: Path | None = None
    alpha: float | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.ge(0.0))
    )
    fill_gaps: int = attrs.field(default=FILL_GAPS, validator=attrs.validators.ge(0))
    max_gap: int | None = attrs.field(default=DEFAULT_MAX_GAP, validator=check_max_gap)
    scale_window: int = attrs.field(default=25, validator=attrs.validators.ge(1))
    scale: Literal["gls", "spread"] = "gls"

    method: ClassVar[str] = METHOD

    def predictor(self) -> Predictor:
        """The model's prediction, with the ``alpha`` override applied."""
        arrays, _ = cached_model(self.model, METHOD)
        model = built_model(FrameGaussian.from_arrays, arrays, self.alpha)
        return lambda pos, seen: model.predict(pos, seen, self.scale_window, self.scale)

