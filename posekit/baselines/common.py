"""What the baselines share: model files, gap filling, the stage shell and the
Gaussian (ridge) regression for any set of observed joints.

Coordinates of the 28-joint layout (``mpi_inf_3dhp_28``) are flattened point-major:
coordinate ``2 * point + d`` is ``x`` (``d = 0``) or ``y`` (``d = 1``) of point
``point``; a window of ``F`` frames has ``F * 28`` points, frame-major.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar, cast

import attrs
import numpy as np
from scipy import linalg, sparse

from posekit.core.atomic import atomic_path
from posekit.core.errors import PosekitError
from posekit.core.presence import DEFAULT_MAX_GAP, keep_present
from posekit.core.sequence import IMPUTED_CONFIDENCE, PoseSequence
from posekit.core.skeleton import HUB_SKELETON

SKELETON = HUB_SKELETON
N_JOINTS = 28
#: Folder (inside ``posekit/models/``) of the fitted baseline models.
MODEL_FOLDER = "baselines"
#: Default longest interior gap (frames) filled by linear interpolation before a model runs.
FILL_GAPS = 30


class ModelFileError(PosekitError):
    """A baseline model file is missing, tampered with, or not what the stage expects."""


# -- model files ---------------------------------------------------------------------
def sha256_of(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sidecar_of(path: str | Path) -> Path:
    """The JSON sidecar of a model file: ``ridge.npz`` -> ``ridge.json``."""
    return Path(path).with_suffix(".json")


def save_model(
    path: str | Path, method: str, arrays: Mapping[str, np.ndarray], info: Mapping[str, Any]
) -> Path:
    """Write a model as ``.npz`` plus a JSON sidecar holding its SHA-256.

    Parameters
    ----------
    path
        The ``.npz`` file to write (the sidecar goes beside it, ``.json``).
    method
        The baseline's name (checked when loading).
    arrays
        Numeric arrays only (no objects: the file is read without pickle).
    info
        Anything worth recording (hyper-parameters, data, validation scores).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "m.npz"
    >>> _ = save_model(path, "demo", {"w": np.arange(3.0)}, {"alpha": 1.0})
    >>> arrays, meta = load_model(path, "demo")
    >>> arrays["w"].tolist(), meta["info"]["alpha"]
    ([0.0, 1.0, 2.0], 1.0)
    """
    path = Path(path)
    for name, value in arrays.items():
        if np.asarray(value).dtype == object:
            raise ValueError(f"array {name!r} has dtype object; model files hold numbers only")
    # Typed Any: numpy's stub reads a ``**`` mapping as maybe holding ``allow_pickle``.
    stored: dict[str, Any] = {name: np.asarray(value) for name, value in arrays.items()}
    with atomic_path(path) as tmp, open(tmp, "wb") as stream:
        np.savez_compressed(stream, **stored)
    meta = {
        "method": method,
        "file": path.name,
        "sha256": sha256_of(path),
        "bytes": path.stat().st_size,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "info": dict(info),
    }
    with atomic_path(sidecar_of(path)) as tmp:
        tmp.write_text(json.dumps(meta, indent=2, default=_json_default) + "\n")
    return path


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def load_model(path: str | Path, method: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a model written by :func:`save_model`, after checking its SHA-256.

    Raises
    ------
    ModelFileError
        If the file or its sidecar is missing, the hash differs (the file was changed
        or corrupted), the sidecar names another method, or the file holds objects.
    """
    path = Path(path)
    sidecar = sidecar_of(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file; {_how_to_get(path, method)}")
    if not sidecar.is_file():
        raise ModelFileError(f"{path}: its sidecar {sidecar.name} (with the SHA-256) is missing")
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelFileError(f"{sidecar}: not valid JSON: {err}") from None
    except OSError as err:
        raise ModelFileError(f"{sidecar}: cannot read: {err.strerror}") from None
    if not isinstance(meta, dict):
        raise ModelFileError(f"{sidecar}: expected a JSON object, got {type(meta).__name__}")
    if meta.get("method") != method:
        raise ModelFileError(f"{path}: a {meta.get('method')!r} model, expected {method!r}")
    actual = sha256_of(path)
    if actual != meta.get("sha256"):
        raise ModelFileError(
            f"{path}: SHA-256 {actual} differs from {meta.get('sha256')} in {sidecar.name}; "
            "the file was changed or corrupted, refusing to load it"
        )
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise ModelFileError(f"{path}: cannot read without pickle: {err}") from None
    return arrays, meta


def _how_to_get(path: Path, method: str) -> str:
    """What a user can do about a missing model file."""
    if path.resolve() == default_model_path(method):
        return (
            "the model shipped with posekit is missing, so the installation is incomplete: "
            "reinstall posekit"
        )
    return (
        "leave the stage's model unset to use the one shipped with posekit, or give a file "
        "fitted by the training scripts of posekit's source repository (not installed with "
        "the package: in a checkout, python -m training.fit_baselines; see docs/training.md)"
    )


def default_model_path(method: str) -> Path:
    """The shipped model file of a baseline: ``posekit/models/baselines/<method>.npz``."""
    return Path(__file__).resolve().parents[1] / "models" / MODEL_FOLDER / f"{method}.npz"


# -- gaps ----------------------------------------------------------------------------
def fill_gaps_linear(
    position: np.ndarray, observed: np.ndarray, max_gap: int
) -> tuple[np.ndarray, np.ndarray]:
    """Fill interior gaps of at most ``max_gap`` frames by linear interpolation.

    Parameters
    ----------
    position
        ``(T, J, D)``.
    observed
        ``(T, J)`` bool.
    max_gap
        Longest gap filled; 0 fills nothing. Gaps at either end are never filled.

    Returns
    -------
    position, filled
        The filled positions and a ``(T, J)`` mask of the filled entries.

    Examples
    --------
    >>> pos = np.array([0.0, np.nan, np.nan, 3.0, np.nan]).reshape(5, 1, 1)
    >>> out, filled = fill_gaps_linear(pos, np.isfinite(pos[..., 0]), max_gap=2)
    >>> out[:, 0, 0].tolist(), filled[:, 0].tolist()
    ([0.0, 1.0, 2.0, 3.0, nan], [False, True, True, False, False])
    """
    position = position.copy()
    filled = np.zeros(observed.shape, dtype=bool)
    if max_gap <= 0:
        return position, filled
    frames = np.arange(position.shape[0])
    for joint in range(position.shape[1]):
        seen = observed[:, joint]
        known = frames[seen]
        if known.size < 2 or known.size == frames.size:
            continue
        gaps = np.diff(known) - 1
        for start, length in zip(known[:-1][gaps > 0], gaps[gaps > 0]):
            if length <= max_gap:
                todo = np.arange(start + 1, start + 1 + length)
                t = (todo - start) / (length + 1)
                a, b = position[start, joint], position[start + length + 1, joint]
                position[todo, joint] = a + t[:, None] * (b - a)
                filled[todo, joint] = True
    return position, filled


# -- the stage shell -----------------------------------------------------------------
def as_layout(sequence: PoseSequence) -> PoseSequence:
    """The sequence in the 28-joint layout (remapped if it names another skeleton)."""
    from posekit.plugins.registry import get_skeleton

    names = list(get_skeleton(SKELETON).joint_names)
    if sequence.keypoints == names:
        return sequence
    if sequence.skeleton is not None and sequence.skeleton != SKELETON:
        return sequence.remap(SKELETON)
    raise ModelFileError(
        f"the baselines work on the {SKELETON} layout; the sequence has keypoints "
        f"{', '.join(sequence.keypoints[:5])}, ... and no skeleton attr to remap from"
    )


#: ``predict(position (T, 28, 2), observed (T, 28)) -> (T, 28, 2)``: a value for every
#: joint it can predict (NaN elsewhere).
Predictor = Callable[[np.ndarray, np.ndarray], np.ndarray]


def run_baseline(
    sequence: PoseSequence,
    name: str,
    predict: Predictor,
    fill_gaps: int = 0,
    max_gap: int | None = DEFAULT_MAX_GAP,
) -> PoseSequence:
    """Apply a per-individual predictor and assemble the output sequence.

    Interior gaps of at most ``fill_gaps`` frames are first filled linearly; then
    ``predict`` runs on each individual, and :func:`filled_sequence` keeps the
    measured joints and marks what was filled.
    """
    sequence = as_layout(sequence)
    if sequence.n_space != 2:
        raise PosekitError(f"{name}: the baselines work on 2D sequences, got {sequence.n_space}D")
    position = sequence.positions()
    observed = sequence.observed()
    out = position.copy()
    for i in range(position.shape[0]):
        pos, seen = position[i], observed[i]
        if fill_gaps > 0:
            pos, filled = fill_gaps_linear(pos, seen, fill_gaps)
            seen = seen | filled
        with np.errstate(invalid="ignore", divide="ignore"):
            predicted = np.asarray(predict(pos, seen), dtype=np.float64)
        out[i] = np.where(seen[..., None], pos, predicted)
    return filled_sequence(sequence, out, max_gap)


def filled_sequence(
    sequence: PoseSequence, position: np.ndarray, max_gap: int | None
) -> PoseSequence:
    """``sequence`` with the values of ``position`` (same shape) where it had none.

    Measured joints are passed through unchanged (their flags kept); every joint the
    baseline fills is marked imputed, with confidence ``IMPUTED_CONFIDENCE``. Nothing
    is filled where the person is absent (:func:`posekit.core.presence.keep_present` with
    ``max_gap``). The provenance entry is written by
    :func:`~posekit.stages.provenance.apply_stage`, as for every stage.

    Examples
    --------
    >>> position = np.full((3, 2, 1, 1), 1.0)
    >>> position[1] = np.nan  # the middle frame is missing
    >>> seq = PoseSequence.from_arrays(position, keypoints=["a"])
    >>> out = filled_sequence(seq, np.full((1, 3, 1, 2), 2.0), None)
    >>> out.positions()[0, :, 0, 0].tolist(), out.imputed_flags()[0, :, 0].tolist()
    ([1.0, 2.0, 1.0], [False, True, False])
    """
    observed = sequence.observed()
    position = np.where(observed[..., None], sequence.positions(), position)
    found = np.isfinite(position).all(axis=-1)
    new = found & ~observed
    position[~found] = np.nan
    filled = sequence.replace(
        position=position,
        confidence=np.where(new, IMPUTED_CONFIDENCE, sequence.confidences()),
        imputed=np.where(new, True, sequence.imputed_flags()),
    )
    return keep_present(sequence, filled, max_gap)


class ModelBaseline:
    """The stage shell of a baseline with a model file (mixed into its attrs class).

    The class names its ``method`` (the model file's, and the provenance log's) and
    says how to make its :data:`Predictor` from the loaded model (:meth:`predictor`);
    its fields include ``fill_gaps`` and ``max_gap``. The rest is here: ``check``
    loads the model up front, and a call runs :func:`run_baseline`.
    """

    method: ClassVar[str]
    fill_gaps: int
    max_gap: int | None

    def predictor(self) -> Predictor:
        """The predictor, from the model file (loaded once per file version)."""
        raise NotImplementedError

    def check(self) -> None:
        """Load the model now (a pipeline calls this before any work), so a missing,
        changed or malformed model file is reported up front."""
        self.predictor()

    def __call__(self, sequence: PoseSequence) -> PoseSequence:
        return run_baseline(
            sequence,
            self.method,
            self.predictor(),
            self.fill_gaps,
            self.max_gap,
        )


# -- Gaussian regression for any observed subset ---------------------------------------
@attrs.frozen(eq=False)
class Conditional:
    """The ridge regression of the missing coordinates on the observed ones, for one
    pattern of observed points, in coordinates centred on the observed points.

    Points are centred on the centroid of the observed points of their group (a frame
    of a window; by default one group); a group with no observed point uses the
    centroid of all observed points. ``z = x - centroid``; prediction
    ``z_missing = scale * offset + cross @ (C_oo + alpha I)^-1 @ z_observed``, with the
    regularized covariance of the observed coordinates held as its Cholesky factor (a
    pattern met once, as in a window with an occlusion, costs one factorization and
    no matrix of weights).
    """

    observed: np.ndarray  # (2P,) bool over coordinates
    factor: np.ndarray  # (n_observed, n_observed): lower Cholesky factor of C_oo + alpha I
    cross: np.ndarray  # (n_missing, n_observed): covariance of missing with observed
    offset: np.ndarray  # (n_missing,): mean_missing - weights @ mean_observed
    spread: float  # E|z_observed|^2 under the training distribution
    scale_weights: np.ndarray  # (n_observed,): the GLS scale estimate is scale_weights @ z_observed
    point_group: np.ndarray  # (P,) int: which centroid each point is centred on
    group_points: np.ndarray  # (G, P) float: each centroid's weights over the points

    @property
    def weights(self) -> np.ndarray:
        """The regression matrix ``(n_missing, n_observed)`` (computed on demand)."""
        return self.solve(self.cross)

    def solve(self, values: np.ndarray) -> np.ndarray:
        """``(C_oo + alpha I)^-1`` applied to each row of ``values`` ``(..., n_observed)``."""
        flat = np.asarray(values, np.float64).reshape(-1, self.factor.shape[0])
        solved = linalg.cho_solve((self.factor, True), flat.T, check_finite=False)
        return solved.T.reshape(np.shape(values))

    def centroids(self, points_xy: np.ndarray) -> np.ndarray:
        """Per-point centroid ``(..., P, 2)`` of points ``(..., P, 2)`` (only the
        observed points are read; others may be NaN)."""
        observed_points = self.observed[::2]
        values = np.where(observed_points[:, None], points_xy, 0.0)
        centres = np.einsum("gp,...pd->...gd", self.group_points, values)
        return centres[..., self.point_group, :]

    def scale(self, z_observed: np.ndarray, method: str = "gls") -> np.ndarray:
        """Scale (input units per model unit) of centred observed coordinates ``(..., n)``.

        ``"gls"``: the generalized least-squares fit of ``z ≈ s · mean`` under the
        (regularized) covariance, linear in ``z``; ``"spread"``: the root of the ratio
        of ``|z|^2`` to its expected value under the model.
        """
        if method == "gls":
            return z_observed @ self.scale_weights
        if method == "spread":
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.sqrt((z_observed**2).sum(axis=-1) / self.spread)
        raise ValueError(f"scale must be 'gls' or 'spread', got {method!r}")

    def predict(self, z_observed: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """Centred missing coordinates ``(..., n_missing)`` for a given scale ``(...)``."""
        return np.asarray(scale)[..., None] * self.offset + self.solve(z_observed) @ self.cross.T

    def complete(self, points_xy: np.ndarray, method: str = "gls",
                 scale: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Every point ``(..., P, 2)`` from the observed ones, and the scale used.

        ``scale`` None: estimated with ``method`` (see :meth:`scale`).
        """
        lead = points_xy.shape[:-2]
        centre = self.centroids(points_xy)
        z = (points_xy - centre).reshape(*lead, -1)
        z_obs = z[..., self.observed]
        if scale is None:
            scale = self.scale(z_obs, method)
        full = np.empty(z.shape)
        full[..., self.observed] = z_obs
        full[..., ~self.observed] = self.predict(z_obs, scale)
        return full.reshape(points_xy.shape) + centre, np.asarray(scale)


def mirror_symmetric(
    mean: np.ndarray, second: np.ndarray, permutation: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The first two moments of data pooled with its left/right mirror image.

    A population of people is left/right symmetric, so a model fitted on it should be
    too: the mirror of an input then gets the mirror of its completion.

    Parameters
    ----------
    mean, second
        Mean ``(D,)`` and second moment ``E[x x^T]`` ``(D, D)`` of coordinates
        flattened point-major, ``D / 2`` points, frame-major (module docstring).
    permutation
        The joint permutation that swaps each left/right pair, one frame's worth
        (:meth:`~posekit.core.skeleton.Skeleton.mirror_permutation`); the mirror also
        negates x.

    Returns
    -------
    tuple of numpy.ndarray
        The mean and second moment of the data and its mirror image, in equal parts.

    Examples
    --------
    >>> pair = np.array([1, 0])  # two joints, a left/right pair: (x, y) of each
    >>> mean = np.array([1.0, 2.0, 3.0, 4.0])
    >>> mean_sym, second_sym = mirror_symmetric(mean, np.outer(mean, mean), pair)
    >>> mean_sym.tolist()
    [-1.0, 3.0, 1.0, 3.0]
    """
    points = len(mean) // 2
    frames = points // len(permutation)
    point = (np.arange(frames)[:, None] * len(permutation) + permutation).reshape(-1)
    index = (2 * point[:, None] + np.arange(2)).reshape(-1)
    sign = np.tile([-1.0, 1.0], points)
    mirrored_mean = sign * mean[index]
    mirrored_second = np.outer(sign, sign) * second[np.ix_(index, index)]
    return (mean + mirrored_mean) / 2, (second + mirrored_second) / 2


def point_mask_to_coords(points: np.ndarray) -> np.ndarray:
    """``(P,)`` point mask to ``(2P,)`` coordinate mask (point-major)."""
    return np.repeat(np.asarray(points, bool), 2)


def conditional(
    mean: np.ndarray,
    cov: np.ndarray,
    points: np.ndarray,
    alpha: float,
    groups: np.ndarray | None = None,
) -> Conditional:
    """Ridge regression from a Gaussian's mean and covariance, for any observed points.

    Parameters
    ----------
    mean, cov
        ``(2P,)`` and ``(2P, 2P)``: the training data's mean and covariance.
    points
        ``(P,)`` bool: observed points (at least one).
    alpha
        Ridge penalty, in the covariance's units (the per-sample ridge ``lambda / N``).
    groups
        ``(P,)`` int: each point's group (e.g. its frame); every group is centred on
        its own observed points. None: one group.

    Notes
    -----
    Centring is a linear map ``z = (I - E W^T) x`` (``E``: each coordinate's group and
    axis, ``W``: the observed coordinates weighted ``1 / n`` per group), so the centred
    mean and covariance follow exactly from the stored ones: the ridge solution for
    any subset of inputs comes from them, without the data. Centring makes the
    covariance of the observed coordinates singular (two directions per group); the
    ridge penalty keeps the solve well posed.
    """
    points = np.asarray(points, bool)
    n_points = points.size
    if not points.any():
        raise ValueError("no observed point")
    groups = np.zeros(n_points, int) if groups is None else np.asarray(groups).reshape(-1)
    labels, group_index = np.unique(groups, return_inverse=True)
    counts = np.bincount(group_index, weights=points, minlength=len(labels))
    # Groups without an observed point are centred on all observed points (last row).
    point_group = np.where(counts[group_index] > 0, group_index, len(labels))
    group_points = np.zeros((len(labels) + 1, n_points))
    has = counts > 0
    group_points[group_index[points], np.flatnonzero(points)] = 1.0
    group_points[:-1][has] /= counts[has][:, None]
    group_points[-1, points] = 1.0 / points.sum()
    used, point_group = np.unique(point_group, return_inverse=True)
    group_points = group_points[used]
    n_groups = len(used)

    coords = point_mask_to_coords(points)
    # Centring, z = x - E W^T x: W^T (2G, 2P) averages the observed coordinates of each
    # group and axis (sparse); E (2P, 2G) copies column ``column[c]`` to coordinate c, so
    # products with E are gathers.
    column = 2 * np.repeat(point_group, 2) + np.tile([0, 1], n_points)
    w_t = np.zeros((2 * n_groups, 2 * n_points))
    for d in (0, 1):
        w_t[d::2, d::2] = group_points
    w_t = sparse.csr_array(w_t)
    mean_z = mean - (w_t @ mean)[column]
    # Centred covariance (I - E W^T) C (I - W E^T), columns of the observed coordinates
    # only: C - E S - (S^T - E M) E^T with S = W^T C (2G, 2P) and M = S W (2G, 2G).
    s_t = (w_t @ cov).T
    s_obs = s_t[coords].T
    rest = s_t - (w_t @ s_t)[column]  # S^T - E M, (2P, 2G)
    observed_column = column[coords]

    def block(rows: np.ndarray) -> np.ndarray:
        out = cov[rows][:, coords]
        out -= s_obs[column[rows]]
        out -= rest[rows][:, observed_column]
        return out

    c_oo, c_mo = block(coords), block(~coords)
    mean_o = mean_z[coords]
    spread = float(np.trace(c_oo) + mean_o @ mean_o)
    c_oo[np.diag_indices_from(c_oo)] += alpha
    factor = linalg.cholesky(c_oo, lower=True, overwrite_a=True, check_finite=False)
    inv_mean = linalg.cho_solve((factor, True), mean_o)  # (C_oo + alpha I)^-1 mean_o
    denominator = float(mean_o @ inv_mean)
    scale_weights = inv_mean / denominator if denominator > 0 else np.zeros_like(inv_mean)
    return Conditional(coords, factor, c_mo, mean_z[~coords] - c_mo @ inv_mean, spread,
                       scale_weights, point_group, group_points)


def moving_nanmean(values: np.ndarray, window: int) -> np.ndarray:
    """Centred moving mean over ``window`` frames ignoring NaN (NaN where all are).

    Examples
    --------
    >>> moving_nanmean(np.array([1.0, np.nan, 3.0, 5.0]), 3).tolist()
    [1.0, 2.0, 4.0, 4.0]
    """
    values = np.asarray(values, float)
    if window <= 1:
        return values.copy()
    ok = np.isfinite(values)
    half = window // 2
    padded = np.pad(np.where(ok, values, 0.0), (half, half))
    counts = np.pad(ok.astype(float), (half, half))
    kernel = np.ones(2 * half + 1)
    total = np.convolve(padded, kernel, mode="valid")
    count = np.convolve(counts, kernel, mode="valid")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


_MODELS: dict[tuple[str, int, int, str], tuple[dict[str, np.ndarray], dict[str, Any]]] = {}


def cached_model(path: str | Path | None, method: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """:func:`load_model`, remembered per file version (path, size and mtime).

    ``path`` None means the shipped model of ``method`` (:func:`default_model_path`).
    """
    path = Path(path) if path is not None else default_model_path(method)
    try:
        stat = path.stat()
    except OSError:
        return load_model(path, method)  # raises the explanatory error
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, method)
    if key not in _MODELS:
        _MODELS[key] = load_model(path, method)
    return _MODELS[key]


Model = TypeVar("Model")
_BUILT: dict[tuple[Callable[..., object], int, float | None], object] = {}


def built_model(
    build: Callable[[dict[str, np.ndarray], float | None], Model],
    arrays: dict[str, np.ndarray],
    penalty: float | None,
) -> Model:
    """``build(arrays, penalty)``, made once per loaded file (:func:`cached_model`)
    and penalty, so the solves a model caches are kept between calls."""
    key = (build, id(arrays), penalty)
    if key not in _BUILT:
        _BUILT[key] = build(arrays, penalty)
    return cast(Model, _BUILT[key])
