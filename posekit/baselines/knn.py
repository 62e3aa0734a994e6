"""The ``knn`` baseline: the k nearest training frames on the observed joints.

Query and database frames are compared on the query's observed joints after the same
normalization on both sides: translated to the centroid of those joints and divided
by their RMS distance to it. The missing joints are the average of the ``k``
neighbours' joints (normalized the same way), mapped back with the query's centroid
and scale. The database is a random subsample of training frames (float16, torso
units), so the model file stays small.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import attrs
import numpy as np

from posekit.baselines.common import FILL_GAPS, ModelBaseline, Predictor, cached_model
from posekit.core.presence import DEFAULT_MAX_GAP, check_max_gap

METHOD = "knn"


def _normalize(position: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centroid ``(N, 2)``, RMS radius ``(N,)`` of the ``points`` joints, and the
    normalized poses ``(N, 28, 2)``."""
    centroid = position[:, points].mean(axis=1)
    centred = position - centroid[:, None, :]
    radius = np.sqrt((centred[:, points] ** 2).sum(axis=-1).mean(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return centroid, radius, centred / radius[:, None, None]


@attrs.frozen(eq=False)
class FrameDatabase:
    """Training frames ``(M, 28, 2)`` and the number of neighbours ``k``.

    Examples
    --------
    >>> frames = np.random.default_rng(0).normal(size=(50, 28, 2))
    >>> db = FrameDatabase(frames, k=3)
    >>> seen = np.ones((1, 28), bool); seen[0, :4] = False
    >>> db.predict(frames[:1], seen).shape
    (1, 28, 2)
    """

    frames: np.ndarray
    k: int = 10
    chunk: int = 1024

    def predict(self, position: np.ndarray, observed: np.ndarray) -> np.ndarray:
        """Every joint of every frame with at least two observed joints (NaN elsewhere)."""
        out = np.full(position.shape, np.nan)
        usable = np.flatnonzero(observed.sum(axis=1) >= 2)
        if usable.size == 0:
            return out
        patterns, inverse = np.unique(observed[usable], axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        database = np.asarray(self.frames, np.float32)
        k = min(self.k, len(database))
        for p, points in enumerate(patterns):
            frames = usable[inverse == p]
            _, _, db_norm = _normalize(database, points)
            db_keys = db_norm[:, points].reshape(len(database), -1)
            bad = ~np.isfinite(db_keys).all(axis=1)
            db_keys = np.where(bad[:, None], 0.0, db_keys).astype(np.float32)
            db_sq = (db_keys**2).sum(axis=1) + np.where(bad, np.inf, 0.0)
            db_values = db_norm[:, ~points]
            centroid, radius, q_norm = _normalize(position[frames], points)
            queries = q_norm[:, points].reshape(len(frames), -1).astype(np.float32)
            for start in range(0, len(frames), self.chunk):
                q = queries[start : start + self.chunk]
                rows = frames[start : start + self.chunk]
                dist = db_sq[None, :] - 2.0 * q @ db_keys.T
                nearest = np.argpartition(dist, k - 1, axis=1)[:, :k]
                values = db_values[nearest].mean(axis=1)  # (n, missing, 2)
                r = radius[start : start + self.chunk, None, None]
                c = centroid[start : start + self.chunk, None, :]
                result = np.empty((len(rows), position.shape[1], 2))
                result[:, points] = position[rows][:, points]
                result[:, ~points] = values * r + c
                ok = np.isfinite(r[:, 0, 0]) & (r[:, 0, 0] > 0)
                out[rows[ok]] = result[ok]
        return out


@attrs.frozen
class Knn(ModelBaseline):
    """Fill missing joints from the k nearest training frames (``knn: {k: 10}``).

    Measured joints pass through unchanged; every joint it creates is marked imputed.

    Parameters
    ----------
    model
        Model file (``.npz`` with a ``.json`` sidecar holding its SHA-256); default the
        one shipped in ``posekit/models/baselines/``: a subsample of CMU train frames.
    k
        Number of neighbours averaged; None: the value chosen on the val split.
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
    k: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.ge(1))
    )
    fill_gaps: int = attrs.field(default=FILL_GAPS, validator=attrs.validators.ge(0))
    max_gap: int | None = attrs.field(default=DEFAULT_MAX_GAP, validator=check_max_gap)

    method: ClassVar[str] = METHOD

    def predictor(self) -> Predictor:
        """The database's prediction, with the ``k`` override applied."""
        arrays, _ = cached_model(self.model, METHOD)
        k = int(arrays["k"]) if self.k is None else int(self.k)
        return FrameDatabase(arrays["frames"], k).predict
