"""Where does a JUMPS model lose accuracy? Bounds measured on one split (val by default).

Each line feeds the same clips of the ``upsample`` condition through a different path
and scores the 16 added joints (added-joint AUC, EVALUATION.md's protocol):

``ridge``
    The per-frame ridge baseline: the figure to beat.
``encoder``
    ``G(E(x))`` from the 12 observed joints, no latent optimisation (one Adam step
    budget, i.e. the encoder's code as it is).
``jumps_fast``
    The stage's fast preset with the paper's encoder start (latent optimisation on the
    12 joints).
``defaults``
    The stage with posekit's defaults (fast preset, encoder started from the ridge
    completion).
``encoder_of_ridge``
    ``G(E(·))`` of the ridge completion: the encoder sees all 28 joints, 16 of them
    predicted by ridge. Tells whether a better guess of the missing joints helps.
``ceiling``
    ``G(E(truth))``: the encoder sees all 28 true joints. No inference from 12
    joints can beat this by much: it measures how faithfully ``G`` reproduces a real
    pose (the generator's fidelity), whatever the encoder and the optimisation do.

Example::

    python -m training.diagnose_jumps --model runs/jumps_cmu/best.safetensors --split val
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from training.mocap import REPO_ROOT

#: Path name -> what it does, for the printed table.
PATHS: dict[str, str] = {
    "ridge": "per-frame ridge from the 12 joints",
    "encoder": "G(E(x)) from the 12 joints, no optimisation",
    "jumps_fast": "jumps, fast preset, from the 12 joints",
    "defaults": "jumps, posekit's defaults (fast, ridge start)",
    "encoder_of_ridge": "G(E(ridge completion))",
    "ceiling": "G(E(truth)): all 28 true joints in",
}


def _paths(model: str | None) -> dict[str, Callable[[Any, Any], Any]]:
    """Path name -> ``f(given, truth) -> prediction``."""
    from posekit.registry import get_stage

    ridge = get_stage("ridge")()
    jumps = get_stage("jumps")
    encoder_only = jumps(model=model, preset="paper", starts=1, iterations=1, completion=None)
    replace_all = jumps(model=model, preset="paper", starts=1, iterations=1, completion=None,
                        keep_observed=False)
    fast = jumps(model=model, preset="fast", completion=None)
    defaults = jumps(model=model)
    return {
        "ridge": lambda given, truth: ridge(given),
        "encoder": lambda given, truth: encoder_only(given),
        "jumps_fast": lambda given, truth: fast(given),
        "defaults": lambda given, truth: defaults(given),
        "encoder_of_ridge": lambda given, truth: replace_all(ridge(given)),
        "ceiling": lambda given, truth: replace_all(truth),
    }


def diagnose(model: str | None, folder: Path, limit: int | None = None) -> dict[str, dict]:
    """Score every path of :data:`PATHS` on the ``upsample`` clips of ``folder``.

    Returns path name -> ``{"added_auc", "given_auc", "clips"}``; given joints are
    passed through for every path but ``encoder_of_ridge`` and ``ceiling``, which
    replace them by the generated ones.
    """
    from posekit.evaluation import Evaluation
    from posekit.sequence import PoseSequence

    files = sorted((folder / "upsample").glob("*.nc"))[:limit]
    if not files:
        raise FileNotFoundError(f"no clips in {folder / 'upsample'}")
    results = {}
    for name, path in _paths(model).items():
        evaluation = Evaluation()
        for file in files:
            given = PoseSequence.read_netcdf(file)
            truth = PoseSequence.read_netcdf(folder / "truth" / file.name)
            evaluation.add(file.stem, path(given, truth), truth, input=given)
        groups = evaluation.result().groups
        results[name] = {"added_auc": groups["added"]["auc"], "given_auc": groups["given"]["auc"],
                         "clips": len(files)}
        print(f"{name:17s} added AUC {groups['added']['auc']:.3f}  given AUC "
              f"{groups['given']['auc']:.3f}   {PATHS[name]}", flush=True)
    return results


def main(argv: Sequence[str] | None = None) -> dict[str, dict]:
    parser = argparse.ArgumentParser(prog="python -m training.diagnose_jumps",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="checkpoint (default: the shipped model)")
    parser.add_argument("--split", default="val", choices=["val", "test"])
    parser.add_argument("--eval", type=Path, default=REPO_ROOT / "eval",
                        help="root of training.build_eval's output")
    parser.add_argument("--limit", type=int, default=None, help="first N clips only")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    results = diagnose(args.model, args.eval / args.split, args.limit)
    if args.json is not None:
        from posekit.atomic import atomic_path

        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps({"model": args.model, "split": args.split,
                                       "paths": results}, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
