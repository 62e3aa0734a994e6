"""Fit the baselines on the CMU train windows, choose their hyper-parameters on val, and
write them to ``posekit/models/baselines/`` (``.npz`` + ``.json`` sidecar with the SHA-256).

- ``mean_pose``: the mean training frame (each centred first);
- ``ridge``: mean and covariance of training frames (56 coordinates); the penalty
  ``alpha`` is chosen on val;
- ``ridge_window``: mean and covariance of training windows (24 × 56 coordinates),
  the covariance kept as ``--rank`` eigenvectors plus an isotropic residual; ``alpha``
  chosen on val;
- ``knn``: ``--knn-frames`` training frames drawn at random (float16); ``k`` chosen on
  val.

Both ridge models are fitted left/right symmetric (the statistics of the windows and of
their mirror images, :func:`posekit.baselines.common.mirror_symmetric`).

Validation runs the shipped stages themselves (with their ``alpha``/``k`` overrides) on
``<eval>/val/{upsample,hpe}`` (``python -m training.build_eval --split val``) and
scores the added joints' AUC (mean over the two conditions). Test is never looked at.

Example (the shipped baselines: 16 cameras a clip, every clip and its mirror image)::

    python -m training.build_windows --split train --cameras 16 --stride 8 --seed 0 --mirror
    python -m training.fit_baselines --train cache/windows-train-<key>.npz
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from training.mocap import REPO_ROOT

OUT = REPO_ROOT / "posekit" / "models" / "baselines"
VAL_CONDITIONS = ("upsample", "hpe")


def newest_windows(split: str, cache: Path) -> Path:
    """The newest ``windows-<split>-*.npz`` of the cache folder."""
    files = sorted(cache.glob(f"windows-{split}-*.npz"), key=lambda p: p.stat().st_mtime)
    if not files:
        raise SystemExit(f"no windows-{split}-*.npz in {cache}; run python -m training.build_windows")
    return files[-1]


def load_windows(path: Path, max_windows: int | None, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """A random subsample of at most ``max_windows`` windows ``(N, 24, 28, 2)`` float32."""
    from training.build_windows import read_windows

    windows, settings, held = read_windows(path)
    if max_windows is not None and len(windows) > max_windows:
        windows = windows[np.sort(rng.choice(len(windows), max_windows, replace=False))]
    return windows, {"file": path.name, "windows_total": held,
                     "windows_used": len(windows),
                     "settings": {k: v for k, v in settings.items()
                                  if k not in ("clips", "inputs")}}


def validate(stage: Any, eval_root: Path, limit: int | None) -> dict[str, float]:
    """Added-joint AUC of a stage on the val conditions (and their mean)."""
    from training.reproduce_tables import run_condition

    scores = {}
    for condition in VAL_CONDITIONS:
        result, _ = run_condition(stage, eval_root / condition, eval_root / "truth", limit=limit)
        scores[condition] = result.groups["added"]["auc"]
    scores["mean"] = float(np.mean([scores[c] for c in VAL_CONDITIONS]))
    return scores


def choose(name: str, stage_cls: Any, path: Path, key: str, grid: Sequence[Any],
           eval_root: Path, limit: int | None) -> tuple[Any, dict]:
    """The grid value with the best mean val AUC, and every score."""
    scores = {}
    for value in grid:
        started = time.perf_counter()
        scores[str(value)] = validate(stage_cls(model=path, **{key: value}), eval_root, limit)
        print(f"  {name} {key}={value}: val added AUC "
              + ", ".join(f"{c} {s:.4f}" for c, s in scores[str(value)].items())
              + f" ({time.perf_counter() - started:.0f} s)", flush=True)
    best = max(grid, key=lambda v: scores[str(v)]["mean"])
    return best, scores


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    from posekit.baselines.common import SKELETON, save_model
    from posekit.baselines.knn import Knn
    from posekit.baselines.mean_pose import mean_pose
    from posekit.baselines.ridge import FrameGaussian, Ridge
    from posekit.baselines.ridge_window import RidgeWindow, WindowGaussian
    from posekit.core.catalogue import builtin_skeleton

    parser = argparse.ArgumentParser(prog="python -m training.fit_baselines",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=Path, default=None,
                        help="training windows (default: the newest cache/windows-train-*.npz)")
    parser.add_argument("--cache", type=Path, default=REPO_ROOT / "cache")
    parser.add_argument("--eval", type=Path, default=REPO_ROOT / "eval",
                        help="root of training.build_eval's output (val is used)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--max-windows", type=int, default=None,
                        help="random training windows used for the statistics (default: all)")
    parser.add_argument("--rank", type=int, default=400,
                        help="eigenvectors kept of the window covariance")
    parser.add_argument("--knn-frames", type=int, default=25000)
    parser.add_argument("--alphas", default="1e-6,1e-5,1e-4,1e-3")
    parser.add_argument("--window-alphas", default="1e-5,1e-4,1e-3")
    parser.add_argument("--ks", default="5,10,20")
    parser.add_argument("--val-limit", type=int, default=None, help="first N val clips only")
    parser.add_argument("--no-tune", action="store_true", help="keep alpha=1e-3, k=10")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    train = args.train or newest_windows("train", args.cache)
    started = time.perf_counter()
    windows, data_info = load_windows(train, args.max_windows, rng)
    frames = windows.reshape(-1, 28, 2)
    print(f"{train.name}: {data_info['windows_used']} of {data_info['windows_total']} windows, "
          f"{len(frames)} frames ({time.perf_counter() - started:.0f} s)", flush=True)
    common = {"data": data_info, "seed": args.seed, "mirror_symmetric": True,
              "source": "CMU Graphics Lab Motion Capture Database (mocap.cs.cmu.edu), train split"}
    args.out.mkdir(parents=True, exist_ok=True)
    paths = {name: args.out / f"{name}.npz" for name in ("mean_pose", "ridge", "ridge_window", "knn")}
    tune = not args.no_tune and (args.eval / "val" / "truth").is_dir()
    if not args.no_tune and not tune:
        print(f"no {args.eval / 'val'}: hyper-parameters NOT tuned "
              "(python -m training.build_eval --split val)")

    save_model(paths["mean_pose"], "mean_pose", {"mean_pose": mean_pose(frames)}, common)

    mirror = builtin_skeleton(SKELETON).mirror_permutation()
    frame_model = FrameGaussian.fit(frames, alpha=1e-3, mirror=mirror)
    save_model(paths["ridge"], "ridge", frame_model.arrays(), {**common, "alpha": 1e-3})

    t0 = time.perf_counter()
    window_model = WindowGaussian.fit(windows, alpha=1e-3, rank=args.rank, mirror=mirror)
    print(f"window covariance ({time.perf_counter() - t0:.0f} s)", flush=True)
    save_model(paths["ridge_window"], "ridge_window", window_model.arrays(),
               {**common, "alpha": 1e-3, "rank": args.rank})

    database = frames[np.sort(rng.choice(len(frames), min(args.knn_frames, len(frames)),
                                         replace=False))].astype(np.float16)
    save_model(paths["knn"], "knn", {"frames": database, "k": np.int64(10)},
               {**common, "k": 10, "frames": len(database)})

    report: dict[str, Any] = {}
    if tune:
        val = args.eval / "val"
        alphas = [float(a) for a in args.alphas.split(",")]
        alpha, scores = choose("ridge", Ridge, paths["ridge"], "alpha", alphas, val, args.val_limit)
        save_model(paths["ridge"], "ridge", FrameGaussian(frame_model.mean, frame_model.cov,
                                                          alpha).arrays(),
                   {**common, "alpha": alpha, "val_added_auc": scores})
        report["ridge"] = {"alpha": alpha, "val": scores}

        alphas = [float(a) for a in args.window_alphas.split(",")]
        alpha, scores = choose("ridge_window", RidgeWindow, paths["ridge_window"], "alpha",
                               alphas, val, args.val_limit)
        arrays = {**window_model.arrays(), "alpha": np.float64(alpha)}
        save_model(paths["ridge_window"], "ridge_window", arrays,
                   {**common, "alpha": alpha, "rank": args.rank, "val_added_auc": scores})
        report["ridge_window"] = {"alpha": alpha, "val": scores}

        ks = [int(k) for k in args.ks.split(",")]
        k, scores = choose("knn", Knn, paths["knn"], "k", ks, val, args.val_limit)
        save_model(paths["knn"], "knn", {"frames": database, "k": np.int64(k)},
                   {**common, "k": k, "frames": len(database), "val_added_auc": scores})
        report["knn"] = {"k": k, "val": scores}

        from posekit.baselines.mean_pose import MeanPose

        report["mean_pose"] = {"val": validate(MeanPose(model=paths["mean_pose"]), val,
                                               args.val_limit)}
    for name, path in paths.items():
        print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)"
              + (f": {report[name]}" if name in report else ""))
    print(f"done in {time.perf_counter() - started:.0f} s")
    return report


if __name__ == "__main__":
    main()
