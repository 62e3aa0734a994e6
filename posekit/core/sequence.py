"""PoseSequence: pose tracks of one or more individuals as an xarray Dataset.

The dataset follows movement's ``poses`` layout so it can be passed both ways:

- ``position``: float, dims ``(time, space, keypoint, individual)``; NaN is missing;
- ``confidence``: float, dims ``(time, keypoint, individual)``; NaN is unknown;
- ``imputed``: bool, dims ``(time, keypoint, individual)``: True where a stage created
  or replaced the value (posekit's addition); a created joint's confidence is
  :data:`IMPUTED_CONFIDENCE`;
- attrs: ``skeleton``, ``fps``, ``time_unit``, ``source_software``, ``source_file``,
  ``ds_type`` and the provenance ``log`` (a JSON list of stage, parameters, version,
  time).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from posekit.core.atomic import atomic_path
from posekit.core.catalogue import builtin_skeleton
from posekit.core.errors import PoseFileError, PoseSequenceError
from posekit.core.skeleton import HUB_SKELETON, Skeleton, joint_mapping

POSITION_DIMS = ("time", "space", "keypoint", "individual")
SCALAR_DIMS = ("time", "keypoint", "individual")
#: movement's dim names before 0.17 (``keypoints``, ``individuals``), which files may
#: have and :meth:`PoseSequence.to_netcdf` writes when asked (``legacy_dims``).
LEGACY_DIMS = {"keypoint": "keypoints", "individual": "individuals"}
#: Confidence of a joint a stage generated (where it was missing): 1, so that
#: confidence filters keep it (movement's ``filter_by_confidence`` drops NaN and low
#: confidence); ``imputed`` is what tells generated joints from measured ones.
IMPUTED_CONFIDENCE = 1.0


class PoseSequence:
    """Pose tracks of one or more individuals, with confidence and imputation flags.

    Build one with :meth:`from_arrays` or :meth:`read_netcdf`; the underlying
    :class:`xarray.Dataset` is :attr:`dataset`. PoseSequence is immutable in use:
    every operation returns a new one.

    Parameters
    ----------
    dataset
        A dataset in the layout of the module docstring. ``imputed`` is added (all
        False) and ``log`` (empty) if absent, so movement's own files are accepted.

    Notes
    -----
    NaN in ``position`` marks a missing joint. A joint is *observed* when all its
    coordinates are finite; stages treat everything else as missing.

    Examples
    --------
    >>> import numpy as np
    >>> seq = PoseSequence.from_arrays(np.zeros((5, 2, 17, 1)), skeleton="coco_17", fps=30)
    >>> seq.n_frames, seq.n_keypoints, seq.individuals
    (5, 17, ['id_0'])
    """

    __slots__ = ("dataset",)

    def __init__(self, dataset: xr.Dataset) -> None:
        self.dataset = _validated(dataset)

    def __repr__(self) -> str:
        return (
            f"PoseSequence(skeleton={self.skeleton!r}, frames={self.n_frames}, "
            f"keypoints={self.n_keypoints}, individuals={self.individuals}, "
            f"space={self.n_space}D, fps={self.fps})"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PoseSequence) and self.dataset.identical(other.dataset)

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def from_arrays(
        cls,
        position: np.ndarray,
        confidence: np.ndarray | None = None,
        *,
        skeleton: Skeleton | str | None = None,
        keypoints: Sequence[str] | None = None,
        individuals: Sequence[str] | None = None,
        fps: float | None = None,
        imputed: np.ndarray | None = None,
        source_software: str = "posekit",
        source_file: str | None = None,
    ) -> PoseSequence:
        """Build a PoseSequence from numpy arrays in movement's axis order.

        Parameters
        ----------
        position
            ``(time, space, keypoint, individual)``, space of size 2 or 3.
        confidence
            ``(time, keypoint, individual)``; default 1 where the position is
            finite and NaN elsewhere.
        skeleton
            The skeleton (its name becomes the ``skeleton`` attr), or its name. A name
            gives the keypoint names only for posekit's own skeletons
            (:mod:`posekit.core.catalogue`); pass a plugin's skeleton as a
            :class:`~posekit.core.skeleton.Skeleton` (the data model never asks the
            plugin registry).
        keypoints
            Keypoint names; default the skeleton's joint names.
        individuals
            Individual ids; default ``id_0, id_1, …``.
        fps
            Frames per second; when given, ``time`` is in seconds, else in frames.
        imputed
            ``(time, keypoint, individual)`` bool; default all False.
        source_software, source_file
            Provenance attributes.

        Raises
        ------
        PoseSequenceError
            If shapes, names or dtypes disagree.
        """
        position = np.asarray(position, dtype=np.float64)
        if position.ndim != 4 or position.shape[1] not in (2, 3):
            raise PoseSequenceError(
                "position must have shape (time, space, keypoint, individual) with "
                f"space 2 or 3, got {position.shape}"
            )
        n_time, n_space, n_kp, n_ind = position.shape
        if keypoints is None:
            if skeleton is None:
                raise PoseSequenceError("give keypoints names or a skeleton")
            keypoints = _skeleton(skeleton).joint_names
        if isinstance(skeleton, Skeleton):
            skeleton = skeleton.name
        keypoints = list(keypoints)
        if len(keypoints) != n_kp:
            raise PoseSequenceError(
                f"{len(keypoints)} keypoint names for {n_kp} keypoints in position"
            )
        individuals = (
            [f"id_{i}" for i in range(n_ind)] if individuals is None else list(individuals)
        )
        if len(individuals) != n_ind:
            raise PoseSequenceError(f"{len(individuals)} individual ids for {n_ind} individuals")
        observed = np.isfinite(position).all(axis=1)
        if confidence is None:
            confidence = np.where(observed, 1.0, np.nan)
        if imputed is None:
            imputed = np.zeros((n_time, n_kp, n_ind), dtype=bool)
        time = np.arange(n_time, dtype=np.float64)
        attrs: dict[str, Any] = {
            "ds_type": "poses",
            "source_software": source_software,
            "time_unit": "frames",
            "log": "[]",
        }
        if fps is not None:
            time = time / float(fps)
            attrs.update(fps=float(fps), time_unit="seconds")
        if skeleton is not None:
            attrs["skeleton"] = skeleton
        if source_file is not None:
            attrs["source_file"] = str(source_file)
        dataset = xr.Dataset(
            {
                "position": (POSITION_DIMS, position),
                "confidence": (SCALAR_DIMS, np.asarray(confidence, dtype=np.float64)),
                "imputed": (SCALAR_DIMS, np.asarray(imputed, dtype=bool)),
            },
            coords={
                "time": time,
                "space": ["x", "y", "z"][:n_space],
                "keypoint": keypoints,
                "individual": individuals,
            },
            attrs=attrs,
        )
        return cls(dataset)

    # -- properties -----------------------------------------------------------------
    @property
    def skeleton(self) -> str | None:
        """Name of the skeleton, or None when unknown (e.g. a movement file)."""
        return self.dataset.attrs.get("skeleton")

    @property
    def fps(self) -> float | None:
        """Frames per second, or None when unknown."""
        fps = self.dataset.attrs.get("fps")
        return None if fps is None else float(fps)

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return self.dataset.sizes["time"]

    @property
    def n_keypoints(self) -> int:
        """Number of keypoints."""
        return self.dataset.sizes["keypoint"]

    @property
    def n_space(self) -> int:
        """2 or 3."""
        return self.dataset.sizes["space"]

    @property
    def keypoints(self) -> list[str]:
        """Keypoint names in order."""
        return [str(k) for k in self.dataset["keypoint"].values]

    @property
    def individuals(self) -> list[str]:
        """Individual ids in order."""
        return [str(i) for i in self.dataset["individual"].values]

    @property
    def log(self) -> list[dict[str, Any]]:
        """The provenance log: one entry per stage that produced this sequence."""
        return json.loads(self.dataset.attrs.get("log", "[]"))

    def positions(self) -> np.ndarray:
        """Positions as ``(individual, time, keypoint, space)``, the order models use."""
        return self.dataset["position"].transpose("individual", "time", "keypoint", "space").values

    def confidences(self) -> np.ndarray:
        """Confidences as ``(individual, time, keypoint)``."""
        return self.dataset["confidence"].transpose("individual", "time", "keypoint").values

    def imputed_flags(self) -> np.ndarray:
        """Imputed flags as ``(individual, time, keypoint)``."""
        return self.dataset["imputed"].transpose("individual", "time", "keypoint").values

    def observed(self) -> np.ndarray:
        """``(individual, time, keypoint)``: True where every coordinate is finite."""
        return np.isfinite(self.positions()).all(axis=-1)

    # -- derivation -----------------------------------------------------------------
    def replace(
        self,
        *,
        position: np.ndarray | None = None,
        confidence: np.ndarray | None = None,
        imputed: np.ndarray | None = None,
    ) -> PoseSequence:
        """A copy with new values, given in the ``(individual, time, keypoint[, space])``
        order of :meth:`positions`, keeping coords and attrs."""
        dataset = self.dataset.copy()
        if position is not None:
            dataset["position"] = (
                ("individual", "time", "keypoint", "space"),
                np.asarray(position, dtype=np.float64),
            )
        if confidence is not None:
            dataset["confidence"] = (
                ("individual", "time", "keypoint"),
                np.asarray(confidence, dtype=np.float64),
            )
        if imputed is not None:
            dataset["imputed"] = (("individual", "time", "keypoint"), np.asarray(imputed, bool))
        dataset["position"] = dataset["position"].transpose(*POSITION_DIMS)
        dataset["confidence"] = dataset["confidence"].transpose(*SCALAR_DIMS)
        dataset["imputed"] = dataset["imputed"].transpose(*SCALAR_DIMS)
        return PoseSequence(dataset)

    def with_attrs(self, **attrs: Any) -> PoseSequence:
        """A copy with dataset attrs set (a value of None removes the attr)."""
        dataset = self.dataset.copy()
        for key, value in attrs.items():
            if value is None:
                dataset.attrs.pop(key, None)
            else:
                dataset.attrs[key] = value
        return PoseSequence(dataset)

    def with_log(self, stage: str, parameters: Mapping[str, Any]) -> PoseSequence:
        """A copy with one provenance entry appended to ``log``.

        Examples
        --------
        >>> seq = PoseSequence.from_arrays(np.zeros((2, 2, 17, 1)), skeleton="coco_17")
        >>> seq.with_log("select", {"individuals": ["id_0"]}).log[0]["stage"]
        'select'
        """
        from posekit import __version__

        entry = {
            "stage": stage,
            "parameters": dict(parameters),
            "version": __version__,
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        return self.with_attrs(log=json.dumps([*self.log, entry], default=str))

    def select(
        self,
        *,
        keypoints: Sequence[str] | None = None,
        individuals: Sequence[str] | None = None,
        frames: slice | None = None,
    ) -> PoseSequence:
        """Select keypoints by name, individuals by id and a range of frames.

        Selecting keypoints drops the ``skeleton`` attr, since the result no longer
        has that layout.

        Examples
        --------
        >>> seq = PoseSequence.from_arrays(np.zeros((10, 2, 17, 2)), skeleton="coco_17")
        >>> part = seq.select(keypoints=["left_hip", "right_hip"], frames=slice(2, 5))
        >>> part.n_keypoints, part.n_frames, part.skeleton
        (2, 3, None)
        """
        dataset = self.dataset
        if frames is not None:  # first: a slice is a view, so less is copied below
            dataset = dataset.isel(time=frames)
        if keypoints is not None:
            missing = [k for k in keypoints if k not in self.keypoints]
            if missing:
                raise PoseSequenceError(
                    f"no keypoints {missing}; the sequence has {', '.join(self.keypoints)}"
                )
            dataset = dataset.sel(keypoint=list(keypoints))
            if list(keypoints) != self.keypoints:
                dataset.attrs.pop("skeleton", None)
        if individuals is not None:
            missing = [i for i in individuals if i not in self.individuals]
            if missing:
                raise PoseSequenceError(
                    f"no individuals {missing}; the sequence has {', '.join(self.individuals)}"
                )
            dataset = dataset.sel(individual=list(individuals))
        return PoseSequence(dataset)

    def remap(self, to: Skeleton | str, *, source: Skeleton | None = None) -> PoseSequence:
        """Express the sequence in another skeleton's layout.

        Each target joint is a weighted sum of source joints, as the skeleton files
        say. Target joints without a source are NaN (missing); the confidence of a
        combined joint is the minimum of its sources'; it is imputed if any source is.
        No provenance entry is added: the ``remap`` stage's is written by
        :func:`posekit.stages.provenance.apply_stage`.

        Parameters
        ----------
        to
            The target skeleton, or the name of one of posekit's own skeletons.
        source
            The sequence's skeleton; default the built-in skeleton its ``skeleton``
            attr names (give it for a plugin's skeleton).

        Examples
        --------
        >>> seq = PoseSequence.from_arrays(np.ones((3, 2, 17, 1)), skeleton="coco_17")
        >>> out = seq.remap("mpi_inf_3dhp_28")
        >>> out.n_keypoints, int(out.observed().sum())
        (28, 36)
        """
        if source is None:
            if self.skeleton is None:
                raise PoseSequenceError(
                    "the sequence has no 'skeleton' attr; set it (reader parameter "
                    "'skeleton' or PoseSequence.with_attrs(skeleton=...)) before remapping"
                )
            source = _skeleton(self.skeleton)
        if self.keypoints != list(source.joint_names):
            raise PoseSequenceError(
                f"keypoints do not match skeleton {source.name!r}: expected "
                f"{', '.join(source.joint_names)}"
            )
        target = _skeleton(to)
        mapping = joint_mapping(source, target, hub=builtin_skeleton(HUB_SKELETON))
        position, confidence, imputed = self.positions(), self.confidences(), self.imputed_flags()
        n_ind, n_time, _, n_space = position.shape
        new_position = np.full((n_ind, n_time, target.n_joints, n_space), np.nan)
        new_confidence = np.full((n_ind, n_time, target.n_joints), np.nan)
        new_imputed = np.zeros((n_ind, n_time, target.n_joints), dtype=bool)
        for joint, terms in enumerate(mapping.terms):
            if not terms:
                continue
            sources = [s for s, _ in terms]
            weights = np.array([w for _, w in terms])
            new_position[:, :, joint] = np.einsum("itks,k->its", position[:, :, sources], weights)
            new_confidence[:, :, joint] = confidence[:, :, sources].min(axis=-1)
            new_imputed[:, :, joint] = imputed[:, :, sources].any(axis=-1)
        dataset = xr.Dataset(
            {
                "position": (("individual", "time", "keypoint", "space"), new_position),
                "confidence": (("individual", "time", "keypoint"), new_confidence),
                "imputed": (("individual", "time", "keypoint"), new_imputed),
            },
            coords={
                "time": self.dataset["time"].values,
                "space": self.dataset["space"].values,
                "keypoint": list(target.joint_names),
                "individual": self.dataset["individual"].values,
            },
            attrs={**self.dataset.attrs, "skeleton": target.name},
        ).transpose(*POSITION_DIMS)
        return PoseSequence(dataset)

    # -- files ----------------------------------------------------------------------
    def to_netcdf(self, path: str | Path, *, legacy_dims: bool = False) -> Path:
        """Write to a netCDF file atomically (a temporary file, then a rename).

        The file is a movement poses dataset with movement's current dim names
        (``keypoint``, ``individual``, movement >= 0.17); ``legacy_dims=True`` writes
        the plural names of movement <= 0.16 (``keypoints``, ``individuals``).
        :meth:`read_netcdf` reads both spellings.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> seq = PoseSequence.from_arrays(np.zeros((2, 2, 17, 1)), skeleton="coco_17")
        >>> path = seq.to_netcdf(pathlib.Path(tempfile.mkdtemp()) / "a.nc")
        >>> PoseSequence.read_netcdf(path) == seq
        True
        """
        dataset = self.dataset.rename(LEGACY_DIMS) if legacy_dims else self.dataset
        with atomic_path(path) as tmp:
            dataset.to_netcdf(tmp, engine="netcdf4")
        return Path(path)

    @classmethod
    def read_netcdf(cls, path: str | Path) -> PoseSequence:
        """Read a posekit or movement netCDF file.

        Raises
        ------
        PoseFileError
            If the file cannot be opened or does not hold a pose dataset. (The
            ``netcdf`` reader also applies the value rules of :mod:`posekit.io._values`.)
        """
        path = Path(path)
        try:
            with xr.open_dataset(path, engine="netcdf4") as opened:
                dataset = opened.load()
        except (OSError, ValueError, RuntimeError, KeyError, TypeError) as err:
            # RuntimeError: the netCDF/HDF5 library on a corrupt file ("NetCDF: HDF error")
            raise PoseFileError(path, f"cannot read as netCDF: {err}") from None
        plural = {file: ours for ours, file in LEGACY_DIMS.items()}
        dataset = dataset.rename({k: v for k, v in plural.items() if k in dataset.dims})
        for name in ("time", "space", "keypoint", "individual"):
            if name in dataset.coords and dataset[name].dtype == object:
                dataset[name] = dataset[name].astype(str)
        try:
            return cls(dataset)
        except (PoseSequenceError, KeyError, TypeError, ValueError) as err:
            raise PoseFileError(path, f"not a pose dataset: {err}") from None


def _skeleton(skeleton: Skeleton | str) -> Skeleton:
    """A Skeleton as given, or posekit's own skeleton of that name."""
    if isinstance(skeleton, Skeleton):
        return skeleton
    return builtin_skeleton(skeleton)


def _validated(dataset: xr.Dataset) -> xr.Dataset:
    """Check the layout and fill posekit's own fields (``imputed``, ``log``) if absent."""
    if "position" not in dataset:
        raise PoseSequenceError("the dataset has no 'position' variable")
    position = dataset["position"]
    if set(position.dims) != set(POSITION_DIMS):
        raise PoseSequenceError(f"'position' must have dims {POSITION_DIMS}, got {position.dims}")
    if not np.issubdtype(position.dtype, np.floating):
        raise PoseSequenceError(f"'position' must be floating point, got {position.dtype}")
    space = [str(s) for s in dataset["space"].values]
    if space not in (["x", "y"], ["x", "y", "z"]):
        raise PoseSequenceError(f"'space' must be ['x', 'y'] or ['x', 'y', 'z'], got {space}")
    dataset = dataset.copy()
    dataset["position"] = position.transpose(*POSITION_DIMS)
    if "confidence" not in dataset:
        observed = xr.ufuncs.isfinite(dataset["position"]).all("space")
        dataset["confidence"] = xr.where(observed, 1.0, np.nan)
    if "imputed" not in dataset:
        dataset["imputed"] = xr.zeros_like(dataset["confidence"], dtype=bool)
    for name in ("confidence", "imputed"):
        if set(dataset[name].dims) != set(SCALAR_DIMS):
            raise PoseSequenceError(f"'{name}' must have dims {SCALAR_DIMS}, got {dataset[name].dims}")
        dataset[name] = dataset[name].transpose(*SCALAR_DIMS)
    if dataset["imputed"].dtype != bool:
        dataset["imputed"] = dataset["imputed"].astype(bool)
    if len(set(map(str, dataset["keypoint"].values))) != dataset.sizes["keypoint"]:
        raise PoseSequenceError("keypoint names must be unique")
    dataset.attrs.setdefault("log", "[]")
    dataset.attrs.setdefault("ds_type", "poses")
    return dataset
