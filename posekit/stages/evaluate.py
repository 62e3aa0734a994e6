"""The ``evaluate`` stage: score the sequence against ground truth, pass it on unchanged."""

from __future__ import annotations

import math
from pathlib import Path

import attrs

from posekit.core.sequence import PoseSequence
from posekit.evaluation.scoring import DEFAULT_THRESHOLDS, Evaluation, EvaluationError, parse_joints
from posekit.plugins.hookspecs import hookimpl
from posekit.plugins.registry import Registry
from posekit.stages.provenance import note


def _joints(value: str | list[str] | None) -> tuple[str, ...] | None:
    return None if value is None else parse_joints(value)


@attrs.frozen
class Evaluate:
    """Score the sequence against a ground-truth file (``evaluate: {reference: truth/}``).

    The sequence passes through unchanged (one log entry with the headline figures is
    added); the full metrics (see :mod:`posekit.evaluation.scoring`) go to ``output``.

    Parameters
    ----------
    reference
        Ground-truth file, or a folder holding ``<name>.nc`` where ``<name>`` is the
        sequence's ``clip`` attr or the stem of its ``source_file`` attr (with or
        without all its suffixes).
    output
        JSON file for the metrics; None: only the log entry.
    given
        Joints the input gave (names, or ``"upsample"`` for the 12); None: the joints
        measured (finite, not imputed) in at least one frame of the sequence.
    thresholds
        PCKh thresholds to report (head units).

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> from posekit.stages.provenance import apply_stage
    >>> gt = np.random.default_rng(0).normal(size=(5, 2, 28, 1))
    >>> seq = PoseSequence.from_arrays(gt, skeleton="mpi_inf_3dhp_28")
    >>> path = seq.to_netcdf(pathlib.Path(tempfile.mkdtemp()) / "truth.nc")
    >>> from posekit.stages.provenance import apply_stage
    >>> out = apply_stage(Evaluate(reference=str(path)), seq)
    >>> out.log[-1]["parameters"]["auc_all"]
    1.0
    """

    reference: Path
    output: Path | None = None
    given: list[str] | str | None = attrs.field(default=None, converter=_joints)
    thresholds: tuple[float, ...] = attrs.field(default=DEFAULT_THRESHOLDS, converter=tuple)

    def check(self) -> None:
        """A pipeline calls this before any work: the reference file or folder exists."""
        if not Path(self.reference).exists():
            raise EvaluationError(f"evaluate: no reference file or folder {self.reference}")

    def _reference_path(self, sequence: PoseSequence) -> Path:
        path = Path(self.reference)
        if not path.is_dir():
            return path
        attrs_ = sequence.dataset.attrs
        source = attrs_.get("source_file")
        names = [str(attrs_["clip"])] if "clip" in attrs_ else []
        if source is not None:
            names += [Path(source).stem, Path(source).name.split(".")[0]]
        if not names:
            raise EvaluationError(
                f"evaluate: reference {path} is a folder but the sequence has no "
                "'source_file' (or 'clip') attr to match by name; give the reference file"
            )
        for name in names:
            matches = sorted(p for p in path.iterdir() if p.is_file() and p.stem == name)
            if matches:
                return matches[0]
        raise EvaluationError(
            f"evaluate: no reference named {' or '.join(map(repr, dict.fromkeys(names)))} in {path}"
        )

    def __call__(self, sequence: PoseSequence) -> PoseSequence:
        from posekit.io.api import read

        ref_path = self._reference_path(sequence)
        evaluation = Evaluation(thresholds=self.thresholds)
        evaluation.add(ref_path.stem, sequence, read(ref_path), given=self.given)
        result = evaluation.result()
        if self.output is not None:
            result.write_json(self.output)
        headline = {
            f"auc_{g}": None if math.isnan(row["auc"]) else row["auc"]
            for g, row in result.groups.items()
        }
        note(reference=str(ref_path), **headline)
        return sequence


@hookimpl
def posekit_register_stages(registry: Registry) -> None:
    """Register the evaluate stage."""
    registry.add_stage("evaluate", Evaluate)
