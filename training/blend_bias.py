"""Blend the generator's clip-constant and time-varying differences from the ridge
completion with separate weights.

The generator places the added joints much better on people it trained on than on new
ones (train-heldout vs val), the ridge baselines about as well on both: part of the
generator's output is a per-person placement it memorized. Per added joint, with
``d(t) = generator(t) − ridge(t)`` expressed in a body frame of each frame (the torso
axis, from the hip midpoint to the shoulder midpoint, and its normal; unit: the
torso's length, smoothed over time), split ``d`` into its median over the clip ``m``
(the person's placement) and the rest ``d(t) − m`` (the motion), and predict
``ridge + a · m + b · (d(t) − m)``. ``a = b = w`` is the plain blend of
:mod:`training.blend_sources`.

Example::

    python -m training.blend_bias --cache /tmp/fidelity --split val --conditions upsample,hpe \\
        --sources generator,ridge_window
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from training.blend_sources import (
    HEAD_TOP,
    JOINT_NAMES,
    NECK,
    added_joints,
    auc_of,
    halves,
    joint_counts,
    load_cache,
)

A_WEIGHTS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
B_WEIGHTS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25)
SHOULDERS = (JOINT_NAMES.index("left_shoulder"), JOINT_NAMES.index("right_shoulder"))
HIPS = (JOINT_NAMES.index("left_hip"), JOINT_NAMES.index("right_hip"))


def body_frame(positions: np.ndarray, smooth: int = 25) -> tuple[np.ndarray, np.ndarray]:
    """Per frame of ``(T, 28, 2)``: the unit torso axis ``(T, 2)`` and the torso length
    ``(T,)`` averaged over ``smooth`` frames (from the hips and shoulders given)."""
    from posekit.baselines.common import moving_nanmean

    axis = (positions[:, SHOULDERS].mean(axis=1) - positions[:, HIPS].mean(axis=1))
    length = np.linalg.norm(axis, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = axis / length[:, None]
    return unit, moving_nanmean(length, smooth)


def to_body(d: np.ndarray, unit: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Offsets ``(T, J, 2)`` in body units: (along the torso axis, along its normal)."""
    normal = np.stack([-unit[:, 1], unit[:, 0]], axis=-1)
    return np.stack([(d * unit[:, None]).sum(-1), (d * normal[:, None]).sum(-1)],
                    axis=-1) / length[:, None, None]


def from_body(b: np.ndarray, unit: np.ndarray, length: np.ndarray) -> np.ndarray:
    """The inverse of :func:`to_body`."""
    normal = np.stack([-unit[:, 1], unit[:, 0]], axis=-1)
    return (b[..., :1] * unit[:, None] + b[..., 1:] * normal[:, None]) * length[:, None, None]


def split_counts(clips: dict, gen: str, ridge: str) -> dict[str, np.ndarray]:
    """clip -> ``(len(A), len(B), thresholds + 1, 28)`` counts."""
    from posekit.baselines.common import FILL_GAPS, fill_gaps_linear
    from posekit.metrics import head_size, normalized_errors

    out = {}
    for clip, arrays in clips.items():
        truth, given = arrays["truth"], arrays["input"]
        head = head_size(truth, HEAD_TOP, NECK)
        counts = np.zeros((len(A_WEIGHTS), len(B_WEIGHTS), 102, 28))
        for i in range(len(truth)):
            filled, _ = fill_gaps_linear(given[i], np.isfinite(given[i]).all(-1), FILL_GAPS)
            unit, length = body_frame(np.where(np.isfinite(filled), filled, arrays[ridge][i]))
            d = to_body(arrays[gen][i] - arrays[ridge][i], unit, length)
            d = np.where(np.isfinite(d), d, 0.0)
            m = np.median(d, axis=0, keepdims=True)
            for ia, a in enumerate(A_WEIGHTS):
                for ib, b in enumerate(B_WEIGHTS):
                    pred = arrays[ridge][i] + from_body(a * m + b * (d - m), unit, length)
                    counts[ia, ib] += joint_counts(normalized_errors(pred, truth[i], head[i]))
        out[clip] = counts
    return out


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m training.blend_bias",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--split", default="val")
    parser.add_argument("--conditions", default="upsample,hpe")
    parser.add_argument("--sources", default="generator,ridge_window")
    args = parser.parse_args(argv)
    gen, ridge = args.sources.split(",")
    conditions = args.conditions.split(",")
    counts, joints = {}, None
    for condition in conditions:
        clips = load_cache(args.cache / f"{args.split}-{condition}.npz")
        joints = added_joints(clips) if joints is None else joints
        counts[condition] = split_counts(clips, gen, ridge)
    names = sorted(counts[conditions[0]])

    def aucs(condition: str, clips: Sequence[str]) -> np.ndarray:  # (A, B, J)
        return auc_of(sum(counts[condition][c] for c in clips))[..., joints]

    def pick(clips: Sequence[str]) -> np.ndarray:
        mean = np.mean([aucs(c, clips) for c in conditions], axis=0)
        return mean.reshape(-1, len(joints)).argmax(axis=0)

    def plain(clips: Sequence[str]) -> np.ndarray:  # the best a = b per joint
        mean = np.mean([aucs(c, clips) for c in conditions], axis=0)
        diag = np.array([mean[k, B_WEIGHTS.index(w)] for k, w in enumerate(A_WEIGHTS)])
        best = diag.argmax(axis=0)
        return np.array([k * len(B_WEIGHTS) + B_WEIGHTS.index(A_WEIGHTS[k]) for k in best])

    def value(condition: str, clips: Sequence[str], chosen: np.ndarray) -> float:
        flat = aucs(condition, clips).reshape(-1, len(joints))
        return float(flat[chosen, np.arange(len(joints))].mean())

    chosen, same = pick(names), plain(names)
    print(f"{args.split}: {gen} − {ridge}, clip median weight a, the rest b, per joint "
          f"(chosen on the mean of {', '.join(conditions)}); plain blend a = b beside")
    for k, j in enumerate(joints):
        a, b = divmod(chosen[k], len(B_WEIGHTS))
        pa, _ = divmod(same[k], len(B_WEIGHTS))
        print(f"  {JOINT_NAMES[j]:15s} a={A_WEIGHTS[a]:<5} b={B_WEIGHTS[b]:<5}  "
              + "  ".join(f"{c} {aucs(c, names).reshape(-1, len(joints))[chosen[k], k]:.3f} "
                          f"(plain w={A_WEIGHTS[pa]} "
                          f"{aucs(c, names).reshape(-1, len(joints))[same[k], k]:.3f})"
                          for c in conditions))
    for c in conditions:
        print(f"{c:9s} added AUC {value(c, names, chosen):.3f} (plain blend {value(c, names, same):.3f})")
    for how, (one, two) in halves(names).items():
        for fit, held in ((one, two), (two, one)):
            print(f"halves by {how:9s} (chosen on {len(fit)}, held-out {len(held)} clips): "
                  + "; ".join(f"{c} {value(c, held, pick(fit)):.3f} "
                              f"(plain {value(c, held, plain(fit)):.3f})" for c in conditions))
    return {"joints": [JOINT_NAMES[j] for j in joints], "chosen": chosen}


if __name__ == "__main__":
    main()
