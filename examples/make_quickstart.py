"""Make the quick-start example: a synthetic 2D COCO-17 clip of two people walking.

Writes ``quickstart/walk.nc`` beside this script (or into the folder given as the
first argument). The clip is synthetic: stick figures whose legs and arms swing as in
walking, with detector-like noise and confidence, some joints of low confidence and
a few missing. Deterministic (fixed seed).

Usage::

    python examples/make_quickstart.py [FOLDER]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from posekit.core.sequence import PoseSequence
from posekit.plugins.registry import get_skeleton

FPS = 30
FRAMES = 90
SEED = 17

# Joint positions of a standing person in image pixels (y down), pelvis at the origin.
STANDING = {
    "nose": (0, -160), "left_eye": (6, -166), "right_eye": (-6, -166),
    "left_ear": (12, -162), "right_ear": (-12, -162),
    "left_shoulder": (22, -120), "right_shoulder": (-22, -120),
    "left_elbow": (26, -80), "right_elbow": (-26, -80),
    "left_wrist": (28, -42), "right_wrist": (-28, -42),
    "left_hip": (14, 0), "right_hip": (-14, 0),
    "left_knee": (15, 60), "right_knee": (-15, 60),
    "left_ankle": (16, 120), "right_ankle": (-16, 120),
}  # fmt: skip


def walker(start_x: float, speed: float, phase: float, rng: np.random.Generator) -> np.ndarray:
    """``(frames, 2, 17)`` positions of one person walking to the right."""
    names = get_skeleton("coco_17").joint_names
    base = np.array([STANDING[name] for name in names], dtype=float)
    frames = np.empty((FRAMES, 2, len(names)))
    for t in range(FRAMES):
        swing = np.sin(2 * np.pi * t / FPS + phase)  # one stride a second
        pose = base.copy()
        for side, sign in (("left", 1.0), ("right", -1.0)):
            pose[names.index(f"{side}_knee"), 0] += 18 * sign * swing
            pose[names.index(f"{side}_ankle"), 0] += 36 * sign * swing
            pose[names.index(f"{side}_elbow"), 0] -= 10 * sign * swing
            pose[names.index(f"{side}_wrist"), 0] -= 20 * sign * swing
        pose[:, 1] -= 4 * abs(swing)  # bob up at mid-stride
        pose += (start_x + speed * t, 400.0)
        frames[t] = (pose + rng.normal(scale=1.5, size=pose.shape)).T
    return frames


def make(folder: Path) -> Path:
    """Write ``walk.nc`` into ``folder`` and return its path."""
    rng = np.random.default_rng(SEED)
    position = np.stack([walker(100, 3.0, 0.0, rng), walker(400, 2.5, 1.3, rng)], axis=-1)
    confidence = rng.uniform(0.6, 1.0, size=(FRAMES, 17, 2))
    confidence[rng.random(confidence.shape) < 0.08] = 0.1  # unsure detections
    missing = rng.random(confidence.shape) < 0.02  # joints the detector did not find
    position[np.broadcast_to(missing[:, None], position.shape)] = np.nan
    confidence[missing] = np.nan
    sequence = PoseSequence.from_arrays(
        np.round(position, 2),
        np.round(confidence, 3),
        skeleton="coco_17",
        individuals=["walker_1", "walker_2"],
        fps=FPS,
        source_software="posekit examples/make_quickstart.py (synthetic)",
    )
    return sequence.to_netcdf(folder / "walk.nc")


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "quickstart"
    print(make(target))
