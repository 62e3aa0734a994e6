"""How people differ where the 12 input joints cannot see: per-subject body proportions.

For every subject of the mocap (3D, 28 joints, :mod:`training.mocap`), the mean over its
clips of a few proportions that place the *added* joints relative to the 12 input joints,
each a ratio so that the person's size drops out:

``torso``
    hip midpoint to shoulder midpoint, over shoulder width (seen by the input);
``neck_up``, ``spine4_up``, ``pelvis_up``
    height of the neck / spine4 above the shoulder midpoint, of the pelvis above the hip
    midpoint, along the torso axis, over shoulder width;
``neck_len``
    neck to shoulder midpoint, over shoulder width;
``head_top``
    neck to head top (PCKh's head size), over shoulder width;
``hand``, ``foot``, ``toe``
    wrist to hand over forearm, ankle to foot and foot to toe over shin.

Within a clip these are nearly constant (the skeleton is rigid); between subjects they
vary, and a model that learns them for the people it trained on has nothing to learn
them from for a new person but what the input shows (``torso``). The table prints each
subject's values, the spread between subjects and within clips, and the correlation of
each proportion with ``torso`` over the train subjects.

Example::

    python -m training.person_gap
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from training.mocap import REPO_ROOT, default_mocap_root, load_clips, load_splits, split_clips

#: Joint indices of ``mpi_inf_3dhp_28`` used below.
JOINTS = {
    "spine4": 1, "pelvis": 4, "neck": 5, "head_top": 7, "l_shoulder": 9, "l_elbow": 10,
    "l_wrist": 11, "l_hand": 12, "r_shoulder": 14, "l_hip": 18, "l_knee": 19, "l_ankle": 20,
    "l_foot": 21, "l_toe": 22, "r_hip": 23,
}  # fmt: skip


def proportions(positions: np.ndarray) -> dict[str, np.ndarray]:
    """Per-frame proportions (module docstring) of a 3D clip ``(T, 28, 3)``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> values = proportions(rng.normal(size=(5, 28, 3)))
    >>> sorted(values)[:3], values["torso"].shape
    (['foot', 'hand', 'head_top'], (5,))
    """
    x = positions[np.isfinite(positions).all(axis=(1, 2))]

    def at(name: str) -> np.ndarray:
        return x[:, JOINTS[name]]

    def dist(a: str, b: str) -> np.ndarray:
        return np.linalg.norm(at(a) - at(b), axis=-1)

    width = dist("l_shoulder", "r_shoulder")
    shoulders = (at("l_shoulder") + at("r_shoulder")) / 2
    hips = (at("l_hip") + at("r_hip")) / 2
    axis = shoulders - hips
    torso = np.linalg.norm(axis, axis=-1)
    axis = axis / torso[:, None]

    def height(point: np.ndarray, origin: np.ndarray) -> np.ndarray:
        return ((point - origin) * axis).sum(-1) / width

    shin = dist("l_knee", "l_ankle")
    return {
        "torso": torso / width,
        "neck_up": height(at("neck"), shoulders),
        "spine4_up": height(at("spine4"), shoulders),
        "pelvis_up": height(at("pelvis"), hips),
        "neck_len": np.linalg.norm(at("neck") - shoulders, axis=-1) / width,
        "head_top": dist("head_top", "neck") / width,
        "hand": dist("l_hand", "l_wrist") / dist("l_elbow", "l_wrist"),
        "foot": dist("l_foot", "l_ankle") / shin,
        "toe": dist("l_toe", "l_foot") / shin,
    }


def subject_table(root: Path, cache: Path | None) -> tuple[dict, dict, dict]:
    """``(subject -> split, subject -> mean proportions, proportion -> within-clip sd)``."""
    splits = load_splits(root)
    split_of = {s: name for name, subjects in splits["splits"].items() for s in subjects}
    clips, _ = load_clips(root, split_clips(root, "all"), cache_dir=cache, progress=False)
    per_subject: dict[str, list[dict[str, np.ndarray]]] = {}
    for clip, positions in clips.items():
        per_subject.setdefault(clip.split("_")[0], []).append(proportions(positions))
    names = list(next(iter(per_subject.values()))[0])
    means = {s: {k: float(np.mean([c[k].mean() for c in cs])) for k in names}
             for s, cs in per_subject.items()}
    within = {k: float(np.mean([c[k].std() for cs in per_subject.values() for c in cs]))
              for k in names}
    return split_of, means, within


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m training.person_gap",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--mocap", type=Path, default=default_mocap_root())
    parser.add_argument("--cache", type=Path, default=REPO_ROOT / "cache")
    args = parser.parse_args(argv)
    split_of, means, within = subject_table(args.mocap, args.cache)
    names = list(within)
    print("subject split " + " ".join(f"{k:>9s}" for k in names))
    for subject in sorted(means, key=lambda s: (split_of[s], s)):
        print(f"{subject:7s} {split_of[subject]:5s} "
              + " ".join(f"{means[subject][k]:9.3f}" for k in names))
    between = {k: float(np.std([m[k] for m in means.values()])) for k in names}
    train = [m for s, m in means.items() if split_of[s] == "train"]
    corr = {k: float(np.corrcoef([m["torso"] for m in train], [m[k] for m in train])[0, 1])
            for k in names}
    print("between-subject sd  " + " ".join(f"{between[k]:9.3f}" for k in names))
    print("within-clip sd      " + " ".join(f"{within[k]:9.3f}" for k in names))
    print("corr. with torso    " + " ".join(f"{corr[k]:9.2f}" for k in names))
    return {"subjects": means, "between": between, "within": within, "corr_torso": corr}


if __name__ == "__main__":
    main()
