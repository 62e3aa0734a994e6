"""Does the whole clip's evidence about the person place the added joints better?

A per-frame linear map from the 12 input joints (centred on their centroid) to the 16
added joints, fitted by least squares on train windows, with and without person
features: robust statistics over the whole clip of the input joints' 2D bone
proportions (:func:`person_features`). With features ``g`` (standardized on the train
clips) the map is ``y = W z + Σ_k g_k B_k z``: the features modulate the map itself,
so that, e.g., how far the neck sits above the shoulders along the torso can depend on
the person's proportions. Both maps are linear in ``z``, hence equivariant to the
input's translation, scale and rotation-free units (pixels or torso units alike).

``correction(z, g) = Σ_k g_k B_k z`` can be added to any source's prediction of the
added joints; this script scores, on cached eval predictions
(:mod:`training.source_cache`), each source with and without it.

Example::

    python -m training.person_features --cache /tmp/fidelity --split val --condition upsample
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from training.blend_sources import HEAD_TOP, JOINT_NAMES, NECK, load_cache
from training.build_eval import INPUT_JOINTS
from training.mocap import REPO_ROOT

#: The 12 input joints (shoulders, elbows, wrists, hips, knees, ankles).
INPUTS: tuple[int, ...] = tuple(JOINT_NAMES.index(name) for name in INPUT_JOINTS)
#: The 16 added joints.
ADDED: tuple[int, ...] = tuple(j for j in range(28) if j not in INPUTS)
#: Bones of the inputs, by kind (left/right pairs averaged): name -> pairs of joints;
#: ``mid`` pairs are midpoints of two joints.
BONES: dict[str, tuple[tuple[object, object], ...]] = {
    "shoulder_width": ((9, 14),),
    "hip_width": ((18, 23),),
    "torso": ((("mid", 9, 14), ("mid", 18, 23)),),
    "upper_arm": ((9, 10), (14, 15)),
    "forearm": ((10, 11), (15, 16)),
    "thigh": ((18, 19), (23, 24)),
    "shin": ((19, 20), (24, 25)),
}


def _point(positions: np.ndarray, spec: object) -> np.ndarray:
    if isinstance(spec, tuple):
        return (positions[..., spec[1], :] + positions[..., spec[2], :]) / 2
    return positions[..., spec, :]


def bone_lengths(positions: np.ndarray) -> np.ndarray:
    """``(T, len(BONES))`` 2D bone lengths (left/right averaged; NaN where unmeasured)."""
    out = []
    for pairs in BONES.values():
        lengths = [np.linalg.norm(_point(positions, a) - _point(positions, b), axis=-1)
                   for a, b in pairs]
        with np.errstate(invalid="ignore"):
            out.append(np.nanmean(np.stack(lengths), axis=0) if len(lengths) > 1 else lengths[0])
    return np.stack(out, axis=-1)


def person_features(positions: np.ndarray, quantile: float = 0.5) -> np.ndarray:
    """The person's proportions over a whole clip ``(T, 28, 2)`` (only the 12 input
    joints are read): per frame with every bone measured, the log of each bone's 2D
    length minus the mean of those logs; then their ``quantile`` over the frames.
    NaN if no frame has every bone.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> clip = rng.normal(size=(50, 28, 2))
    >>> f = person_features(clip)
    >>> f.shape, bool(np.allclose(f, person_features(3 * clip + 5), atol=1e-9))
    ((7,), True)
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(bone_lengths(positions))
    logs = logs[np.isfinite(logs).all(axis=1)]
    if len(logs) == 0:
        return np.full(len(BONES), np.nan)
    return np.quantile(logs - logs.mean(axis=1, keepdims=True), quantile, axis=0)


