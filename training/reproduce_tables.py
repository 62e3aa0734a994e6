"""Reproduce the evaluation tables (EVALUATION.md; the JUMPS paper's Tables I and II):
every method on every input condition of a split, scored against the ground truth.

For each method and condition, every clip of ``<eval>/<split>/<condition>/`` goes
through the method's stage; the outputs are scored against ``<eval>/<split>/truth/``
with :mod:`posekit.evaluation.scoring`; the "given" joints are those the input observed (the 12
of the upsampling layout; in ``dropout`` all 28, so nothing is "added"). Reported per
method and condition: PCKh@0.1/0.5/1.0, AUC and mean error for all, added and given
joints, AUC of the entries the input lacked ("filled": added joints and gaps),
jitter, and the speed (input frames per second: all frames over the summed
wall time of the stage calls, one process, CPU count named).

A method is a registered stage and its parameters (:data:`METHODS`); JUMPS joins the
table by adding its line there. Methods at the paper's inference settings are slow on a
CPU (about 2 frames/s on 2 cores): they run on a subset of clips spread over the split
(``--paper-frames``, in the paper's two conditions), with the fast preset scored on the
same clips beside them. ``--results-md docs/results.md`` writes the results page and its
plots (:mod:`training.results_page`); the default run takes well under an hour on a
2-core CPU. Never tune on ``test``: pick hyper-parameters on
``val`` (``training.fit_baselines`` does, for the baselines).

Examples::

    python -m training.reproduce_tables --out results/test --results-md docs/results.md
    python -m training.reproduce_tables --split val --methods ridge,jumps_fast --limit 10
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from training.mocap import REPO_ROOT
from training.results_page import format_score

#: Method name -> (stage name, parameters).
METHODS: dict[str, tuple[str, dict[str, Any]]] = {
    # The paper's inference (encoder start from the measured joints) and its ablations.
    "jumps": ("jumps", {"preset": "paper", "completion": None}),
    "jumps_no_procrustes": ("jumps", {"preset": "paper", "completion": None, "procrustes": False}),
    "jumps_no_overlap": ("jumps", {"preset": "paper", "completion": None, "overlap": 0.0}),
    "jumps_no_encoder": ("jumps", {"preset": "paper", "completion": None, "encoder_init": False}),
    # The stage's defaults: fast preset, encoder started from the window ridge completion.
    "jumps_fast": ("jumps", {"preset": "fast"}),
    "jumps_fast_encoder_start": ("jumps", {"preset": "fast", "completion": None}),
    "mean_pose": ("mean_pose", {}),
    "knn": ("knn", {}),
    "ridge": ("ridge", {}),
    "ridge_window": ("ridge_window", {}),
    # EVALUATION.md's window ridge: gaps filled by linear interpolation first.
    "ridge_window_linear_gaps": ("ridge_window", {"fill_gaps": 30}),
    "interpolate": ("interpolate", {}),
}
CONDITIONS = ("upsample", "hpe", "dropout")
#: Frames of the clip subset the paper-settings methods run on by default: at about
#: 2 frames/s on 2 CPU cores, the whole test split (13,570 frames) would take hours
#: per method and condition.
PAPER_FRAMES = 300
#: The conditions of the paper's tables; the subset runs skip the others.
PAPER_CONDITIONS = ("upsample", "hpe")
#: EVALUATION.md's added-joint AUC of the baselines on CMU test (upsample, hpe).
REFERENCE_ADDED_AUC: dict[str, tuple[float, float]] = {
    "mean_pose": (0.17, 0.17),
    "knn": (0.52, 0.49),
    "ridge": (0.70, 0.65),
    "ridge_window_linear_gaps": (0.70, 0.66),
}


def make_stage(method: str, overrides: dict[str, Any] | None = None) -> Callable:
    """The stage object of a method of :data:`METHODS` (parameters overridable)."""
    from posekit.plugins.registry import get_stage

    stage_name, parameters = METHODS[method]
    return get_stage(stage_name)(**{**parameters, **(overrides or {})})


def spread_clips(frames: dict[str, int], budget: int) -> list[str]:
    """Clips spread evenly over the sorted list, as few as give ``budget`` frames.

    Examples
    --------
    >>> spread_clips({"a": 100, "b": 50, "c": 100, "d": 10}, 150)
    ['a', 'c', 'd']
    """
    names = sorted(frames)
    for count in range(1, len(names) + 1):
        chosen = sorted({names[int(i)] for i in np.linspace(0, len(names) - 1, count).round()})
        if sum(frames[n] for n in chosen) >= budget:
            return chosen
    return names


def run_condition(
    stage: Callable,
    inputs: Path,
    truth: Path,
    *,
    out: Path | None = None,
    limit: int | None = None,
    clips: Sequence[str] | None = None,
    progress: bool = False,
) -> tuple[Any, dict[str, float]]:
    """Run a stage on every clip of a condition folder and score it.

    ``clips`` (names without suffix) restricts the run to those clips; ``limit`` to
    the first N.

    Returns
    -------
    result
        The :class:`~posekit.evaluation.scoring.EvaluationResult`.
    timing
        ``frames``, ``seconds`` (sum over clips) and ``fps`` (frames over seconds).
    """
    from posekit.core.sequence import PoseSequence
    from posekit.evaluation.scoring import Evaluation

    files = sorted(inputs.glob("*.nc"))
    if clips is not None:
        files = [f for f in files if f.stem in set(clips)]
    files = files[:limit]
    if not files:
        raise FileNotFoundError(f"no clips in {inputs}")
    evaluation = Evaluation()
    frames, seconds = 0, 0.0
    iterator: Any = files
    if progress:
        from tqdm import tqdm

        iterator = tqdm(files, desc=inputs.name, unit="clip", leave=False)
    for path in iterator:
        given = PoseSequence.read_netcdf(path)
        reference = truth / path.name
        if not reference.is_file():
            evaluation.add_missing("ref", [path.stem])
            continue
        started = time.perf_counter()
        predicted = stage(given)
        seconds += time.perf_counter() - started
        frames += given.n_frames
        if out is not None:
            predicted.to_netcdf(out / path.name)
        evaluation.add(path.stem, predicted, PoseSequence.read_netcdf(reference), input=given)
    return evaluation.result(), {
        "frames": frames,
        "seconds": round(seconds, 3),
        "fps": frames / seconds if seconds > 0 else float("nan"),
    }


def format_table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table: one row per method and condition."""
    head = ("| method | condition | added AUC | added PCKh@0.1 | @0.5 | @1.0 | all AUC | "
            "given AUC | filled AUC | added err | jitter | fps |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for row in rows:
        groups = row["groups"]

        def cell(group: str, key: str, groups: dict[str, Any] = groups) -> str:
            return format_score(groups[group].get(key))

        lines.append(
            f"| {row['method']}{' (subset)' if row.get('subset') else ''} | {row['condition']} | "
            f"{cell('added', 'auc')} | "
            f"{cell('added', 'pckh@0.1')} | {cell('added', 'pckh@0.5')} | "
            f"{cell('added', 'pckh@1')} | {cell('all', 'auc')} | {cell('given', 'auc')} | "
            f"{cell('filled', 'auc')} | "
            f"{cell('added', 'mean_error')} | {cell('all', 'jitter')} | {row['fps']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(prog="python -m training.reproduce_tables",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="test", choices=["val", "test"])
    parser.add_argument("--methods", default=",".join(m for m in METHODS if m != "interpolate"),
                        help=f"comma-separated, from: {', '.join(METHODS)}")
    parser.add_argument("--conditions", default=",".join(CONDITIONS),
                        help=f"comma-separated, from: {', '.join(CONDITIONS)}")
    parser.add_argument("--eval", type=Path, default=REPO_ROOT / "eval",
                        help="root of training.build_eval's output")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for results.json, table.md and per-run metrics")
    parser.add_argument("--results-md", type=Path, default=None,
                        help="also write the results page (e.g. docs/results.md) and its plots")
    parser.add_argument("--save-predictions", action="store_true",
                        help="also write every prediction under OUT/<method>/<condition>/")
    parser.add_argument("--limit", type=int, default=None, help="first N clips only (smoke runs)")
    parser.add_argument("--paper-frames", type=int, default=PAPER_FRAMES,
                        help="methods at the paper's settings run on clips spread over the "
                             "split that add up to this many frames (0: every clip); the fast "
                             "preset is scored on the same clips beside them")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="METHOD.PARAM=VALUE", help="override a stage parameter (JSON value)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    overrides: dict[str, dict[str, Any]] = {}
    for item in args.overrides:
        key, _, value = item.partition("=")
        method, _, param = key.partition(".")
        overrides.setdefault(method, {})[param] = json.loads(value)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        parser.error(f"unknown methods {unknown}; known: {', '.join(METHODS)}")
    conditions = [c.strip() for c in args.conditions.split(",") if c.strip()]
    root = args.eval / args.split
    subset = None
    if args.paper_frames and any(_is_paper(m) for m in methods):
        manifest = json.loads((root / "manifest.json").read_text())
        subset = spread_clips({c: v["frames"] for c, v in manifest["clips"].items()},
                              args.paper_frames)
    runs = [(m, None) for m in methods if not (subset and _is_paper(m))]
    if subset:
        runs += [(m, subset) for m in methods if _is_paper(m)]
        if "jumps_fast" in methods:
            runs.append(("jumps_fast", subset))
    rows = []
    for method, clips in runs:
        stage = make_stage(method, overrides.get(method))
        for condition in conditions:
            if clips is not None and condition not in PAPER_CONDITIONS:
                continue
            save = (args.out / method / condition) if args.save_predictions and args.out else None
            result, timing = run_condition(
                stage, root / condition, root / "truth", out=save, limit=args.limit,
                clips=clips, progress=not args.quiet,
            )
            scores = result.to_dict()
            row = {"method": method, "condition": condition, "split": args.split,
                   "subset": clips is not None,
                   "parameters": {**METHODS[method][1], **overrides.get(method, {})},
                   "clips": len(result.clips), **timing,
                   "groups": scores["groups"], "joints": scores["joints"],
                   "curves": scores["curves"]}
            rows.append(row)
            added = row["groups"]["added"]["auc"]
            reference = REFERENCE_ADDED_AUC.get(method)
            ref_text = ""
            if reference and condition in ("upsample", "hpe"):
                ref_text = f" (EVALUATION.md: {reference[0 if condition == 'upsample' else 1]:.2f})"
            if not args.quiet:
                print(f"{method:13s} {condition:9s} added AUC {added if added is not None else float('nan'):.3f}"
                      f"{ref_text}  all AUC {row['groups']['all']['auc']:.3f}  "
                      f"{timing['fps']:.0f} frames/s  ({row['clips']} clips)", flush=True)
            if args.out is not None:
                suffix = "-subset" if clips is not None else ""
                result.write_json(args.out / f"{method}-{condition}{suffix}.json")
    table = format_table(rows)
    print(table)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores"
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "table.md").write_text(
            f"Split {args.split}; speed on {machine}, one process.\n\n{table}\n")
        (args.out / "results.json").write_text(json.dumps(
            {"machine": machine, "rows": rows}, indent=2, default=float) + "\n")
    if args.results_md is not None:
        from training.results_page import write_results_page

        command = "python -m training.reproduce_tables " + " ".join(
            argv if argv is not None else sys.argv[1:])
        write_results_page(rows, args.results_md, machine=machine, command=command)
    return rows


def _is_paper(method: str) -> bool:
    """Whether a method runs at the paper's (slow) inference settings."""
    return METHODS[method][1].get("preset") == "paper"


if __name__ == "__main__":
    main()
