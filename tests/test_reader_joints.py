"""Which joint lands where: a one-person file whose joint k sits at ``(10 + k, 20 + k)``
with confidence ``0.1 + k / 40``, read by each JSON reader and remapped to
``mpi_inf_3dhp_28``, puts every COCO joint at the 28-joint slot of the same name with its
own value and confidence, marks nothing imputed, and leaves the other slots missing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pose_files import write_json

from posekit.io.alphapose import AlphaPoseReader
from posekit.io.coco import CocoReader
from posekit.io.mmpose import MMPoseReader
from posekit.plugins.registry import get_skeleton

COCO = list(get_skeleton("coco_17").joint_names)
TARGET = list(get_skeleton("mpi_inf_3dhp_28").joint_names)
SHARED = [name for name in COCO if name in TARGET]


def flat_keypoints() -> list[float]:
    values: list[float] = []
    for k in range(17):
        values += [10.0 + k, 20.0 + k, 0.1 + k / 40]
    return values


def mmpose_file() -> list[dict[str, Any]]:
    return [
        {
            "frame_id": 0,
            "instances": [
                {
                    "keypoints": [[10.0 + k, 20.0 + k] for k in range(17)],
                    "keypoint_scores": [0.1 + k / 40 for k in range(17)],
                    "bbox": [[0.0, 0.0, 50.0, 120.0]],
                    "bbox_score": 0.99,
                }
            ],
        }
    ]


FILES: dict[str, tuple[Callable[[], Any], Callable[[], Any]]] = {
    "alphapose": (
        lambda: [
            {"image_id": "0.jpg", "category_id": 1, "keypoints": flat_keypoints(), "score": 2.0}
        ],
        AlphaPoseReader,
    ),
    "coco-results": (
        lambda: [{"image_id": 0, "category_id": 1, "keypoints": flat_keypoints(), "score": 0.9}],
        lambda: CocoReader(skeleton="coco_17"),
    ),
    "mmpose": (mmpose_file, lambda: MMPoseReader(skeleton="coco_17")),
}


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_joint_lands_at_its_name_with_its_confidence(name: str, tmp_path: Path) -> None:
    build, reader = FILES[name]
    seq = reader().read(write_json(tmp_path / "a.json", build()))
    assert seq.skeleton == "coco_17" and seq.keypoints == COCO
    out = seq.remap("mpi_inf_3dhp_28")
    position, confidence = out.positions()[0, 0], out.confidences()[0, 0]
    assert len(SHARED) == 12
    for joint in SHARED:
        k, slot = COCO.index(joint), TARGET.index(joint)
        assert position[slot].tolist() == [10.0 + k, 20.0 + k], joint
        assert confidence[slot] == pytest.approx(0.1 + k / 40), joint
    others = [TARGET.index(j) for j in TARGET if j not in SHARED]
    assert np.isnan(position[others]).all() and np.isnan(confidence[others]).all()
    assert not out.imputed_flags().any()
