"""Evaluate predicted pose sequences against ground truth (the protocol of EVALUATION.md).

Errors are computed on every frame of every clip, pooled over clips, and summarized
per joint group and per joint:

- ``all``: every joint of the reference;
- ``given``: the joints the *input* observed (measured in at least one frame);
- ``added``: the others, which the method had to create;
- ``filled``: the entries (joint and frame) the input lacked: the added joints and
  the gaps of the given ones (what inpainting is judged on).

Metrics: PCKh at chosen thresholds (head units: the ground-truth head-top-to-neck
distance of the frame), AUC (mean PCKh over 0, 0.01, ..., 1.00), mean error (head
units, over predicted entries) and jitter (mean acceleration magnitude of the
prediction minus that of the ground truth, in head units per frame²).

A missing (NaN) prediction where the ground truth exists counts as wrong; a missing
ground truth excludes the entry.

Examples
--------
>>> import numpy as np
>>> from posekit.core.sequence import PoseSequence
>>> gt = np.random.default_rng(0).normal(size=(10, 2, 28, 1)) * 100
>>> ref = PoseSequence.from_arrays(gt, skeleton="mpi_inf_3dhp_28")
>>> evaluation = Evaluation()
>>> evaluation.add("clip", ref, ref, given=UPSAMPLE_JOINTS)
>>> result = evaluation.result()
>>> result.groups["added"]["auc"], result.groups["given"]["pckh@0.5"]
(1.0, 1.0)
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from posekit.core.atomic import atomic_path
from posekit.core.errors import PosekitError
from posekit.core.sequence import PoseSequence
from posekit.ops.metrics import (
    AUC_THRESHOLDS,
    accelerations,
    excess_jitter,
    head_size,
    metric_row,
    normalized_errors,
    pckh,
)

#: The 12 joints the upsampling condition gives (JUMPS paper; EVALUATION.md).
UPSAMPLE_JOINTS: tuple[str, ...] = (
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip

#: Named joint sets accepted wherever a list of given joints is expected.
JOINT_SETS: dict[str, tuple[str, ...]] = {"upsample": UPSAMPLE_JOINTS}

DEFAULT_THRESHOLDS: tuple[float, ...] = (0.1, 0.5, 1.0)
GROUPS: tuple[str, ...] = ("all", "added", "given", "filled")
HEAD_TOP, NECK = "head_top", "neck"


class EvaluationError(PosekitError):
    """Predictions and references that cannot be compared (shapes, names, files)."""


def parse_joints(text: str | Sequence[str]) -> tuple[str, ...]:
    """Joint names from a comma-separated string or a list; ``"upsample"`` names the 12.

    Examples
    --------
    >>> parse_joints("neck, head")
    ('neck', 'head')
    >>> len(parse_joints("upsample"))
    12
    """
    items = [t.strip() for t in text.split(",")] if isinstance(text, str) else list(text)
    names: list[str] = []
    for item in items:
        if item:
            names.extend(JOINT_SETS.get(item, (item,)))
    return tuple(names)


def measured(sequence: PoseSequence) -> np.ndarray:
    """``(individual, time, keypoint)``: finite and not imputed (a measured value)."""
    return sequence.observed() & ~sequence.imputed_flags()


@attrs.define
class _Clip:
    name: str
    errors: np.ndarray  # (individual, time, joint), head units
    pred_acc: np.ndarray  # (individual, time - 2, joint), head units
    gt_acc: np.ndarray
    given: np.ndarray  # (individual, joint) bool
    seen: np.ndarray  # (individual, time, joint) bool: the input had the entry

    def mask(self, group: str) -> np.ndarray:
        """``(individual, time, joint)`` entries of a group."""
        shape = self.errors.shape
        if group == "all":
            return np.ones(shape, bool)
        if group == "given":
            return np.broadcast_to(self.given[:, None, :], shape)
        if group == "added":
            return np.broadcast_to(~self.given[:, None, :], shape)
        if group == "filled":
            return ~self.seen
        raise KeyError(group)


@attrs.frozen
class EvaluationResult:
    """Pooled metrics of an evaluation, with per-clip rows and unmatched files.

    Attributes
    ----------
    thresholds
        The PCKh thresholds reported.
    keypoints
        Joint names, in the reference's order.
    groups
        ``{"all" | "added" | "given" | "filled": {metric: value}}``; metrics ``pckh@<t>``,
        ``auc``, ``mean_error``, ``jitter``, ``missing`` (share of missing
        predictions), ``count`` (entries evaluated).
    joints
        ``{joint: {metric: value}}``, the same metrics per joint.
    curves
        ``{group: [PCKh at 0, 0.01, ..., 1.00]}``.
    clips
        ``{clip: {group: {metric: value}}}``.
    missing
        ``{"pred": [...], "ref": [...]}``: names present on one side only.
    """

    thresholds: tuple[float, ...]
    keypoints: tuple[str, ...]
    groups: dict[str, dict[str, float]]
    joints: dict[str, dict[str, float]]
    curves: dict[str, list[float]]
    clips: dict[str, dict[str, dict[str, float]]]
    missing: dict[str, list[str]] = attrs.field(factory=lambda: {"pred": [], "ref": []})

    @property
    def complete(self) -> bool:
        """True when no file was missing on either side."""
        return not (self.missing["pred"] or self.missing["ref"])

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN becomes None)."""
        return _json_ready(
            {
                "thresholds": list(self.thresholds),
                "groups": self.groups,
                "joints": self.joints,
                "curves": {"thresholds": AUC_THRESHOLDS.tolist(), **self.curves},
                "clips": self.clips,
                "missing": self.missing,
            }
        )

    def write_json(self, path: str | Path) -> Path:
        """Write :meth:`to_dict` as JSON (atomically)."""
        return _write_text(path, json.dumps(self.to_dict(), indent=2) + "\n")

    def csv_rows(self) -> list[dict[str, Any]]:
        """One row per group, then one per joint: ``scope, name, <metrics>``."""
        rows = [{"scope": "group", "name": g, **m} for g, m in self.groups.items()]
        rows += [{"scope": "joint", "name": j, **m} for j, m in self.joints.items()]
        return rows

    def write_csv(self, path: str | Path) -> Path:
        """Write :meth:`csv_rows` as CSV (atomically)."""
        rows = self.csv_rows()
        buffer = io.StringIO()
        fields = list(dict.fromkeys(key for row in rows for key in row))
        writer = csv.DictWriter(buffer, fieldnames=fields, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return _write_text(path, buffer.getvalue())

    def table(self, joints: bool = True) -> str:
        """The metrics as a fixed-width text table (groups, then joints)."""
        metrics = [f"pckh@{t:g}" for t in self.thresholds] + ["auc", "mean_error", "jitter"]
        header = f"{'':16s}" + "".join(f"{m:>11s}" for m in metrics) + f"{'count':>10s}"
        lines = [header]

        def fmt(name: str, row: Mapping[str, float]) -> str:
            cells = "".join(
                f"{row[m]:11.4f}" if m in row and row[m] is not None else f"{'':>11s}"
                for m in metrics
            )
            return f"{name:16s}{cells}{int(row.get('count', 0)):10d}"

        lines += [fmt(g, m) for g, m in self.groups.items()]
        if joints:
            lines.append("")
            lines += [fmt(j, m) for j, m in self.joints.items()]
        return "\n".join(lines)


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, float | np.floating):
        return None if not math.isfinite(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _write_text(path: str | Path, text: str) -> Path:
    """Write a text file atomically (:func:`posekit.core.atomic.atomic_path`)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


@attrs.define
class Evaluation:
    """Accumulates clips, then pools them into an :class:`EvaluationResult`.

    Parameters
    ----------
    thresholds
        PCKh thresholds to report (head units).

    Examples
    --------
    >>> import numpy as np
    >>> gt = np.zeros((4, 2, 28, 1))
    >>> gt[:, 1, 7] = 1.0  # head_top one unit above the neck
    >>> ref = PoseSequence.from_arrays(gt, skeleton="mpi_inf_3dhp_28")
    >>> pred = ref.replace(position=ref.positions() + [0.3, 0.4])  # 0.5 head units off
    >>> ev = Evaluation()
    >>> ev.add("clip", pred, ref, given=[])
    >>> row = ev.result().groups["all"]
    >>> row["pckh@0.1"], row["pckh@0.5"], round(row["mean_error"], 6)
    (0.0, 1.0, 0.5)
    """

    thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS
    _clips: list[_Clip] = attrs.field(factory=list, init=False)
    _keypoints: tuple[str, ...] | None = attrs.field(default=None, init=False)
    missing: dict[str, list[str]] = attrs.field(
        factory=lambda: {"pred": [], "ref": []}, init=False
    )

    def add(
        self,
        name: str,
        pred: PoseSequence,
        ref: PoseSequence,
        *,
        given: Iterable[str] | None = None,
        input: PoseSequence | None = None,
    ) -> None:
        """Add one clip.

        Parameters
        ----------
        name
            The clip's name (reported per clip).
        pred, ref
            Prediction and ground truth: same frames and individuals; ``pred`` is
            read by the reference's joint names (a joint it lacks counts as missing).
        given
            Names of the joints the input gave. Else taken from ``input``: the joints
            it observed in at least one frame. Else from ``pred``'s ``imputed``
            flags: the joints measured (finite, not imputed) in at least one frame.
        input
            The input the prediction was made from; its missing entries form the
            ``filled`` group (else ``pred``'s imputed entries, or with ``given`` alone
            the added joints).

        Raises
        ------
        EvaluationError
            If frames or individuals disagree, or the reference lacks head_top/neck.
        """
        keypoints = tuple(ref.keypoints)
        if self._keypoints is None:
            self._keypoints = keypoints
        elif keypoints != self._keypoints:
            raise EvaluationError(f"{name}: reference joints differ from the first clip's")
        for joint in (HEAD_TOP, NECK):
            if joint not in keypoints:
                raise EvaluationError(
                    f"{name}: the reference has no {joint!r} joint, needed for the head size"
                )
        if pred.n_frames != ref.n_frames:
            raise EvaluationError(
                f"{name}: prediction has {pred.n_frames} frames, reference {ref.n_frames}"
            )
        pred_ind = _match_individuals(name, pred, ref)
        gt = ref.positions()[..., :2]
        pred_pos = _by_names(pred.positions()[pred_ind][..., :2], pred.keypoints, keypoints)
        head = head_size(gt, keypoints.index(HEAD_TOP), keypoints.index(NECK))
        errors = normalized_errors(pred_pos, gt, head)
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where(head > 0, head, np.nan)[:, 1:-1, None]
            pred_acc = accelerations(pred_pos) / scale
            gt_acc = accelerations(gt) / scale
        given_mask, seen = self._given_mask(name, keypoints, ref, pred, pred_ind, given, input)
        self._clips.append(_Clip(name, errors, pred_acc, gt_acc, given_mask, seen))

    @staticmethod
    def _given_mask(
        name: str,
        keypoints: tuple[str, ...],
        ref: PoseSequence,
        pred: PoseSequence,
        pred_ind: list[int],
        given: Iterable[str] | None,
        input: PoseSequence | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The given joints ``(individual, joint)`` and the input's entries
        ``(individual, time, joint)``."""
        n_ind, n_time = len(ref.individuals), ref.n_frames
        seen: np.ndarray | None = None
        if input is not None:
            if input.n_frames != n_time:
                raise EvaluationError(
                    f"{name}: input has {input.n_frames} frames, reference {n_time}"
                )
            ind = _match_individuals(name, input, ref)
            seen = _by_names(input.observed()[ind][..., None], input.keypoints, keypoints,
                             fill=False)[..., 0]
        elif given is None:
            seen = _by_names(measured(pred)[pred_ind][..., None], pred.keypoints, keypoints,
                             fill=False)[..., 0]
        if given is not None:
            names = set(given)
            unknown = names - set(keypoints)
            if unknown:
                raise EvaluationError(f"{name}: given joints not in the reference: {sorted(unknown)}")
            row = np.array([k in names for k in keypoints])
            given_mask = np.broadcast_to(row, (n_ind, len(keypoints))).copy()
        else:
            assert seen is not None  # without given joints, seen comes from input or pred
            given_mask = np.any(seen, axis=1)
        if seen is None:
            seen = np.broadcast_to(given_mask[:, None, :], (n_ind, n_time, len(keypoints))).copy()
        return given_mask, seen

    def add_missing(self, side: str, names: Iterable[str]) -> None:
        """Record names found only on the other side (``side`` is ``"pred"`` or ``"ref"``)."""
        self.missing[side].extend(names)

    def result(self) -> EvaluationResult:
        """Pool every clip added so far."""
        if not self._clips or self._keypoints is None:
            raise EvaluationError("nothing to evaluate: no clip was added")
        keypoints = self._keypoints

        def pooled(clips: list[_Clip], group: str) -> tuple[np.ndarray, float]:
            errs, pred_acc, gt_acc = [], [], []
            for clip in clips:
                mask = clip.mask(group)
                errs.append(clip.errors[mask])
                pred_acc.append(clip.pred_acc[mask[:, 1:-1]])
                gt_acc.append(clip.gt_acc[mask[:, 1:-1]])
            return (
                np.concatenate(errs),
                excess_jitter(np.concatenate(pred_acc), np.concatenate(gt_acc)),
            )

        def rows(clips: list[_Clip]) -> tuple[dict, dict]:
            groups, curves = {}, {}
            for group in GROUPS:
                errors, jit = pooled(clips, group)
                groups[group] = {**metric_row(errors, self.thresholds), "jitter": jit}
                curves[group] = pckh(errors, AUC_THRESHOLDS).tolist()
            return groups, curves

        groups, curves = rows(self._clips)
        joints = {}
        for j, joint in enumerate(keypoints):
            errors = np.concatenate([c.errors[..., j].ravel() for c in self._clips])
            jit = excess_jitter(
                np.concatenate([c.pred_acc[..., j].ravel() for c in self._clips]),
                np.concatenate([c.gt_acc[..., j].ravel() for c in self._clips]),
            )
            given = any(c.given[:, j].any() for c in self._clips)
            joints[joint] = {**metric_row(errors, self.thresholds), "jitter": jit,
                             "given": given}
        clips = {c.name: rows([c])[0] for c in self._clips}
        return EvaluationResult(
            thresholds=tuple(self.thresholds),
            keypoints=keypoints,
            groups=groups,
            joints=joints,
            curves=curves,
            clips=clips,
            missing={k: sorted(v) for k, v in self.missing.items()},
        )


def _match_individuals(name: str, seq: PoseSequence, ref: PoseSequence) -> list[int]:
    """Indices into ``seq``'s individuals for each of ``ref``'s (by id, or one to one)."""
    if len(seq.individuals) == 1 and len(ref.individuals) == 1:
        return [0]
    missing = [i for i in ref.individuals if i not in seq.individuals]
    if missing:
        raise EvaluationError(
            f"{name}: individuals {missing} of the reference are not in the prediction "
            f"({', '.join(seq.individuals)})"
        )
    return [seq.individuals.index(i) for i in ref.individuals]


def _by_names(
    values: np.ndarray, names: Sequence[str], wanted: Sequence[str], fill: Any = np.nan
) -> np.ndarray:
    """Reorder axis -2 of ``values`` from ``names`` to ``wanted`` (absent: ``fill``)."""
    if list(names) == list(wanted):
        return values
    out = np.full(values.shape[:-2] + (len(wanted), values.shape[-1]), fill, dtype=values.dtype)
    for j, joint in enumerate(wanted):
        if joint in names:
            out[..., j, :] = values[..., list(names).index(joint), :]
    return out
