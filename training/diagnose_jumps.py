"""Where does a JUMPS model lose accuracy? Bounds measured on one split (val by default).

Each line feeds the same clips of one condition (``upsample`` by default, or ``hpe``)
through a different path and scores the 16 added joints (added-joint AUC,
EVALUATION.md's protocol), overall and per joint:

``ridge``
    The per-frame ridge baseline.
``ridge_window``
    The window ridge baseline: the figure to beat.
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
``pca_K`` (with ``--windows``)
    The linear reference for the ceiling: every half-overlapping 24-frame window of the
    truth, normalized as the training windows are, projected on the first ``K``
    principal components of the training windows and reconstructed (overlaps
    averaged). ``K`` is the model's latent size and twice it: a generator that keeps
    less of a window than a linear code of its size is under-trained or mis-designed.

Example::

    python -m training.diagnose_jumps --model runs/jumps_cmu/best.safetensors --split val \\
        --windows cache/windows-train-fit-103e62c9add0.npz
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from training.linear_code import LinearCode
from training.mocap import REPO_ROOT

#: Path name -> what it does, for the printed table.
PATHS: dict[str, str] = {
    "ridge": "per-frame ridge from the 12 joints",
    "ridge_window": "window ridge from the 12 joints",
    "encoder": "G(E(x)) from the 12 joints, no optimisation",
    "jumps_fast": "jumps, fast preset, from the 12 joints",
    "defaults": "jumps, posekit's defaults (fast, ridge start)",
    "encoder_of_ridge": "G(E(ridge completion))",
    "ceiling": "G(E(truth)): all 28 true joints in",
}


def _paths(model: str | None) -> dict[str, Callable[[Any, Any], Any]]:
    """Path name -> ``f(given, truth) -> prediction``."""
    from posekit.plugins.registry import get_stage

    ridge = get_stage("ridge")()
    ridge_window = get_stage("ridge_window")()
    jumps = get_stage("jumps")
    encoder_only = jumps(model=model, preset="paper", starts=1, iterations=1, completion=None)
    replace_all = jumps(model=model, preset="paper", starts=1, iterations=1, completion=None,
                        keep_observed=False)
    fast = jumps(model=model, preset="fast", completion=None)
    defaults = jumps(model=model)
    return {
        "ridge": lambda given, truth: ridge(given),
        "ridge_window": lambda given, truth: ridge_window(given),
        "encoder": lambda given, truth: encoder_only(given),
        "jumps_fast": lambda given, truth: fast(given),
        "defaults": lambda given, truth: defaults(given),
        "encoder_of_ridge": lambda given, truth: replace_all(ridge(given)),
        "ceiling": lambda given, truth: replace_all(truth),
    }


def linear_path(code: LinearCode, window: int = 24) -> Callable[[Any, Any], Any]:
    """``f(given, truth)``: the truth's half-overlapping windows through ``code``, as a
    sequence (every joint replaced; overlaps averaged)."""
    from posekit.jumps.normalize import denormalize_windows, normalize_windows
    from training.build_windows import cut_windows, window_starts

    def reconstruct(given, truth):
        positions = truth.positions()  # (I, T, 28, 2)
        n_frames = positions.shape[1]
        starts = window_starts(n_frames, window, stride=window // 2)
        normalized, center, scale = normalize_windows(cut_windows(positions, starts, window))
        coded = code.reconstruct(normalized.reshape(-1, *normalized.shape[-3:]))
        rebuilt = denormalize_windows(coded.reshape(normalized.shape), center, scale)
        frames = (starts[:, None] + np.arange(window)).ravel()  # padding frames fall past T
        inside = frames < n_frames
        out = np.zeros(positions.shape)
        counts = np.zeros(n_frames)
        per_frame = rebuilt.reshape(len(out), -1, *positions.shape[2:])  # (I, W * window, J, 2)
        np.add.at(out, (slice(None), frames[inside]), per_frame[:, inside])
        np.add.at(counts, frames[inside], 1.0)
        mean = out / counts[:, None, None]
        return truth.replace(position=mean, imputed=np.ones(mean.shape[:-1], dtype=bool))

    return reconstruct


def diagnose(
    model: str | None,
    folder: Path,
    limit: int | None = None,
    paths: Sequence[str] | None = None,
    windows: Path | None = None,
    condition: str = "upsample",
) -> dict[str, dict]:
    """Score the paths of :data:`PATHS` (all, or ``paths``) on the ``condition`` clips
    (``upsample`` or ``hpe``) of ``folder``; with ``windows`` (training windows, ``.npz``), also the linear references
    ``pca_K`` at the model's latent size and twice it.

    Returns path name -> ``{"added_auc", "given_auc", "clips", "joints"}`` (``joints``:
    joint name -> AUC); given joints are passed through for every path but
    ``encoder_of_ridge``, ``ceiling`` and ``pca_K``, which replace them.
    """
    from posekit.core.sequence import PoseSequence
    from posekit.evaluation.scoring import Evaluation
    from posekit.jumps.checkpoint import load_model

    files = sorted((folder / condition).glob("*.nc"))[:limit]
    if not files:
        raise FileNotFoundError(f"no clips in {folder / condition}")
    every = _paths(model)
    chosen = {name: every[name] for name in (paths or PATHS)}
    labels = dict(PATHS)
    if windows is not None:
        train = np.load(windows)["windows"]
        latent = load_model(model).latent
        for size in (latent, 2 * latent):
            chosen[f"pca_{size}"] = linear_path(LinearCode.fit(train, size))
            labels[f"pca_{size}"] = f"linear reference: PCA code of {size} numbers, all 28 true joints in"
    results = {}
    for name, path in chosen.items():
        evaluation = Evaluation()
        for file in files:
            given = PoseSequence.read_netcdf(file)
            truth = PoseSequence.read_netcdf(folder / "truth" / file.name)
            evaluation.add(file.stem, path(given, truth), truth, input=given)
        result = evaluation.result()
        groups = result.groups
        results[name] = {"added_auc": groups["added"]["auc"], "given_auc": groups["given"]["auc"],
                         "clips": len(files),
                         "joints": {j: row["auc"] for j, row in result.joints.items()}}
        print(f"{name:17s} added AUC {groups['added']['auc']:.3f}  given AUC "
              f"{groups['given']['auc']:.3f}   {labels[name]}", flush=True)
    return results


def main(argv: Sequence[str] | None = None) -> dict[str, dict]:
    parser = argparse.ArgumentParser(prog="python -m training.diagnose_jumps",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="checkpoint (default: the shipped model)")
    parser.add_argument("--split", default="val",
                        help="a folder of --eval: val, test or train-heldout (new motions of "
                             "known people)")
    parser.add_argument("--eval", type=Path, default=REPO_ROOT / "eval",
                        help="root of training.build_eval's output")
    parser.add_argument("--limit", type=int, default=None, help="first N clips only")
    parser.add_argument("--condition", default="upsample", choices=["upsample", "hpe"])
    parser.add_argument("--paths", default=None,
                        help=f"comma-separated subset of {','.join(PATHS)} (default: all)")
    parser.add_argument("--windows", type=Path, default=None,
                        help="training windows (.npz of training.build_windows): adds the "
                             "linear references pca_K")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    paths = args.paths.split(",") if args.paths else None
    if paths and set(paths) - set(PATHS):
        parser.error(f"unknown paths {sorted(set(paths) - set(PATHS))}; known: {', '.join(PATHS)}")
    results = diagnose(args.model, args.eval / args.split, args.limit, paths, args.windows,
                       args.condition)
    if args.json is not None:
        from posekit.core.atomic import atomic_path

        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps({"model": args.model, "split": args.split,
                                       "condition": args.condition, "paths": results},
                                      indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
