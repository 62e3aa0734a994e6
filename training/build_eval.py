"""Build the evaluation data of a split (EVALUATION.md): whole clips, one camera each,
in the three input conditions, plus the ground truth.

For every clip of the split: 3D, 28 joints, 30 fps (:mod:`training.mocap`), projected
with ONE camera drawn from a stream seeded by ``--seed`` and the clip name (EVALUATION.md:
looks at the clip's mean pelvis, azimuth U[0°, 360°), elevation U[−10°, 30°], distance
U[3.5, 6] m, focal 1000 px, 1920 × 1080, roll 0). Written, as posekit netCDF in the
28-joint layout (``mpi_inf_3dhp_28``, pixels, y down, missing = NaN, fps 30):

- ``<out>/<split>/truth/<clip>.nc``: all 28 joints as projected;
- ``<out>/<split>/upsample/<clip>.nc``: the 12 input joints (shoulders, elbows,
  wrists, hips, knees, ankles) exactly; the other 16 NaN;
- ``<out>/<split>/hpe/<clip>.nc``: the 12 joints plus Gaussian noise of standard
  deviation 0.05 × head size per coordinate (head size = that frame's ground-truth 2D
  head_top–neck distance), with occlusion bursts (below); the other 16 NaN;
- ``<out>/<split>/dropout/<clip>.nc``: all 28 joints with occlusion bursts.

Occlusion bursts (:func:`occlusion_mask`): every joint, at every frame, independently
starts a gap with probability 0.02; the gap's length is uniform in [1, 20] frames; gaps
may overlap (their union is missing). A frame is therefore missing with probability
``1 − Π_{k=0}^{19} (1 − 0.02 · (20 − k) / 20)`` ≈ 0.19, at the clip's start too (gaps may
have started before it).

AlphaPose-format JSON is also written for ``upsample`` and ``hpe``
(``<out>/<split>/<condition>_alphapose/<clip>.json``), as AlphaPose's default
``alphapose-results.json`` is: a list with one record per person and frame,
``{"image_id": "<frame>.jpg", "category_id": 1, "keypoints": [x, y, score] × 17,
"score": ..., "box": [x, y, w, h], "idx": 0}``, COCO-17 keypoint order. AlphaPose
always writes all 17 keypoints (it never omits one; an unseen joint gets its heatmap
peak and a low score), so:

- the 12 body joints are written where the condition has them, with a score
  U[0.6, 0.95]; in ``hpe`` an occluded joint is NOT omitted but written with a score
  U[0.05, 0.3] at a plausible wrong position, the truth plus Gaussian noise of standard
  deviation 0.3 × head size per coordinate (**ours**), as a real estimator guesses;
- the 5 face joints (nose, eyes, ears), for which the mocap has no ground truth, are
  written at the projected 28-joint ``head`` (midpoint of neck and head top) with score
  0, so a confidence threshold drops them; the COCO-17 → 28 mapping ignores them anyway;
- ``score`` is AlphaPose's proposal score, box score + mean keypoint score + 1.25 × max
  keypoint score, with a box score U[0.9, 1.0]; ``box`` is the ground-truth 28 joints'
  bounding box enlarged by 10 % on each side.

``<out>/<split>/manifest.json`` lists the clips, their frame counts, cameras and the
settings (seed, code version). Every random draw comes from a stream seeded by
``(seed, crc32(clip), purpose)``, so the build is the same on every machine.

Example::

    python -m training.build_eval --split test --out eval/
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from posekit.jumps import checkpoint
from posekit.ops.metrics import head_size
from training.mocap import (
    CLIP_SOURCES,
    REPO_ROOT,
    SKELETON,
    TARGET_FPS,
    clip_file,
    clip_rng,
    default_mocap_root,
    load_clips,
    source_version,
    split_clips,
)

CONDITIONS = ("upsample", "hpe", "dropout")
#: The 12 input joints of the paper (Table I).
INPUT_JOINTS = (
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)
#: The joints whose distance is the head size (PCKh's, :func:`posekit.ops.metrics.head_size`).
HEAD_JOINTS = ("head_top", "neck")
#: Noise of the ``hpe`` condition, in head sizes (standard deviation per coordinate).
HPE_NOISE = 0.05
#: Occlusion bursts: probability per joint and frame that a gap starts, gap lengths.
GAP_START_PROBABILITY = 0.02
GAP_LENGTH = (1, 20)
#: AlphaPose JSON: keypoint scores of seen and occluded joints, error of occluded ones.
VISIBLE_SCORE = (0.6, 0.95)
OCCLUDED_SCORE = (0.05, 0.3)
OCCLUDED_NOISE = 0.3

EVAL_SOURCES = ("training/camera.py", "training/build_eval.py")


def occlusion_mask(
    rng: np.random.Generator,
    shape: tuple[int, ...],
    probability: float = GAP_START_PROBABILITY,
    lengths: tuple[int, int] = GAP_LENGTH,
    *,
    lead_in: bool = True,
) -> np.ndarray:
    """``(..., frames, joints)`` boolean mask, True where a burst of occlusion hides the joint.

    Every joint at every frame starts a gap with ``probability``; its length is uniform
    in ``[lengths[0], lengths[1]]`` (inclusive). Gaps may overlap. With ``lead_in``,
    gaps also start in the ``lengths[1] − 1`` frames before the clip (as if the clip
    were cut from a longer video), so the first frames are missing as often as the
    others; without, gaps start inside the clip only (the training windows' bursts).
    Leading dimensions (a batch of windows) are independent.

    Examples
    --------
    >>> mask = occlusion_mask(np.random.default_rng(0), (100000, 28))
    >>> round(float(mask.mean()), 2)
    0.19
    >>> occlusion_mask(np.random.default_rng(0), (8, 24, 28), 0.02, (1, 20), lead_in=False).shape
    (8, 24, 28)
    """
    *batch, n_frames, n_joints = shape
    lead = lengths[1] - 1 if lead_in else 0
    drawn = (*batch, n_frames + lead, n_joints)
    starts = rng.random(drawn) < probability
    length = rng.integers(lengths[0], lengths[1] + 1, size=drawn)
    # +1 at the start of each gap, -1 just after its end; a running sum counts open gaps.
    events = np.zeros((*batch, drawn[-2] + lengths[1] + 1, n_joints), dtype=np.int32)
    where = np.nonzero(starts)
    np.add.at(events, where, 1)
    np.add.at(events, (*where[:-2], where[-2] + length[where], where[-1]), -1)
    return np.cumsum(events, axis=-2)[..., lead : lead + n_frames, :] > 0


def expected_missing_fraction(
    probability: float = GAP_START_PROBABILITY, lengths: tuple[int, int] = GAP_LENGTH
) -> float:
    """Probability that a frame lies in a gap of :func:`occlusion_mask`.

    Examples
    --------
    >>> round(expected_missing_fraction(), 4)
    0.1906
    """
    low, high = lengths
    n = high - low + 1
    survive = 1.0
    for k in range(high):  # a gap started k frames ago still covers this frame
        covers = sum(1 for length in range(low, high + 1) if length > k) / n
        survive *= 1.0 - probability * covers
    return 1.0 - survive


def make_conditions(clip: str, truth: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """The three input conditions of one projected clip, ``{name: (T, 28, 2)}``, NaN missing.

    Also returns ``hpe_noisy`` (the 12 joints with noise, before occlusion) and
    ``hpe_occluded`` (the burst mask), which the AlphaPose JSON needs.
    """
    from posekit.plugins.registry import get_skeleton

    skeleton = get_skeleton(SKELETON)
    n_frames, n_joints, _ = truth.shape
    inputs = np.zeros(n_joints, dtype=bool)
    inputs[skeleton.indices(INPUT_JOINTS)] = True

    upsample = np.where(inputs[None, :, None], truth, np.nan)

    rng = clip_rng(seed, clip, "eval_hpe")
    heads = head_size(truth, *skeleton.indices(HEAD_JOINTS))
    noise = rng.normal(size=truth.shape) * (HPE_NOISE * heads)[:, None, None]
    noisy = np.where(inputs[None, :, None], truth + noise, np.nan)
    occluded = occlusion_mask(rng, (n_frames, n_joints))
    hpe = np.where(occluded[..., None], np.nan, noisy)

    rng = clip_rng(seed, clip, "eval_dropout")
    dropout = np.where(occlusion_mask(rng, (n_frames, n_joints))[..., None], np.nan, truth)
    return {"upsample": upsample, "hpe": hpe, "dropout": dropout,
            "hpe_noisy": noisy, "hpe_occluded": occluded}


def alphapose_records(
    clip: str, truth: np.ndarray, observed: np.ndarray, occluded: np.ndarray, seed: int
) -> list[dict]:
    """AlphaPose ``alphapose-results.json`` records of one clip (see the module notes).

    Parameters
    ----------
    truth
        ``(T, 28, 2)`` ground truth.
    observed
        ``(T, 28, 2)`` the condition's values before occlusion (noisy for ``hpe``).
    occluded
        ``(T, 28)`` True where the condition hides a joint.
    """
    from posekit.plugins.registry import get_skeleton

    coco = get_skeleton("coco_17")
    hub = get_skeleton(SKELETON)
    rng = clip_rng(seed, clip, "eval_alphapose")
    n_frames = truth.shape[0]
    body = [j for j in coco.joint_names if j in INPUT_JOINTS]
    body_coco = coco.indices(body)
    body_hub = hub.indices(body)
    face = [j for j in range(coco.n_joints) if j not in body_coco]
    heads = head_size(truth, *hub.indices(HEAD_JOINTS))

    xy = np.zeros((n_frames, coco.n_joints, 2))
    score = np.zeros((n_frames, coco.n_joints))
    seen_score = rng.uniform(*VISIBLE_SCORE, size=(n_frames, len(body)))
    hidden_score = rng.uniform(*OCCLUDED_SCORE, size=(n_frames, len(body)))
    guess = truth[:, body_hub] + rng.normal(size=(n_frames, len(body), 2)) * (
        OCCLUDED_NOISE * heads
    )[:, None, None]
    hidden = occluded[:, body_hub]
    xy[:, body_coco] = np.where(hidden[..., None], guess, observed[:, body_hub])
    score[:, body_coco] = np.where(hidden, hidden_score, seen_score)
    xy[:, face] = truth[:, hub.index("head")][:, None, :]
    box_score = rng.uniform(0.9, 1.0, size=n_frames)

    low, high = np.nanmin(truth, axis=1), np.nanmax(truth, axis=1)
    margin = 0.1 * (high - low)
    low, high = low - margin, high + margin
    records = []
    for t in range(n_frames):
        if not np.isfinite(xy[t]).all():
            continue  # the person is behind the camera: no detection
        keypoints = np.concatenate([xy[t], score[t][:, None]], axis=1).ravel()
        proposal = box_score[t] + score[t].mean() + 1.25 * score[t].max()
        records.append({
            "image_id": f"{t}.jpg",
            "category_id": 1,
            "keypoints": [round(float(v), 4) for v in keypoints],
            "score": round(float(proposal), 4),
            "box": [round(float(v), 2) for v in (*low[t], *(high[t] - low[t]))],
            "idx": 0,
        })
    return records


def _camera_description(camera) -> dict:
    return {
        "focal": camera.focal,
        "principal_point": list(camera.principal_point),
        "image_size": list(camera.image_size),
        "rotation": camera.rotation.tolist(),
        "translation": camera.translation.tolist(),
    }


def _write_json(path: Path, value: object) -> None:
    from posekit.core.atomic import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(value), encoding="utf-8")


def build_eval(
    split: str,
    *,
    mocap: Path,
    out: Path,
    seed: int = 0,
    cache: Path | None = None,
    workers: int = 1,
    progress: bool = True,
) -> Path:
    """Write the evaluation data of a split under ``<out>/<split>``; returns that folder."""
    from tqdm import tqdm

    from posekit.core.sequence import PoseSequence
    from posekit.jumps.normalize import PELVIS
    from training.camera import random_camera

    started = time.perf_counter()
    clips = split_clips(mocap, split)
    data, failures = load_clips(mocap, clips, cache_dir=cache, workers=workers, progress=progress)
    folder = Path(out) / split
    code_version = source_version((*EVAL_SOURCES, *CLIP_SOURCES))
    manifest = {"split": split, "seed": seed, "fps": TARGET_FPS, "skeleton": SKELETON,
                "conditions": list(CONDITIONS), "code_version": code_version,
                "git_commit": checkpoint.code_version()["git_commit"], "clips": {}}
    manifest["skipped_clips"] = failures
    for clip in tqdm(data, desc=f"eval {split}", unit="clip", disable=not progress):
        positions = data[clip].astype(np.float64)
        target = np.nanmean(positions[:, PELVIS], axis=0)
        camera = random_camera(clip_rng(seed, clip, "eval_camera"), target)
        truth = camera.project(positions)
        conditions = make_conditions(clip, truth, seed)
        attrs = {"clip": clip, "split": split, "seed": seed, "code_version": code_version,
                 "camera": json.dumps(_camera_description(camera))}
        source = str(clip_file(mocap, clip))
        for name, values in (("truth", truth), *((c, conditions[c]) for c in CONDITIONS)):
            sequence = PoseSequence.from_arrays(
                values.transpose(0, 2, 1)[..., None], skeleton=SKELETON, fps=TARGET_FPS,
                source_software="posekit training.build_eval", source_file=source,
            ).with_attrs(condition=name, **attrs)
            sequence.to_netcdf(folder / name / f"{clip}.nc")
        for name in ("upsample", "hpe"):
            if name == "upsample":
                observed, occluded = conditions["upsample"], np.zeros(truth.shape[:2], bool)
            else:
                observed, occluded = conditions["hpe_noisy"], conditions["hpe_occluded"]
            records = alphapose_records(clip, truth, observed, occluded, seed)
            _write_json(folder / f"{name}_alphapose" / f"{clip}.json", records)
        manifest["clips"][clip] = {
            "frames": len(truth),
            "frames_behind_camera": int((~np.isfinite(truth).all(axis=(1, 2))).sum()),
            "camera": _camera_description(camera),
        }
    manifest["frames"] = sum(c["frames"] for c in manifest["clips"].values())
    manifest["seconds"] = round(time.perf_counter() - started, 2)
    _write_json(folder / "manifest.json", manifest)
    print(f"wrote {folder}: {len(data)} clips, {manifest['frames']} frames, "
          f"{manifest['seconds']:.1f} s"
          + (f"; skipped clips {', '.join(failures)}" if failures else ""))
    return folder


def main(argv: Sequence[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(
        prog="python -m training.build_eval",
        description="Build evaluation inputs (upsample, hpe, dropout) and truth of a split.",
    )
    parser.add_argument("--split", required=True, choices=["train", "val", "test", "train-fit", "train-heldout"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mocap", type=Path, default=default_mocap_root(),
                        help="motion-capture folder (default: shared/mocap beside the repo)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "eval")
    parser.add_argument("--cache", type=Path, default=REPO_ROOT / "cache",
                        help="where the 3D clip cache lives")
    parser.add_argument("--no-clip-cache", action="store_true")
    parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1))
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    return build_eval(args.split, mocap=args.mocap, out=args.out, seed=args.seed,
                      cache=None if args.no_clip_cache else args.cache,
                      workers=args.workers, progress=not args.quiet)


if __name__ == "__main__":
    main()
