"""A linear code of training windows (principal components), and what it is used for.

- the ceiling's linear reference (:mod:`training.diagnose_jumps`): how much of a window
  a code of ``K`` numbers keeps when it is linear;
- the networks' linear path (**ours**, ``model.linear_path`` in a training config): the
  generator starts as the probabilistic PCA of the training windows,
  ``G(z) = mean + U sqrt(var) z``, so ``z ~ N(0, I)`` draws windows with the training
  windows' mean and covariance along the ``K`` components, and the encoder starts as the
  posterior mean of that code given the joints it observes (any of them). The
  convolutions start at zero and learn what is not linear; ``G(E(x))`` starts as the
  linear code, so the generator keeps at least what it keeps from the first step.
"""

from __future__ import annotations

import attrs
import numpy as np


@attrs.frozen
class LinearCode:
    """The principal components of training windows: a linear code of ``K`` numbers.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> windows = rng.normal(size=(500, 24, 28, 2)).astype(np.float32)
    >>> code = LinearCode.fit(windows, 8)
    >>> code.reconstruct(windows[:3]).shape
    (3, 24, 28, 2)
    >>> z = code.whiten(windows)
    >>> bool(abs(z.std(axis=0).mean() - 1) < 0.01)
    True
    """

    mean: np.ndarray  # (D,)
    components: np.ndarray  # (K, D), orthonormal rows
    variances: np.ndarray  # (K,), the training windows' variance along each component
    residual: float  # the mean variance along the components left out (PPCA's noise)

    @classmethod
    def fit(cls, windows: np.ndarray, size: int, limit: int = 60_000, seed: int = 0) -> LinearCode:
        """Fit on (at most ``limit``, drawn at random) normalized windows ``(N, F, J, 2)``."""
        rng = np.random.default_rng(seed)
        if len(windows) > limit:
            windows = windows[np.sort(rng.choice(len(windows), limit, replace=False))]
        flat = windows.reshape(len(windows), -1).astype(np.float64)
        mean = flat.mean(0)
        values, vectors = np.linalg.eigh(np.cov(flat - mean, rowvar=False))
        order = np.argsort(values)[::-1]
        left_out = values[order[size:]]
        return cls(mean=mean, components=vectors[:, order[:size]].T.copy(),
                   variances=np.maximum(values[order[:size]], 1e-12),
                   residual=float(max(left_out.mean(), 1e-12)) if len(left_out) else 1e-12)

    def reconstruct(self, windows: np.ndarray) -> np.ndarray:
        """Windows ``(N, F, J, 2)`` through their ``K``-number code."""
        flat = windows.reshape(len(windows), -1) - self.mean
        return ((flat @ self.components.T) @ self.components + self.mean).reshape(windows.shape)

    def whiten(self, windows: np.ndarray) -> np.ndarray:
        """Codes ``(N, K)`` of windows, each component scaled to unit variance."""
        flat = windows.reshape(len(windows), -1) - self.mean
        return (flat @ self.components.T) / np.sqrt(self.variances)

    def decoder(self) -> tuple[np.ndarray, np.ndarray]:
        """``(weight (D, K), bias (D,))`` with ``weight @ whiten(x) + bias`` = the
        reconstruction of ``x``: the generator's linear path."""
        return self.components.T * np.sqrt(self.variances), self.mean
