"""Linear maps without intercept from the 12 input joints to the 16 added joints.

The shipped ridge baselines regress in torso units with an intercept that is scaled
back by an estimated scale; the training windows' unit is the person's neck–pelvis
length, which the 12 inputs do not see. A map with no intercept, from inputs centred
on their centroid (per frame) to the added joints centred alike, is linear in the
input, so it scales with the person's own input joints instead of a torso unit.

Two maps, fitted by least squares (ridge penalty ``alpha``) on train windows:

``linear``
    per frame: 24 input coordinates → 32 added coordinates;
``linear_window``
    per 24-frame window: 576 → 768, windows half-overlapping at inference and averaged.

Both are added as sources to the caches of :mod:`training.source_cache` (hpe: input
gaps of at most 30 frames are filled linearly first; frames still incomplete take the
per-frame ridge's values).

Example::

    python -m training.equivariant_linear --cache /tmp/fidelity --files val-upsample,val-hpe
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from training.mocap import REPO_ROOT
from training.person_features import ADDED, INPUTS

WINDOW = 24


def centred(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``(..., 24)`` centred per frame, and the centroid ``(..., 1, 2)``."""
    inputs = positions[..., INPUTS, :]
    centroid = inputs.mean(axis=-2, keepdims=True)
    return (inputs - centroid).reshape(*positions.shape[:-2], -1), centroid


def fit_least_squares(x: np.ndarray, y: np.ndarray, alpha: float, chunk: int = 8192) -> np.ndarray:
    """Ridge solution ``(x.T x / n + alpha I)^-1 x.T y / n``, accumulated in chunks."""
    gram = np.zeros((x.shape[1], x.shape[1]))
    cross = np.zeros((x.shape[1], y.shape[1]))
    for start in range(0, len(x), chunk):
        a = np.asarray(x[start:start + chunk], np.float64)
        gram += a.T @ a
        cross += a.T @ np.asarray(y[start:start + chunk], np.float64)
    n = len(x)
    return np.linalg.solve(gram / n + alpha * np.eye(len(gram)), cross / n)


def fit(windows: np.ndarray, alpha: float = 1e-4) -> dict[str, np.ndarray]:
    """Both maps from normalized training windows ``(N, 24, 28, 2)``."""
    z, centroid = centred(windows)  # (N, 24, 24), (N, 24, 1, 2)
    y = (windows[:, :, ADDED] - centroid).reshape(len(windows), WINDOW, -1)
    return {
        "linear": fit_least_squares(z[:, WINDOW // 2], y[:, WINDOW // 2], alpha),
        "linear_window": fit_least_squares(z.reshape(len(z), -1), y.reshape(len(y), -1), alpha),
    }


def predict_frames(weights: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Added joints ``(T, 16, 2)`` of frames ``(T, 28, 2)`` (NaN where an input is)."""
    z, centroid = centred(positions)
    return (z @ weights).reshape(len(positions), len(ADDED), 2) + centroid


def predict_windows(weights: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Added joints ``(T, 16, 2)``: half-overlapping windows (the last ending at the last
    frame, a short sequence padded with its edge frames), overlaps averaged; a window
    with a missing input gives NaN and is left out of the average."""
    from training.build_windows import cut_windows, window_starts

    n_frames = len(positions)
    starts = window_starts(n_frames, WINDOW, WINDOW // 2)
    windows = cut_windows(positions, starts, WINDOW)  # (W, 24, 28, 2)
    z, centroid = centred(windows)
    out = (z.reshape(len(z), -1) @ weights).reshape(len(z), WINDOW, len(ADDED), 2) + centroid
    total = np.zeros((max(n_frames, WINDOW), len(ADDED), 2))
    count = np.zeros(max(n_frames, WINDOW))
    for k, start in enumerate(starts):
        ok = np.isfinite(out[k]).all(axis=(1, 2)).all()
        if ok:
            total[start:start + WINDOW] += out[k]
            count[start:start + WINDOW] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count[:, None, None]
    return mean[:n_frames]


def add_sources(path: Path, maps: dict[str, np.ndarray]) -> None:
    """Add ``linear`` and ``linear_window`` to a cache file (rewritten)."""
    from posekit.baselines.common import FILL_GAPS, fill_gaps_linear

    with np.load(path) as data:
        arrays = {key: data[key] for key in data.files}
    clips = sorted({key.split("/")[0] for key in arrays})
    for clip in clips:
        given, ridge = arrays[f"{clip}/input"], arrays[f"{clip}/ridge"]
        for name, predict in (("linear", predict_frames), ("linear_window", predict_windows)):
            out = ridge.copy()
            for i in range(len(given)):
                seen = np.isfinite(given[i]).all(-1)
                filled, _ = fill_gaps_linear(given[i], seen, FILL_GAPS)
                pred = predict(maps[name], filled)
                ok = np.isfinite(pred).all(axis=(1, 2))
                block = out[i][:, ADDED]
                block[ok] = pred[ok]
                out[i][:, ADDED] = block
            arrays[f"{clip}/{name}"] = out
    np.savez_compressed(path, **arrays)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m training.equivariant_linear",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=Path,
                        default=REPO_ROOT / "cache" / "windows-train-fit-103e62c9add0.npz")
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--files", default="val-upsample,val-hpe")
    parser.add_argument("--alpha", type=float, default=1e-4)
    parser.add_argument("--max-windows", type=int, default=60_000)
    args = parser.parse_args(argv)
    with np.load(args.train) as data:
        windows = data["windows"]
    windows = windows[np.isfinite(windows).all(axis=(1, 2, 3))]
    rng = np.random.default_rng(0)
    if len(windows) > args.max_windows:
        windows = windows[np.sort(rng.choice(len(windows), args.max_windows, replace=False))]
    maps = fit(windows.astype(np.float64), args.alpha)
    np.savez(args.cache / f"linear-maps-{args.alpha:g}.npz", **maps)
    for name in args.files.split(","):
        add_sources(args.cache / f"{name}.npz", maps)
        print("added linear sources to", name)


if __name__ == "__main__":
    main()
