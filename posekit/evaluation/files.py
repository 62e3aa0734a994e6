"""Evaluating files: prediction and reference files paired by name, each read with
its registered reader, then scored (:mod:`posekit.evaluation.scoring`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from posekit.evaluation.scoring import (
    DEFAULT_THRESHOLDS,
    Evaluation,
    EvaluationError,
    EvaluationResult,
)
from posekit.io.api import read, readable_suffixes


def pose_files(path: str | Path) -> dict[str, Path]:
    """A file as ``{stem: path}``, or a folder's readable pose files by stem."""
    path = Path(path)
    if path.is_dir():
        suffixes = readable_suffixes()
        return {
            p.stem: p
            for p in sorted(path.iterdir())
            if p.is_file() and p.suffix.lower() in suffixes
        }
    if path.is_file():
        return {path.stem: path}
    raise EvaluationError(f"{path}: no such file or folder")


def match_files(
    pred: str | Path, ref: str | Path, input: str | Path | None = None
) -> tuple[list[tuple[str, Path, Path, Path | None]], dict[str, list[str]]]:
    """Pair prediction and reference files by stem.

    A single prediction file with a reference folder is looked up in the folder (and
    the other way round); two files are paired whatever their names.

    Returns
    -------
    pairs
        ``(name, pred_path, ref_path, input_path or None)`` per matched clip.
    missing
        ``{"pred": [...], "ref": [...]}``: names whose prediction or reference is
        missing (an input missing for a matched clip is listed under ``"input"``).
    """
    pred, ref = Path(pred), Path(ref)
    preds, refs = pose_files(pred), pose_files(ref)
    if pred.is_file() and ref.is_file():
        preds = {pred.stem: pred}
        refs = {pred.stem: ref}
    elif pred.is_file():
        refs = {k: v for k, v in refs.items() if k == pred.stem} or refs
    elif ref.is_file():
        preds = {k: v for k, v in preds.items() if k == ref.stem} or preds
    inputs: dict[str, Path] = {}
    if input is not None:
        input = Path(input)
        inputs = pose_files(input)
        if input.is_file():
            inputs = {name: input for name in preds}
    names = sorted(set(preds) & set(refs))
    missing = {
        "pred": sorted(set(refs) - set(preds)),
        "ref": sorted(set(preds) - set(refs)),
    }
    if input is not None:
        missing["input"] = [n for n in names if n not in inputs]
    pairs = [(n, preds[n], refs[n], inputs.get(n)) for n in names]
    return pairs, missing


def evaluate_files(
    pred: str | Path,
    ref: str | Path,
    *,
    given: Sequence[str] | None = None,
    input: str | Path | None = None,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    progress: bool = False,
) -> EvaluationResult:
    """Evaluate a prediction file or folder against a reference file or folder.

    Parameters
    ----------
    pred, ref
        Files, or folders whose files are matched by stem.
    given
        Joint names the input gave (see :meth:`Evaluation.add`).
    input
        The input file or folder (matched by stem) to take the given joints from.
    thresholds
        PCKh thresholds to report.
    progress
        Show a progress bar.

    Returns
    -------
    EvaluationResult
        Pooled over every matched clip; unmatched names are in ``result.missing``.

    Raises
    ------
    EvaluationError
        If no clip matched, or an input file is missing for a matched clip.
    """
    pairs, missing = match_files(pred, ref, input)
    if missing.get("input"):
        raise EvaluationError(f"no input file for: {', '.join(missing['input'])}")
    if not pairs:
        raise EvaluationError(
            f"no prediction in {pred} matches a reference in {ref} by file name; "
            f"missing predictions: {', '.join(missing['pred']) or 'none'}"
        )
    evaluation = Evaluation(thresholds=tuple(thresholds))
    evaluation.add_missing("pred", missing["pred"])
    evaluation.add_missing("ref", missing["ref"])
    iterator: Iterable = pairs
    if progress:
        from tqdm import tqdm

        iterator = tqdm(pairs, desc="evaluate", unit="clip")
    for name, pred_path, ref_path, input_path in iterator:
        evaluation.add(
            name,
            read(pred_path),
            read(ref_path),
            given=given,
            input=read(input_path) if input_path is not None else None,
        )
    return evaluation.result()
