"""The ``ridge_window`` baseline: ridge regression over 24-frame windows, from every
observed joint of the window to every joint of the window.

The model is the mean and covariance of training windows (24 × 56 = 1344 coordinates,
torso units), the covariance kept as its leading eigenvectors plus an isotropic
residual (a few MB instead of 7; a full ``cov`` is read too). As for
:mod:`posekit.baselines.ridge`, the regression for any mask follows from these in
closed form.

At inference the sequence is cut into half-overlapping windows (the last one ends
at the last frame; a shorter sequence is padded by repeating its edge frames); each
frame of a window is translated to the centroid of its observed joints (a linear map,
applied to the model's statistics too: the within-window motion of the whole body
is then no nuisance for the regression), one scale per window is estimated from
them (see :mod:`posekit.baselines.ridge`), and the predictions of overlapping
windows are averaged. Gaps in the joints a sequence measures (occlusions) are filled
first, by the same regression with the model of those joints alone; the windows then
share one pattern of observed joints, so one solve serves them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

import attrs
import numpy as np

from posekit.baselines.common import (
    N_JOINTS,
    Conditional,
    ModelBaseline,
    Predictor,
    built_model,
    cached_model,
    conditional,
    mirror_symmetric,
)
from posekit.core.presence import DEFAULT_MAX_GAP, check_max_gap

METHOD = "ridge_window"
#: Window masks whose regression a model keeps (the most recently used).
CACHED_MASKS = 8


def toeplitz_from_lags(lags: np.ndarray) -> np.ndarray:
    """The full ``(F·C, F·C)`` covariance from lag blocks ``(F, C, C)``.

    Block ``(a, b)`` is ``lags[b - a]`` for ``b >= a`` and ``lags[a - b].T`` otherwise.

    Examples
    --------
    >>> lags = np.arange(8.0).reshape(2, 2, 2)
    >>> toeplitz_from_lags(lags)[:2, 2:].tolist(), toeplitz_from_lags(lags)[2:, :2].tolist()
    ([[4.0, 5.0], [6.0, 7.0]], [[4.0, 6.0], [5.0, 7.0]])
    """
    n_frames, c, _ = lags.shape
    full = np.empty((n_frames * c, n_frames * c))
    for a in range(n_frames):
        for b in range(n_frames):
            block = lags[b - a] if b >= a else lags[a - b].T
            full[a * c : (a + 1) * c, b * c : (b + 1) * c] = block
    return full


def lags_from_moments(second: np.ndarray, n_frames: int) -> np.ndarray:
    """Average the blocks of a ``(F·C, F·C)`` matrix along each block diagonal."""
    c = second.shape[0] // n_frames
    blocks = second.reshape(n_frames, c, n_frames, c)
    return np.stack(
        [np.mean([blocks[a, :, a + lag, :] for a in range(n_frames - lag)], axis=0)
         for lag in range(n_frames)]
    )


def low_rank(cov: np.ndarray, rank: int) -> tuple[np.ndarray, np.ndarray, float]:
    """The ``rank`` leading eigenvectors ``(D, rank)`` and eigenvalues of a symmetric
    matrix, and the mean of the others (negative ones clipped to 0): the residual
    variance spread evenly over the remaining directions."""
    values, vectors = np.linalg.eigh((cov + cov.T) / 2)
    values = np.clip(values, 0.0, None)[::-1]
    vectors = vectors[:, ::-1]
    rank = min(rank, len(values))
    rest = values[rank:]
    return vectors[:, :rank], values[:rank], float(rest.mean()) if rest.size else 0.0


@attrs.frozen(eq=False)
class WindowGaussian:
    """Mean ``(F·56,)`` and covariance of training windows ``(F, 28, 2)``, with a ridge
    penalty.

    The covariance is stored either in full (``cov``) or as its leading eigenvectors
    (``basis`` ``(F·56, r)``, ``eigenvalues`` ``(r,)``) plus an isotropic ``residual``
    variance in the remaining directions: positive semi-definite by construction, and
    a fraction of the size.

    Examples
    --------
    >>> windows = np.random.default_rng(0).normal(size=(300, 4, 28, 2))
    >>> model = WindowGaussian.fit(windows, alpha=1e-3, rank=50)
    >>> model.basis.shape, model.full_cov().shape
    ((224, 50), (224, 224))
    """

    mean: np.ndarray
    alpha: float
    cov: np.ndarray | None = None
    basis: np.ndarray | None = None
    eigenvalues: np.ndarray | None = None
    residual: float = 0.0
    n_joints: int = N_JOINTS
    _cache: dict[tuple[bytes, float], Conditional] = attrs.field(factory=dict, repr=False)
    _full: list[np.ndarray] = attrs.field(factory=list, repr=False)
    _marginals: dict[bytes, WindowGaussian] = attrs.field(factory=dict, repr=False)

    @property
    def n_frames(self) -> int:
        """Window length F."""
        return self.mean.shape[0] // (2 * self.n_joints)

    def marginal(self, joints: np.ndarray) -> WindowGaussian:
        """The model of the joints ``joints`` ``(n_joints,)`` bool alone (cached): the
        sub-blocks of the mean and covariance.

        Examples
        --------
        >>> model = WindowGaussian.fit(np.random.default_rng(0).normal(size=(50, 2, 28, 2)), 0.1)
        >>> sub = model.marginal(np.arange(28) < 3)
        >>> sub.n_joints, sub.n_frames, sub.full_cov().shape
        (3, 2, (12, 12))
        """
        joints = np.asarray(joints, bool)
        key = joints.tobytes()
        if key not in self._marginals:
            coords = np.tile(np.repeat(joints, 2), self.n_frames)
            self._marginals[key] = WindowGaussian(
                self.mean[coords], self.alpha, cov=self.full_cov()[np.ix_(coords, coords)],
                n_joints=int(joints.sum()),
            )
        return self._marginals[key]

    @classmethod
    def fit(
        cls,
        windows: np.ndarray,
        alpha: float,
        *,
        toeplitz: bool = False,
        rank: int | None = None,
        mirror: np.ndarray | None = None,
        chunk: int = 4096,
    ) -> WindowGaussian:
        """Statistics of windows ``(N, F, 28, 2)`` (NaN-free), accumulated in chunks.

        Parameters
        ----------
        windows
            Training windows.
        alpha
            Ridge penalty.
        toeplitz
            Average the covariance along its block diagonals (a stationary model:
            statistics independent of the frame's place in the window).
        rank
            Keep this many eigenvectors (None: the full matrix).
        mirror
            The joints' left/right permutation: fit the windows and their mirror images
            (:func:`~posekit.baselines.common.mirror_symmetric`).
        """
        n, n_frames = windows.shape[:2]
        dim = int(np.prod(windows.shape[1:]))
        total = np.zeros(dim)
        second = np.zeros((dim, dim))
        for start in range(0, n, chunk):
            flat = np.asarray(windows[start : start + chunk], np.float64).reshape(-1, dim)
            total += flat.sum(axis=0)
            second += flat.T @ flat
        mean = total / n
        second /= n
        if mirror is not None:
            mean, second = mirror_symmetric(mean, second, mirror)
        if toeplitz:
            mean = np.tile(mean.reshape(n_frames, -1).mean(axis=0), n_frames)
            second = toeplitz_from_lags(lags_from_moments(second, n_frames))
        cov = second - np.outer(mean, mean)
        if rank is None:
            return cls(mean, float(alpha), cov=cov)
        basis, eigenvalues, residual = low_rank(cov, rank)
        return cls(mean, float(alpha), basis=basis, eigenvalues=eigenvalues, residual=residual)

    def arrays(self) -> dict[str, np.ndarray]:
        """What :func:`~posekit.baselines.common.save_model` stores."""
        out = {"mean": self.mean, "alpha": np.asarray(self.alpha, np.float64)}
        if self.cov is not None:
            out["cov"] = self.cov.astype(np.float32)
        else:
            basis, eigenvalues, residual = self.low_rank()
            out["basis"] = basis.astype(np.float32)
            out["eigenvalues"] = eigenvalues.astype(np.float64)
            out["residual"] = np.asarray(residual, np.float64)
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], alpha: float | None = None) -> WindowGaussian:
        """The inverse of :meth:`arrays`; ``alpha`` overrides the stored penalty."""
        alpha = float(arrays["alpha"]) if alpha is None else float(alpha)
        mean = np.asarray(arrays["mean"], np.float64)
        if "cov" in arrays:
            return cls(mean, alpha, cov=np.asarray(arrays["cov"], np.float64))
        return cls(
            mean,
            alpha,
            basis=np.asarray(arrays["basis"], np.float64),
            eigenvalues=np.asarray(arrays["eigenvalues"], np.float64),
            residual=float(arrays["residual"]),
        )

    def full_cov(self) -> np.ndarray:
        """The ``(F·56, F·56)`` covariance."""
        if self.cov is not None:
            return self.cov
        if not self._full:
            basis, values, residual = self.low_rank()
            cov = (basis * (values - residual)) @ basis.T
            cov[np.diag_indices_from(cov)] += residual
            self._full.append(cov)
        return self._full[0]

    def low_rank(self) -> tuple[np.ndarray, np.ndarray, float]:
        """``basis``, ``eigenvalues`` and ``residual`` of a model stored without ``cov``."""
        if self.basis is None or self.eigenvalues is None:
            raise ValueError("the model holds neither a covariance nor its low-rank form")
        return self.basis, self.eigenvalues, self.residual

    def full_mean(self) -> np.ndarray:
        """The ``(F·56,)`` mean."""
        return self.mean

    def conditional(self, points: np.ndarray) -> Conditional:
        """The regression for one window mask ``(F, 28)``, each frame centred on its
        own observed joints; the :data:`CACHED_MASKS` masks used last are kept (a
        regression holds a few MB, and a mask with an occlusion rarely comes back)."""
        points = np.asarray(points, bool).reshape(-1)
        key = (points.tobytes(), self.alpha)
        if key in self._cache:
            self._cache[key] = self._cache.pop(key)  # now the most recent
        else:
            if len(self._cache) >= CACHED_MASKS:
                del self._cache[next(iter(self._cache))]
            groups = np.repeat(np.arange(self.n_frames), self.n_joints)
            self._cache[key] = conditional(
                self.full_mean(), self.full_cov(), points, self.alpha, groups
            )
        return self._cache[key]

    def predict_window(
        self, position: np.ndarray, observed: np.ndarray, method: str = "gls"
    ) -> np.ndarray | None:
        """All joints of one window ``(F, 28, 2)``; None if fewer than two are observed
        or no scale can be estimated (a GLS scale that is not positive falls back on
        the spread's).

        ``method`` is how the window's scale is estimated (see
        :meth:`~posekit.baselines.common.Conditional.scale`).
        """
        points = observed.reshape(-1)
        if points.sum() < 2:
            return None
        cond = self.conditional(points)
        full, scale = cond.complete(position.reshape(-1, 2), method)
        if not scale > 0 and method != "spread":  # fall back on the spread's ratio
            full, scale = cond.complete(position.reshape(-1, 2), "spread")
        if not scale > 0:
            return None
        return full.reshape(position.shape)

    def predict(
        self,
        position: np.ndarray,
        observed: np.ndarray,
        overlap: float = 0.5,
        scale: str = "gls",
    ) -> np.ndarray:
        """Predict every joint of a sequence ``(T, 28, 2)`` by overlapping windows.

        Returns NaN where no window covering a frame had two observed joints.
        """
        n_frames, window = position.shape[0], self.n_frames
        if n_frames < window:
            pad = window - n_frames
            padded = self.predict(
                np.pad(position, ((0, pad), (0, 0), (0, 0)), mode="edge"),
                np.pad(observed, ((0, pad), (0, 0)), mode="edge"),
                overlap,
                scale,
            )
            return padded[:n_frames]
        position, observed = self._fill_measured_gaps(position, observed, overlap, scale)
        stride = max(1, round(window * (1.0 - overlap)))
        starts = list(range(0, n_frames - window + 1, stride))
        if starts[-1] != n_frames - window:
            starts.append(n_frames - window)
        total = np.zeros(position.shape)
        count = np.zeros(position.shape[:1] + (1, 1))
        for start in starts:
            part = slice(start, start + window)
            pred = self.predict_window(position[part], observed[part], scale)
            if pred is not None:
                total[part] += pred
                count[part] += 1
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / count, np.nan)

    def _fill_measured_gaps(
        self, position: np.ndarray, observed: np.ndarray, overlap: float, scale: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """Fill the gaps of the joints the sequence measures with the model of those
        joints alone (:meth:`marginal`), returning the positions and the mask with them
        counted as observed.

        For a Gaussian this is the regression from the measured values (predicting the
        others from the filled gaps gives the same as from the measured values alone),
        but the systems solved per window are about half the size, and the windows of
        the second pass share one mask, so one solve.
        """
        measured = np.asarray(observed.any(axis=0), bool)
        if measured.all() or measured.sum() < 2 or observed[:, measured].all():
            return position, observed
        filled = self.marginal(measured).predict(
            position[:, measured], observed[:, measured], overlap, scale
        )
        found = np.isfinite(filled).all(axis=-1) & ~observed[:, measured]
        position, observed = position.copy(), observed.copy()
        position[:, measured] = np.where(found[..., None], filled, position[:, measured])
        observed[:, measured] |= found
        return position, observed


@attrs.frozen
class RidgeWindow(ModelBaseline):
    """Fill missing joints by ridge regression over 24-frame windows (``ridge_window: {}``).

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
        linear interpolation; those values are imputed too. 0 (the default): never;
        the window model fills every gap from the measured values of the window,
        before, after and across the gap, which was better on the CMU val split
        (``hpe``: added-joint AUC 0.655 against 0.628 with gaps of up to 30 frames
        filled linearly, given joints 0.879 against 0.855). EVALUATION.md's baseline
        fills gaps linearly first (``fill_gaps: 30``).
    max_gap
        Longest absence of the person (frames without any of its keypoints) filled;
        longer absences and the frames before its first and after its last detection
        stay missing (:mod:`posekit.core.presence`). None: every absence in between.
    overlap
        Fraction of a window shared with the next (0.5: half-overlapping).
    scale
        ``"gls"`` (default) or ``"spread"``: how each window's scale is estimated (see
        :meth:`~posekit.baselines.common.Conditional.scale`).
    """

    model: Path | None = None
    alpha: float | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.ge(0.0))
    )
    fill_gaps: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    max_gap: int | None = attrs.field(default=DEFAULT_MAX_GAP, validator=check_max_gap)
    overlap: float = attrs.field(
        default=0.5, validator=[attrs.validators.ge(0.0), attrs.validators.lt(1.0)]
    )
    scale: Literal["gls", "spread"] = "gls"

    method: ClassVar[str] = METHOD

    def predictor(self) -> Predictor:
        """The model's prediction, with the ``alpha`` override applied."""
        arrays, _ = cached_model(self.model, METHOD)
        model = built_model(WindowGaussian.from_arrays, arrays, self.alpha)
        return lambda pos, seen: model.predict(pos, seen, self.overlap, self.scale)
