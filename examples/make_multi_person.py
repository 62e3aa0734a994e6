"""Make the multi-person example: two CMU test-split walks crossing in one camera, one
walker leaving the frame, written as AlphaPose writes results without ``--pose_track``.

Two walks (``16_32`` and ``16_16``) are turned to walk across one static camera in
opposite directions: the first 4 m from the camera, left to right; the second 2.7 m
from it, right to left, so it passes in front of the first and walks out of the
image's left edge. Each walker is projected and written with the evaluation protocol's
AlphaPose writer (:func:`training.build_eval.alphapose_records`: the 12 body joints of
COCO-17 with noise and occlusion bursts, occluded joints written with a low score),
then as a real detector would see them:

- the far walker is not detected while the near one covers most of its box;
- keypoints outside the image get score 0 (at the image's border), and a walker whose
  hips are outside the image is not detected;
- every record has ``"idx": 0``, as AlphaPose writes without a tracker, and the records
  of a frame come in order of their score; so nothing in the file says who is who.

The ground truth (28 joints, 2D, ``id_0`` the far walker, ``id_1`` the near one) is
written beside it. Needs the CMU data in ``../shared/mocap`` (``--mocap``); the outputs
are committed, so users never run this. The data used in this project was obtained from
mocap.cs.cmu.edu; the database was created with funding from NSF EIA-0196217.

Example::

    PYTHONPATH=. python examples/make_multi_person.py   # from the repository root
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from make_example import write_json

from training.build_eval import alphapose_records, make_conditions
from training.mocap import SKELETON, TARGET_FPS, clip_file, default_mocap_root, load_clips

#: The walks: (clip, start x of the pelvis in metres, distance from the camera, direction).
WALKERS = (("16_32", -2.3, 4.0, 1.0), ("16_16", 0.9, 2.7, -1.0))
SEED = 0
FOLDER = Path(__file__).resolve().parent / "multi_person"
#: Fraction of the far walker's box the near one must cover to hide it.
HIDDEN_BEHIND = 0.6
IMAGE_SIZE = (1920, 1080)


def camera():
    """The static camera: 1 m above the floor, looking along -z, focal 1000 px."""
    from training.camera import PinholeCamera

    return PinholeCamera.look_at(
        eye=(0.0, 1.0, 0.0), target=(0.0, 1.0, -1.0), focal=1000.0, image_size=IMAGE_SIZE
    )


def placed(positions: np.ndarray, start_x: float, distance: float, direction: float) -> np.ndarray:
    """``(T, 28, 3)`` a walk turned to head along ``direction`` × x, its pelvis starting
    at ``x = start_x``, ``distance`` metres in front of the camera (at z = -distance)."""
    from posekit.jumps.normalize import PELVIS

    pelvis = positions[:, PELVIS]
    heading = pelvis[-1] - pelvis[0]
    angle = np.arctan2(heading[2], heading[0])  # heading's angle from +x in the xz plane
    if direction < 0:
        angle -= np.pi
    cos, sin = np.cos(angle), np.sin(angle)
    turn = np.array([[cos, 0.0, sin], [0.0, 1.0, 0.0], [-sin, 0.0, cos]])  # about y
    turned = (positions - pelvis[0] * [1, 0, 1]) @ turn.T
    return turned + [start_x, 0.0, -distance]


def walkers_truth(mocap: Path) -> np.ndarray:
    """``(T, 2, 28, 2)`` both walkers as the camera sees them (NaN after a walk ends)."""
    clips, failures = load_clips(mocap, [w[0] for w in WALKERS], progress=False)
    if failures:
        raise SystemExit(f"cannot read clips: {failures}")
    n_frames = max(len(clips[w[0]]) for w in WALKERS)
    truth = np.full((n_frames, len(WALKERS), 28, 2), np.nan)
    for i, (clip, start_x, distance, direction) in enumerate(WALKERS):
        world = placed(clips[clip].astype(np.float64), start_x, distance, direction)
        truth[: len(world), i] = camera().project(world)
    return truth


def _box(points: np.ndarray) -> np.ndarray:
    return np.concatenate([np.nanmin(points, axis=0), np.nanmax(points, axis=0)])


def _covered(far: np.ndarray, near: np.ndarray) -> float:
    """Fraction of box ``far`` (x0, y0, x1, y1) inside box ``near``."""
    low, high = np.maximum(far[:2], near[:2]), np.minimum(far[2:], near[2:])
    inside = np.prod(np.clip(high - low, 0.0, None))
    return float(inside / np.prod(far[2:] - far[:2]))


def detections(truth: np.ndarray) -> list[dict]:
    """AlphaPose records of both walkers, as a detector without a tracker writes them."""
    from posekit.plugins.registry import get_skeleton

    hips = get_skeleton(SKELETON).indices(["left_hip", "right_hip"])
    width, height = IMAGE_SIZE
    frames: dict[int, list[dict]] = {}
    for i, (clip, *_) in enumerate(WALKERS):
        walk = truth[:, i]
        frames_of_walk = np.flatnonzero(np.isfinite(walk).all(axis=(1, 2)))
        conditions = make_conditions(clip, walk[frames_of_walk], SEED)
        records = alphapose_records(
            clip, walk[frames_of_walk], conditions["hpe_noisy"], conditions["hpe_occluded"], SEED
        )
        for record in records:
            frame = int(frames_of_walk[int(record["image_id"].split(".")[0])])
            hip = walk[frame, hips].mean(axis=0)
            if not (0 <= hip[0] < width and 0 <= hip[1] < height):
                continue  # out of the image: not detected
            near = truth[frame, 1]
            in_front = i == 0 and np.isfinite(near).all()
            if in_front and _covered(_box(walk[frame]), _box(near)) > HIDDEN_BEHIND:
                continue  # behind the near walker
            values = np.array(record["keypoints"]).reshape(-1, 3)
            outside = ~((values[:, 0] >= 0) & (values[:, 0] < width)
                        & (values[:, 1] >= 0) & (values[:, 1] < height))  # fmt: skip
            values[:, 0] = np.clip(values[:, 0], 0, width - 1)
            values[:, 1] = np.clip(values[:, 1], 0, height - 1)
            values[outside, 2] = 0.0
            record["keypoints"] = [round(float(v), 4) for v in values.ravel()]
            record["image_id"] = f"{frame}.jpg"
            record["idx"] = 0  # AlphaPose without --pose_track
            frames.setdefault(frame, []).append(record)
    return [
        record
        for frame in sorted(frames)
        for record in sorted(frames[frame], key=lambda r: -r["score"])
    ]


def truth_sequence(truth: np.ndarray, mocap: Path):
    """The ground truth as a 28-joint :class:`~posekit.core.sequence.PoseSequence`."""
    from posekit.core.sequence import PoseSequence

    sources = ", ".join(str(clip_file(mocap, w[0])) for w in WALKERS)
    return PoseSequence.from_arrays(
        truth.transpose(0, 3, 2, 1), skeleton=SKELETON, fps=TARGET_FPS,
        source_software="posekit examples/make_multi_person.py", source_file=sources,
    ).with_attrs(clip=" + ".join(w[0] for w in WALKERS))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mocap", type=Path, default=default_mocap_root())
    args = parser.parse_args()

    truth = walkers_truth(args.mocap)
    write_json(FOLDER / "alphapose-results.json", detections(truth))
    truth_sequence(truth, args.mocap).to_netcdf(FOLDER / "truth.nc")
    print(f"wrote {FOLDER}: {len(truth)} frames")


if __name__ == "__main__":
    main()
