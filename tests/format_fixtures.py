"""A drawn person and small files of the format variants of issue 17, built in code.

:func:`person_2d` places every named body point of the supported 2D layouts on a
standing person (image coordinates, y down, facing the camera, so the person's left
is the image's right), so a file of any layout is the same person with its points in
that layout's order.
"""

from __future__ import annotations

import numpy as np

from posekit.plugins.registry import get_skeleton

#: Body points of a standing person about 400 px tall, facing the camera.
_POINTS: dict[str, tuple[float, float]] = {
    "head_top": (0, 0),
    "nose": (0, 32),
    "left_eye": (9, 24),
    "right_eye": (-9, 24),
    "left_ear": (20, 30),
    "right_ear": (-20, 30),
    "neck": (0, 70),
    "left_shoulder": (45, 76),
    "right_shoulder": (-45, 76),
    "left_elbow": (55, 142),
    "right_elbow": (-55, 142),
    "left_wrist": (60, 202),
    "right_wrist": (-60, 202),
    "chest": (0, 125),
    "mid_hip": (0, 212),
    "hip": (0, 212),
    "left_hip": (26, 212),
    "right_hip": (-26, 212),
    "left_knee": (27, 302),
    "right_knee": (-27, 302),
    "left_ankle": (26, 386),
    "right_ankle": (-26, 386),
    "left_big_toe": (20, 400),
    "right_big_toe": (-20, 400),
    "left_small_toe": (36, 398),
    "right_small_toe": (-36, 398),
    "left_heel": (27, 394),
    "right_heel": (-27, 394),
}
_POINTS["head"] = _POINTS["head_top"]


def person_2d(skeleton: str, n_frames: int = 4, *, x: float = 300.0, seed: int = 0) -> np.ndarray:
    """``(frames, keypoints, 2)`` points of the standing person in ``skeleton``'s order,
    swaying a little from frame to frame, centred at ``x``."""
    names = get_skeleton(skeleton).joint_names
    base = np.array([_POINTS[name] for name in names], dtype=np.float64)
    rng = np.random.default_rng(seed)
    sway = np.stack([np.linspace(0, 12, n_frames), np.zeros(n_frames)], axis=-1)
    noise = rng.normal(scale=1.5, size=(n_frames, len(names), 2))
    return base[None] + np.array([x, 50.0]) + sway[:, None] + noise


def openpose_frame(points: np.ndarray, score: float = 0.9) -> list[float]:
    """OpenPose's flat ``x, y, c`` list of one person's ``(keypoints, 2)`` points."""
    values = np.concatenate([points, np.full((len(points), 1), score)], axis=-1)
    return [round(float(v), 3) for v in values.ravel()]
