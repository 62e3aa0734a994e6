"""Make the OpenPose example: CMU test-split clip 124_01 as a folder of BODY_25 files.

The 3D motion is projected with the evaluation protocol's seeded camera (as
``examples/make_example.py`` does), the 28 joints get detector-like noise (0.05 head
sizes), occlusion bursts (the protocol's) and one long occlusion (the right arm hidden
for a second, as behind the body), then are expressed in OpenPose's BODY_25 layout
with posekit's ``remap`` and written with posekit's OpenPose writer: one
``cmu_124_01_<frame>_keypoints.json`` a frame, occluded joints written ``0, 0, 0`` as
OpenPose writes joints it did not find. BODY_25 points the 28-joint layout cannot give
(nose, eyes, ears, heels, small toes) are not found either. The ground truth (28
joints) is written beside it.

Needs the CMU data in ``../shared/mocap`` (``--mocap``); the outputs are committed, so
users never run this. The data used in this project was obtained from
mocap.cs.cmu.edu; the database was created with funding from NSF EIA-0196217.

Example::

    PYTHONPATH=. python examples/make_openpose_occlusions.py   # from the repository root
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from make_example import projected_truth, truth_sequence

from posekit.ops.metrics import head_size
from training.build_eval import HEAD_JOINTS, HPE_NOISE, VISIBLE_SCORE, occlusion_mask
from training.mocap import SKELETON, TARGET_FPS, clip_rng, default_mocap_root

CLIP = "124_01"
SEED = 0
FOLDER = Path(__file__).resolve().parent / "openpose_occlusions"
#: The long occlusion: these joints are hidden in frames [start, stop).
HIDDEN_JOINTS = ("right_shoulder", "right_elbow", "right_wrist", "right_hand")
HIDDEN_FRAMES = (60, 90)


def openpose_sequence(truth: np.ndarray, clip: str = CLIP, seed: int = SEED):
    """The BODY_25 :class:`~posekit.core.sequence.PoseSequence` a detector would give."""
    from posekit.core.sequence import PoseSequence
    from posekit.plugins.registry import get_skeleton

    rng = clip_rng(seed, clip, "eval_hpe")
    heads = head_size(truth, *get_skeleton(SKELETON).indices(HEAD_JOINTS))
    noisy = truth + rng.normal(size=truth.shape) * (HPE_NOISE * heads)[:, None, None]
    hidden = occlusion_mask(rng, truth.shape[:2])
    hidden[slice(*HIDDEN_FRAMES), get_skeleton(SKELETON).indices(HIDDEN_JOINTS)] = True
    position = np.where(hidden[..., None], np.nan, noisy)
    confidence = np.where(hidden, np.nan, rng.uniform(*VISIBLE_SCORE, size=hidden.shape))
    sequence = PoseSequence.from_arrays(
        np.round(position.transpose(0, 2, 1)[..., None], 2),
        np.round(confidence[..., None], 3),
        skeleton=SKELETON,
        fps=TARGET_FPS,
    )
    return sequence.remap("body_25")


def main() -> None:
    from posekit.io.openpose import OpenPoseWriter

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mocap", type=Path, default=default_mocap_root())
    args = parser.parse_args()

    truth = projected_truth(CLIP, args.mocap, SEED)
    OpenPoseWriter().write(openpose_sequence(truth), FOLDER / f"cmu_{CLIP}")
    script = "examples/make_openpose_occlusions.py"
    truth_sequence(truth, CLIP, args.mocap, script).to_netcdf(FOLDER / "truth.nc")
    print(f"wrote {FOLDER}: {len(truth)} frames")


if __name__ == "__main__":
    main()