def centred_inputs(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(..., 24)`` input coordinates centred on their centroid, and the centroid."""
    inputs = positions[..., INPUTS, :]
    centroid = inputs.mean(axis=-2, keepdims=True)
    return (inputs - centroid).reshape(*positions.shape[:-2], -1), centroid


def design(z: np.ndarray, g: np.ndarray | None) -> np.ndarray:
    """``[z, g ⊗ z]`` (``g`` None: ``z``)."""
    if g is None:
        return z
    return np.concatenate([z, (g[..., :, None] * z[..., None, :]).reshape(*z.shape[:-1], -1)],
                          axis=-1)


def train_frames(path: Path, frame: int = 12, quantile: float = 0.5):
    """Frames ``frame`` of every train window ``(N, 28, 2)`` and the person features of
    the window's clip, camera and mirroring, from all its windows ``(N, k)``."""
    with np.load(path) as data:
        windows, clip = data["windows"], data["clip"]
        camera, mirrored = data["camera"], data["mirrored"]
    keep = np.isfinite(windows).all(axis=(1, 2, 3))
    windows, clip, camera, mirrored = windows[keep], clip[keep], camera[keep], mirrored[keep]
    groups = np.char.add(np.char.add(clip, "/"), np.char.add(camera.astype(str),
                                                             mirrored.astype(str)))
    labels, index = np.unique(groups, return_inverse=True)
    features = np.empty((len(labels), len(BONES)))
    for k in range(len(labels)):
        features[k] = person_features(windows[index == k].reshape(-1, 28, 2), quantile)
    return windows[:, frame].astype(np.float64), features[index], clip


def fit_maps(frames: np.ndarray, features: np.ndarray, alpha: float = 1e-3,
             alpha_person: float = 1e-3):
    """Least-squares maps (plain and with features) from centred inputs to the added
    joints (centred alike), and the features' mean and sd; ``alpha_person`` is the
    ridge penalty of the feature terms."""
    z, centroid = centred_inputs(frames)
    y = (frames[:, ADDED] - centroid).reshape(len(frames), -1)
    mean, sd = features.mean(axis=0), features.std(axis=0)
    g = (features - mean) / sd
    maps = {}
    for name, x in (("plain", design(z, None)), ("person", design(z, g))):
        gram = x.T @ x / len(x)
        penalty = np.full(len(gram), alpha)
        penalty[z.shape[1]:] = alpha_person
        maps[name] = np.linalg.solve(gram + np.diag(penalty), x.T @ y / len(x))
    return maps, mean, sd


def apply_map(weights: np.ndarray, positions: np.ndarray, g: np.ndarray | None) -> np.ndarray:
    """Added joints ``(..., 16, 2)`` predicted from positions ``(..., 28, 2)``."""
    z, centroid = centred_inputs(positions)
    return (design(z, g) @ weights).reshape(*positions.shape[:-2], len(ADDED), 2) + centroid


def feature_selector(spec: str | None):
    """``f(features (..., 7)) -> (..., k)``: the named features or contrasts ``a-b``."""
    if spec is None:
        return lambda f: f
    names = list(BONES)
    rows = []
    for item in spec.split(","):
        row = np.zeros(len(names))
        a, _, b = item.partition("-")
        row[names.index(a)] += 1
        if b:
            row[names.index(b)] -= 1
        rows.append(row)
    matrix = np.array(rows).T
    return lambda f: f @ matrix


def evaluate(cache: Path, maps, mean, sd, sources: Sequence[str], quantile: float = 0.5,
             select=lambda f: f) -> dict:
    """Added AUC per joint of each source, of ``source + correction`` and of the two maps."""
    from posekit.baselines.common import fill_gaps_linear
    from posekit.metrics import AUC_THRESHOLDS, head_size, normalized_errors

    clips = load_cache(cache)
    errors: dict[str, list[np.ndarray]] = {}
    for arrays in clips.values():
        truth, given = arrays["truth"], arrays["input"]
        head = head_size(truth, HEAD_TOP, NECK)
        for i in range(given.shape[0]):
            seen = np.isfinite(given[i]).all(-1)
            filled, _ = fill_gaps_linear(given[i], seen, 20)
            g = (select(person_features(given[i], quantile)) - mean) / sd
            plain = apply_map(maps["plain"], filled, None)
            person = apply_map(maps["person"], filled, g)
            correction = np.nan_to_num(person - plain)
            preds = {"map_plain": plain, "map_person": person}
            for source in sources:
                base = arrays[source][i][:, ADDED]
                preds[source] = base
                preds[f"{source}+person"] = base + correction
            for name, pred in preds.items():
                errors.setdefault(name, []).append(
                    normalized_errors(pred, truth[i][:, ADDED], head[i]))
    out = {}
    for name, parts in errors.items():
        e = np.concatenate(parts)
        per_joint = np.array([(e[:, k][~np.isnan(e[:, k])][None] <= AUC_THRESHOLDS[:, None])
                              .mean(axis=1).mean() for k in range(len(ADDED))])
        out[name] = per_joint
    return out


def placement(positions: np.ndarray) -> np.ndarray:
    """Median over a clip ``(T, 28, 2)`` of where added joints sit, in 2D, over the
    torso length (hip midpoint to shoulder midpoint): the neck's height above the
    shoulder midpoint along the torso axis, the head size (head top to neck) and the
    left foot's length (ankle to foot)."""
    shoulders = (positions[:, 9] + positions[:, 14]) / 2
    axis = shoulders - (positions[:, 18] + positions[:, 23]) / 2
    torso = np.linalg.norm(axis, axis=-1)
    unit = axis / torso[:, None]
    return np.nanmedian(np.stack([
        ((positions[:, 5] - shoulders) * unit).sum(-1) / torso,
        np.linalg.norm(positions[:, 7] - positions[:, 5], axis=-1) / torso,
        np.linalg.norm(positions[:, 21] - positions[:, 20], axis=-1) / torso,
    ], axis=-1), axis=0)


def correlations(train: Path, cache: Path, quantile: float = 0.9) -> dict[str, dict[str, float]]:
    """For contrasts of :func:`person_features` (log-ratios of two bones): their spread
    within a train subject (over clips and cameras) and between train subjects, and
    their correlation with :func:`placement` over the train clips and over the clips
    of a cache of :mod:`training.source_cache` (the inputs and the truth of another
    split). Printed."""
    with np.load(train) as data:
        windows, clip = data["windows"], data["clip"]
        camera, mirrored = data["camera"], data["mirrored"]
    groups = np.char.add(np.char.add(clip, "/"), np.char.add(camera.astype(str),
                                                             mirrored.astype(str)))
    labels, index = np.unique(groups, return_inverse=True)
    features, targets = [], []
    for k in range(len(labels)):
        frames = windows[index == k].reshape(-1, 28, 2).astype(np.float64)
        features.append(person_features(frames, quantile))
        targets.append(placement(frames))
    features, targets = np.array(features), np.array(targets)
    subjects = np.array([label.split("_")[0] for label in labels])
    other = load_cache(cache).values()
    other_features = np.array([person_features(a["input"][0], quantile) for a in other])
    other_targets = np.array([placement(a["truth"][0]) for a in other])
    names = list(BONES)
    out = {}
    print(f"{'contrast':28s} {'within sd':>9s} {'between':>8s}  corr. train / {cache.stem}: "
          "neck height, head size, foot length")
    for a, b in (("torso", "shoulder_width"), ("torso", "thigh"), ("torso", "shin"),
                 ("torso", "upper_arm"), ("hip_width", "shoulder_width"),
                 ("upper_arm", "forearm"), ("thigh", "shin")):
        f = features[:, names.index(a)] - features[:, names.index(b)]
        g = other_features[:, names.index(a)] - other_features[:, names.index(b)]
        within = float(np.mean([f[subjects == s].std() for s in np.unique(subjects)]))
        between = float(np.std([f[subjects == s].mean() for s in np.unique(subjects)]))
        corr = [(float(np.corrcoef(f, targets[:, k])[0, 1]),
                 float(np.corrcoef(g, other_targets[:, k])[0, 1])) for k in range(3)]
        out[f"{a}-{b}"] = {"within": within, "between": between, "corr": corr}
        print(f"{a + '-' + b:28s} {within:9.3f} {between:8.3f}  "
              + ", ".join(f"{t:+.2f} / {v:+.2f}" for t, v in corr))
    return out


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m training.person_features",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=Path,
                        default=REPO_ROOT / "cache" / "windows-train-fit-103e62c9add0.npz")
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--split", default="val")
    parser.add_argument("--conditions", default="upsample,hpe")
    parser.add_argument("--sources", default="ridge,ridge_window,generator,defaults")
    parser.add_argument("--quantile", type=float, default=0.5)
    parser.add_argument("--alpha", type=float, default=1e-3)
    parser.add_argument("--alpha-person", type=float, default=1e-3)
    parser.add_argument("--features", default=None,
                        help="comma-separated subset of the features (default: all): "
                             + ",".join(BONES) + ", or contrasts a-b")
    parser.add_argument("--correlations", action="store_true",
                        help="only print how well the features predict placement "
                             "(:func:`correlations`, on the first condition's cache)")
    args = parser.parse_args(argv)
    if args.correlations:
        condition = args.conditions.split(",")[0]
        return correlations(args.train, args.cache / f"{args.split}-{condition}.npz",
                            args.quantile)
    frames, features, _ = train_frames(args.train, quantile=args.quantile)
    select = feature_selector(args.features)
    maps, mean, sd = fit_maps(frames, select(features), args.alpha, args.alpha_person)
    results = {}
    for condition in args.conditions.split(","):
        res = evaluate(args.cache / f"{args.split}-{condition}.npz", maps, mean, sd,
                       args.sources.split(","), args.quantile, select)
        results[condition] = res
        print(f"== {args.split} {condition}: added AUC (mean of joints), then per joint")
        print(f"{'':22s}{'added':>7s} " + " ".join(f"{JOINT_NAMES[j][:8]:>8s}" for j in ADDED))
        for name, per_joint in res.items():
            print(f"{name:22s}{per_joint.mean():7.3f} " + " ".join(f"{v:8.3f}" for v in per_joint))
    return results


if __name__ == "__main__":
    main()
