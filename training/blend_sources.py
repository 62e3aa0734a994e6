"""Per-joint blends of sources of the added joints, scored on cached predictions.

Reads the caches of :mod:`training.source_cache` and, for every added joint (a joint
the input never measures), scores every weighted sum of the given sources with weights
on a grid (step 0.25) that sum to 1; with two sources ``a``, ``b`` (e.g. the generator
and the ridge completion) that is ``w · a + (1 − w) · b``. Every joint's AUC depends
only on its own predictions and all added joints are scored on the same frames, so the
added-joint AUC of a per-joint choice is the mean of the chosen joints' AUCs: each
joint's weights are chosen on their own. With several conditions, one choice serves
all of them (chosen on the mean of their AUCs); ``--fixed`` scores given weights
instead, per subject too.

To see whether a choice is noise, the clips are split in two halves (alternate clips,
and by subject: the first half of the subjects against the second); the weights are
chosen on one half and scored on the other, both ways.

Examples::

    python -m training.blend_sources --cache /tmp/fidelity --split val \
        --condition upsample,hpe --sources generator,ridge_window
    python -m training.blend_sources --cache /tmp/fidelity --split val --condition upsample \
        --sources generator_ridge,ridge
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from posekit.ops.metrics import AUC_THRESHOLDS, head_size, normalized_errors
from posekit.plugins.registry import get_skeleton

JOINT_NAMES: tuple[str, ...] = tuple(get_skeleton("mpi_inf_3dhp_28").joint_names)
HEAD_TOP, NECK = JOINT_NAMES.index("head_top"), JOINT_NAMES.index("neck")


def load_cache(path: Path) -> dict[str, dict[str, np.ndarray]]:
    """clip -> source -> positions ``(I, T, 28, 2)``."""
    clips: dict[str, dict[str, np.ndarray]] = {}
    with np.load(path) as data:
        for key in data.files:
            clip, source = key.split("/")
            clips.setdefault(clip, {})[source] = data[key]
    return clips


def added_joints(clips: dict[str, dict[str, np.ndarray]]) -> list[int]:
    """Joints the input of no clip ever measures."""
    seen = np.zeros(len(JOINT_NAMES), bool)
    for arrays in clips.values():
        seen |= np.isfinite(arrays["input"]).all(-1).any(axis=(0, 1))
    return [j for j in range(len(JOINT_NAMES)) if not seen[j]]


def joint_counts(errors: np.ndarray) -> np.ndarray:
    """``(thresholds, J)`` counts of valid errors ``(..., J)`` under each threshold, and
    the number of valid errors per joint as the last row."""
    flat = errors.reshape(-1, errors.shape[-1])
    valid = ~np.isnan(flat)
    under = (flat[None] <= np.asarray(AUC_THRESHOLDS)[:, None, None]).sum(axis=1)
    return np.vstack([under, valid.sum(axis=0)[None]])


def simplex(n_sources: int, step: float = 0.25) -> list[tuple[float, ...]]:
    """Weight vectors on a grid of ``step`` that sum to 1 (the first source's weight
    ascending).

    Examples
    --------
    >>> simplex(2, 0.5)
    [(0.0, 1.0), (0.5, 0.5), (1.0, 0.0)]
    >>> len(simplex(3, 0.25))
    15
    """
    steps = round(1 / step)
    grid = [c for c in np.ndindex(*(steps + 1,) * (n_sources - 1)) if sum(c) <= steps]
    return [tuple(k * step for k in c) + ((steps - sum(c)) * step,) for c in grid]


def blend_counts(clips: dict[str, dict[str, np.ndarray]], sources: Sequence[str],
                 weights: Sequence[tuple[float, ...]]) -> dict[str, np.ndarray]:
    """clip -> ``(len(weights), thresholds + 1, 28)`` counts (see :func:`joint_counts`)
    of each weighted sum of the sources."""
    out = {}
    for clip, arrays in clips.items():
        truth = arrays["truth"]
        head = head_size(truth, HEAD_TOP, NECK)
        out[clip] = np.stack([
            joint_counts(normalized_errors(sum(w * arrays[s] for w, s in zip(ws, sources)),
                                           truth, head))
            for ws in weights])
    return out


def auc_of(counts: np.ndarray) -> np.ndarray:
    """Per-joint AUC from summed counts ``(..., thresholds + 1, J)``."""
    return (counts[..., :-1, :] / counts[..., -1:, :]).mean(axis=-2)


def choose(counts: dict[str, np.ndarray], clips: Sequence[str], joints: Sequence[int]) -> np.ndarray:
    """Index of the best weight per joint ``(len(joints),)`` on ``clips``."""
    aucs = auc_of(sum(counts[c] for c in clips))  # (W, 28)
    return aucs[:, joints].argmax(axis=0)


def score(counts: dict[str, np.ndarray], clips: Sequence[str], joints: Sequence[int],
          chosen: np.ndarray) -> tuple[float, np.ndarray]:
    """Added AUC and per-joint AUC on ``clips`` with weight index ``chosen`` per joint."""
    aucs = auc_of(sum(counts[c] for c in clips))[:, joints]
    per_joint = aucs[chosen, np.arange(len(joints))]
    return float(per_joint.mean()), per_joint


def halves(clips: Sequence[str]) -> dict[str, tuple[list[str], list[str]]]:
    """Two ways of halving the clips: alternate clips; by subject."""
    clips = sorted(clips)
    subjects = sorted({c.split("_")[0] for c in clips})
    first = set(subjects[: len(subjects) // 2])
    return {
        "alternate": (clips[0::2], clips[1::2]),
        "subject": ([c for c in clips if c.split("_")[0] in first],
                    [c for c in clips if c.split("_")[0] not in first]),
    }


def report(path: Path, sources: Sequence[str], step: float = 0.25,
           reference: dict[str, int] | None = None) -> dict:
    """Print and return the per-joint table and the held-out checks; ``reference``:
    joint name -> index of one source, a hard per-joint choice to compare with."""
    clips = load_cache(path)
    joints = added_joints(clips)
    weights = simplex(len(sources), step)
    counts = blend_counts(clips, sources, weights)
    names = sorted(clips)
    aucs = auc_of(sum(counts[c] for c in names))[:, joints]  # (W, J)
    best = aucs.argmax(axis=0)
    print(f"{path.name}: weights of {', '.join(sources)}; added AUC per joint")
    if len(sources) == 2:
        print(f"{'joint':15s} " + " ".join(f"w={w[0]:<5}" for w in weights) + "  best")
        for k, j in enumerate(joints):
            print(f"{JOINT_NAMES[j]:15s} " + " ".join(f"{v:7.3f}" for v in aucs[:, k])
                  + f"  {weights[best[k]][0]}")
        print(f"{'added (mean)':15s} " + " ".join(f"{v:7.3f}" for v in aucs.mean(axis=1)))
    else:
        for k, j in enumerate(joints):
            print(f"{JOINT_NAMES[j]:15s} best {weights[best[k]]} {aucs[best[k], k]:.3f}; "
                  + ", ".join(f"{s} alone {aucs[weights.index(one_hot(i, len(sources))), k]:.3f}"
                              for i, s in enumerate(sources)))
    print(f"per-joint best: added AUC {aucs[best, np.arange(len(joints))].mean():.3f}")
    hard = None
    if reference is not None:
        hard = np.array([weights.index(one_hot(reference.get(JOINT_NAMES[j], 0), len(sources)))
                         for j in joints])
        print(f"reference (hard per-joint choice): added AUC "
              f"{aucs[hard, np.arange(len(joints))].mean():.3f}")
    checks = {}
    for how, (one, two) in halves(names).items():
        for fit, held in ((one, two), (two, one)):
            chosen = choose(counts, fit, joints)
            held_auc, _ = score(counts, held, joints, chosen)
            fit_on_held = choose(counts, held, joints)
            oracle, _ = score(counts, held, joints, fit_on_held)
            checks.setdefault(how, []).append((held_auc, oracle))
            line = (f"halves by {how:9s}: chosen on {len(fit)} clips, held-out {len(held)} "
                    f"clips added AUC {held_auc:.3f} (chosen on them: {oracle:.3f}")
            if hard is not None:
                line += f"; reference {score(counts, held, joints, hard)[0]:.3f}"
            print(line + ")")
    return {"joints": [JOINT_NAMES[j] for j in joints], "weights": weights, "aucs": aucs,
            "best": best, "checks": checks}


def one_hot(index: int, n: int) -> tuple[float, ...]:
    """The weight vector of source ``index`` alone."""
    return tuple(1.0 if k == index else 0.0 for k in range(n))


#: The previous release's defaults, a hard choice between the generator (source 0) and
#: the ridge completion (source 1), the reference the blends are read against.
DEFAULTS_CHOICE: dict[str, int] = {
    name: 1 for name in ("spine", "spine2", "spine3", "spine4", "left_clavicle",
                         "right_clavicle", "left_hand", "right_hand")
}


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m training.blend_sources",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--split", default="val")
    parser.add_argument("--condition", default="upsample",
                        help="a condition, or several (comma-separated): one choice for all")
    parser.add_argument("--sources", default="generator,ridge",
                        help="comma-separated cached sources; the first is the generator when "
                             "the previous hard choice is compared")
    parser.add_argument("--step", type=float, default=0.25)
    parser.add_argument("--fixed", default=None,
                        help="joint=w,...: score these weights of the first of two sources "
                             "(every added joint named) instead of choosing them")
    args = parser.parse_args(argv)
    conditions = args.condition.split(",")
    fixed = None
    if args.fixed:
        fixed = {name: float(w) for name, w in (item.split("=") for item in args.fixed.split(","))}
    sources = args.sources.split(",")
    reference = DEFAULTS_CHOICE if len(sources) > 1 else None  # a choice between sources
    if len(conditions) > 1 or fixed:
        return joint_choice(args.cache, args.split, conditions, sources, args.step, reference,
                            fixed)
    return report(args.cache / f"{args.split}-{args.condition}.npz", sources, args.step,
                  reference)




def joint_choice(cache: Path, split: str, conditions: Sequence[str], sources: Sequence[str],
                 step: float = 0.25, reference: dict[str, int] | None = None,
                 fixed: dict[str, float] | None = None) -> dict:
    """One weight vector per joint for every condition: chosen on the mean of the
    conditions' per-joint AUC (or ``fixed``: joint -> the first of two sources'
    weight); printed with each condition's added AUC, against ``reference``, and with
    the two halvings' held-out checks (weights chosen on one half)."""
    weights = simplex(len(sources), step)
    counts, joints = {}, None
    for condition in conditions:
        clips = load_cache(cache / f"{split}-{condition}.npz")
        joints = added_joints(clips) if joints is None else joints
        counts[condition] = blend_counts(clips, sources, weights)
    names = sorted(counts[conditions[0]])
    ref = (None if reference is None else np.array(
        [weights.index(one_hot(reference.get(JOINT_NAMES[j], 0), len(sources))) for j in joints]))

    def mean_auc(clips: Sequence[str]) -> np.ndarray:
        return np.mean([auc_of(sum(counts[c][n] for n in clips))[:, joints]
                        for c in conditions], axis=0)

    chosen = mean_auc(names).argmax(axis=0)
    if fixed is not None:  # the first source's weight per joint, the second's the rest
        chosen = np.array([weights.index((fixed[JOINT_NAMES[j]], 1 - fixed[JOINT_NAMES[j]]))
                           for j in joints])
    print(f"{split}: weights of {', '.join(sources)} per joint, chosen on the mean of "
          f"{', '.join(conditions)}")
    for k, j in enumerate(joints):
        print(f"  {JOINT_NAMES[j]:15s} {weights[chosen[k]]}")
    for condition in conditions:
        line = f"{condition:9s} added AUC {score(counts[condition], names, joints, chosen)[0]:.3f}"
        if ref is not None:
            line += f" (reference {score(counts[condition], names, joints, ref)[0]:.3f})"
        print(line)
    def scores_on(clips: list[str], choice: np.ndarray) -> str:
        """Added AUC of ``choice`` on ``clips``, each condition, beside the reference's."""
        return "; ".join(
            f"{c} {score(counts[c], clips, joints, choice)[0]:.3f}"
            + ("" if ref is None else f" (reference {score(counts[c], clips, joints, ref)[0]:.3f})")
            for c in conditions
        )

    if fixed is not None:
        for subject in sorted({n.split("_")[0] for n in names}):
            own = [n for n in names if n.split("_")[0] == subject]
            print(f"subject {subject} ({len(own)} clips): {scores_on(own, chosen)}")
        return {"joints": [JOINT_NAMES[j] for j in joints],
                "weights": [weights[i] for i in chosen]}
    for how, (one, two) in halves(names).items():
        for fit, held in ((one, two), (two, one)):
            picked = mean_auc(fit).argmax(axis=0)
            print(f"halves by {how:9s} (chosen on {len(fit)} clips, held-out {len(held)}): "
                  f"{scores_on(held, picked)}")
    return {"joints": [JOINT_NAMES[j] for j in joints],
            "weights": [weights[i] for i in chosen]}


if __name__ == "__main__":
    main()
