"""Make the shipped example: CMU test-split clip 02_05 seen by a pose estimator.

The 3D motion is projected with the evaluation protocol's seeded camera (the same one
``training.build_eval`` uses for that clip) and written as AlphaPose results: the 12 body
joints of COCO-17 with Gaussian noise of 0.05 head sizes and occlusion bursts, where
occluded joints are not missing but low-confidence, as AlphaPose writes them. The
ground truth (28 joints, 2D) is written beside it for ``posekit evaluate``.

Needs the CMU data in ``../shared/mocap`` (``--mocap``); the outputs are committed, so
users never run this. The data used in this project was obtained from
mocap.cs.cmu.edu; the database was created with funding from NSF EIA-0196217.

Example::

    PYTHONPATH=. python examples/make_example.py   # from the repository root
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from training.build_eval import SKELETON, TARGET_FPS, alphapose_records, make_conditions
from training.mocap import clip_file, clip_rng, default_mocap_root, load_clips

CLIP = "02_05"
SEED = 0
FOLDER = Path(__file__).resolve().parent / f"cmu_{CLIP}"


def projected_truth(clip: str, mocap: Path, seed: int = SEED) -> np.ndarray:
    """``(T, 28, 2)`` a test clip as the evaluation protocol's seeded camera sees it."""
    from posekit.jumps.normalize import PELVIS
    from training.camera import random_camera

    clips, failures = load_clips(mocap, [clip], progress=False)
    if failures:
        raise SystemExit(f"cannot read clip {clip}: {failures}")
    positions = clips[clip].astype(np.float64)
    target = np.nanmean(positions[:, PELVIS], axis=0)
    camera = random_camera(clip_rng(seed, clip, "eval_camera"), target)
    return camera.project(positions)


def truth_sequence(truth: np.ndarray, clip: str, mocap: Path, script: str):
    """The ground truth as a 28-joint :class:`~posekit.core.sequence.PoseSequence`."""
    from posekit.core.sequence import PoseSequence

    return PoseSequence.from_arrays(
        truth.transpose(0, 2, 1)[..., None], skeleton=SKELETON, fps=TARGET_FPS,
        source_software=f"posekit {script}", source_file=str(clip_file(mocap, clip)),
    ).with_attrs(clip=clip)


def alphapose_example(clip: str, mocap: Path, seed: int = SEED) -> tuple[list[dict], np.ndarray]:
    """AlphaPose records of a clip (the ``hpe`` condition: noise and occlusion bursts)
    and its ``(T, 28, 2)`` ground truth."""
    truth = projected_truth(clip, mocap, seed)
    conditions = make_conditions(clip, truth, seed)
    records = alphapose_records(
        clip, truth, conditions["hpe_noisy"], conditions["hpe_occluded"], seed
    )
    return records, truth


def write_json(path: Path, value: object) -> None:
    """Write JSON atomically."""
    from posekit.core.atomic import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(value))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mocap", type=Path, default=default_mocap_root())
    args = parser.parse_args()

    records, truth = alphapose_example(CLIP, args.mocap)
    write_json(FOLDER / "alphapose-results.json", records)
    truth_sequence(truth, CLIP, args.mocap, "examples/make_example.py").to_netcdf(
        FOLDER / "truth.nc"
    )
    print(f"wrote {FOLDER}: {len(truth)} frames")


if __name__ == "__main__":
    main()
