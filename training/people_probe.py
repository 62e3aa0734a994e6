"""The new-person gap of a plain learner, trained with and without new people.

A 3-layer MLP (24 frames × 12 input joints in, 24 × 28 joints out, L1 loss; the probe
of issue #14) learns from a windows file of :mod:`training.build_windows`; its
``upsample`` added-joint AUC is scored on held-out clips of the train subjects (new
motions, known people) and on the val subjects (new people). The gap between the two
says how much a learner memorises the people it trained on. A window ridge fitted on
the same windows and the mean of the two are printed beside it. Each window is centred and
scaled by its 12 input joints (mean hip midpoint, mean hip-to-shoulder length), so
nothing the input lacks enters the input.

``--subjects N`` trains on the windows of the first N train subjects only (in the order
of ``splits.json``) and scores the held-out clips of those subjects: run for several N,
it says how the gap and the val score move with the number of people trained on.

``--decompose`` scores the val clips three ways instead (:func:`val_variants`): as
recorded, replayed on the train subjects' skeletons, and with their posture moved to
the train subjects' mean; what the learner gains from each exchange is the part of the
gap that the exchanged difference carries.

Example::

    python -m training.build_windows --split train-fit --cameras 8 --stride 4 --seed 0
    python -m training.build_windows --split train-heldout --cameras 2 --stride 4 --seed 1
    python -m training.people_probe --train cache/windows-train-fit-<key>.npz \\
        --heldout cache/windows-train-heldout-<key>.npz --decompose
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from posekit.evaluation.scoring import UPSAMPLE_JOINTS
from posekit.ops.metrics import auc
from posekit.plugins.registry import get_skeleton
from training.build_windows import WindowSettings, read_windows
from training.mocap import default_mocap_root, load_splits

SKELETON = get_skeleton("mpi_inf_3dhp_28")
GIVEN = np.array(SKELETON.indices(UPSAMPLE_JOINTS))
ADDED = np.array([j for j in range(SKELETON.n_joints) if j not in set(GIVEN.tolist())])


def by_inputs(windows: np.ndarray) -> np.ndarray:
    """Windows ``(N, F, 28, 2)`` re-centred and re-scaled by their 12 input joints only."""
    hips = windows[:, :, SKELETON.indices(["left_hip", "right_hip"])].mean(axis=2)
    shoulders = windows[:, :, SKELETON.indices(["left_shoulder", "right_shoulder"])].mean(axis=2)
    center = hips.mean(axis=1)[:, None, None, :]
    scale = np.linalg.norm(shoulders - hips, axis=-1).mean(axis=1)[:, None, None, None]
    return ((windows - center) / np.maximum(scale, 1e-6)).astype(np.float32)


def added_auc(predicted: np.ndarray, truth: np.ndarray) -> tuple[float, np.ndarray]:
    """Added-joint AUC over every frame, and per added joint (PCKh, head = neck to head top)."""
    head = np.linalg.norm(truth[:, :, SKELETON.index("head_top")]
                          - truth[:, :, SKELETON.index("neck")], axis=-1)
    errors = np.linalg.norm(predicted - truth, axis=-1) / head[..., None]
    errors = errors[:, :, ADDED].reshape(-1, len(ADDED))
    per_joint = np.array([auc(errors[:, j]) for j in range(len(ADDED))])
    return float(per_joint.mean()), per_joint


def train_probe(
    windows: np.ndarray, steps: int, seed: int = 0, batch: int = 256
) -> Callable[[np.ndarray], np.ndarray]:
    """Fit the MLP on normalized windows; returns a function windows -> predictions."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    frames = windows.shape[1]
    net = nn.Sequential(nn.Flatten(), nn.Linear(frames * len(GIVEN) * 2, 1024), nn.ReLU(),
                        nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, frames * 28 * 2))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps, eta_min=5e-5)
    data = torch.from_numpy(windows)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        batch_windows = data[rng.integers(0, len(data), batch)]
        loss = (net(batch_windows[:, :, GIVEN]).view_as(batch_windows) - batch_windows).abs().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    net.eval()

    def predict(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            inputs = torch.from_numpy(x)
            return net(inputs[:, :, GIVEN]).view_as(inputs).numpy()

    return predict


def fit_ridge(windows: np.ndarray, alpha: float = 1e-5) -> Callable[[np.ndarray], np.ndarray]:
    """Window ridge on the same windows (all 24 frames of the 12 inputs to all 28 joints),
    the linear reference of the probe; returns a function windows -> predictions."""
    inputs = np.hstack([windows[:, :, GIVEN].reshape(len(windows), -1).astype(np.float64),
                        np.ones((len(windows), 1))])
    gram = inputs.T @ inputs
    gram[np.diag_indices_from(gram)] += alpha * len(windows)
    weights = np.linalg.solve(gram, inputs.T @ windows.reshape(len(windows), -1))

    def predict(x: np.ndarray) -> np.ndarray:
        flat = np.hstack([x[:, :, GIVEN].reshape(len(x), -1), np.ones((len(x), 1))])
        return (flat @ weights).reshape(x.shape).astype(np.float32)

    return predict


def val_variants(root: Path, settings: WindowSettings) -> dict[str, np.ndarray]:
    """The val clips' windows as recorded and with a part of the people exchanged:
    ``val_on_train_skeletons`` (each clip's angles replayed on a train subject's
    skeleton, round robin) and ``val_with_train_posture`` (each clip's mean angle of every
    posture bone moved to the train subjects' mean)."""
    from training.build_windows import clip_windows
    from training.mocap import split_clips
    from training.people import (
        POSTURE_BONES,
        clip_channels,
        posture_stats,
        replay,
        subject_skeletons,
    )

    skeletons = list(subject_skeletons(root, "train").values())
    posture = posture_stats(root, "train")
    parts: dict[str, list[np.ndarray]] = {}
    for k, clip in enumerate(split_clips(root, "val")):
        own, channels = clip_channels(root, clip)
        recentred = {**channels, **{b: channels[b] - channels[b].mean(axis=0) + posture[b][0]
                                    for b in POSTURE_BONES}}
        for name, skeleton, values in (("val", own, channels),
                                       ("val_on_train_skeletons", skeletons[k % len(skeletons)],
                                        channels),
                                       ("val_with_train_posture", own, recentred)):
            positions = replay(skeleton, values, clip).astype(np.float64)
            parts.setdefault(name, []).append(clip_windows(clip, positions, settings)["windows"])
    return {name: np.concatenate(windows) for name, windows in parts.items()}


def first_subjects(path: Path, mocap: Path, n: int) -> tuple[np.ndarray, list[str]]:
    """The finite windows of a windows file whose clips belong to the first ``n`` train
    subjects of ``splits.json``, and those subjects.

    Examples
    --------
    >>> windows, subjects = first_subjects(Path("cache/windows-train-fit-<key>.npz"),
    ...                                    default_mocap_root(), 4)  # doctest: +SKIP
    >>> subjects  # doctest: +SKIP
    ['01', '03', '05', '08']
    """
    subjects = list(load_splits(mocap)["splits"]["train"])[:n]
    with np.load(path, allow_pickle=False) as data:
        windows = np.asarray(data["windows"], np.float32)
        clips = data["clip"].astype(str)
    keep = np.isin([clip.split("_")[0] for clip in clips], subjects)
    keep &= np.isfinite(windows).all(axis=(1, 2, 3))
    return windows[keep], subjects


def main(argv: Sequence[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(prog="python -m training.people_probe",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("--heldout", type=Path, required=True)
    parser.add_argument("--val", type=Path,
                        help="val windows (without --decompose, which makes its own)")
    parser.add_argument("--decompose", action="store_true",
                        help="also score the val clips with skeleton or posture exchanged")
    parser.add_argument("--mocap", type=Path, default=default_mocap_root())
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--subjects", type=int, default=None, metavar="N",
                        help="train on the first N train subjects only (splits.json order); "
                             "the held-out clips are those of the same subjects")
    args = parser.parse_args(argv)
    if args.val is None and not args.decompose:
        parser.error("give --val or --decompose")
    if args.subjects is not None and args.subjects < 1:
        parser.error(f"--subjects must be 1 or more, got {args.subjects}")
    import torch

    torch.set_num_threads(2)
    started = time.perf_counter()
    if args.subjects is None:
        train, heldout = read_windows(args.train)[0], read_windows(args.heldout)[0]
    else:
        train, subjects = first_subjects(args.train, args.mocap, args.subjects)
        heldout = first_subjects(args.heldout, args.mocap, args.subjects)[0]
        print(f"subjects {', '.join(subjects)}: {len(train)} training and {len(heldout)} "
              "held-out windows")
    train = by_inputs(train)
    predict = train_probe(train, args.steps, args.seed)
    ridge = fit_ridge(train)
    sets = {"heldout": heldout}
    if args.decompose:
        sets.update(val_variants(args.mocap, WindowSettings(split="val", cameras=8, stride=4)))
    else:
        sets["val"] = read_windows(args.val)[0]
    scores: dict[str, dict[str, float]] = {}
    per_joint = {}
    for name, raw in sets.items():
        windows = by_inputs(raw)
        mlp, linear = predict(windows), ridge(windows)
        mlp_auc, per_joint[name] = added_auc(mlp, windows)
        scores[name] = {"MLP": mlp_auc, "window ridge": added_auc(linear, windows)[0],
                        "mean of the two": added_auc((mlp + linear) / 2, windows)[0]}
    print(f"{args.train.name}: {len(train)} windows, {args.steps} steps, "
          f"{time.perf_counter() - started:.0f} s")
    print("added AUC (upsample)    " + "".join(f"{name:>24s}" for name in sets))
    for learner in scores["heldout"]:
        print(f"{learner:22s}  " + "".join(f"{scores[name][learner]:24.3f}" for name in sets))
    print("joint (MLP)     " + "".join(f"{name:>24s}" for name in sets))
    for k, j in enumerate(ADDED):
        print(f"{SKELETON.joint_names[j]:14s}  " + "".join(f"{per_joint[n][k]:24.3f}" for n in sets))
    return scores


if __name__ == "__main__":
    main()
