"""Small pose-estimator files for the reader tests, built in code (no copied data).

Each builder returns the JSON-ready data (or CSV text) of a short, valid file in the
estimator's layout; tests write it with :func:`write_json` and tweak copies of it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from posekit.plugins.registry import get_registry, get_skeleton


def write_json(path: Path, data: Any) -> Path:
    """Write ``data`` as JSON and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def claimants(path: Path) -> list[str]:
    """Registered readers that claim ``path`` by suffix and content (sniff)."""
    return sorted(
        name
        for name, entry in get_registry().readers.items()
        if path.suffix in entry.cls.suffixes and entry.cls.sniff(path)
    )


def keypoint_values(n: int, base: float, score: float = 0.9) -> list[float]:
    """``x, y, score`` for ``n`` keypoints: x = base + k, y = 2 base + k."""
    values: list[float] = []
    for k in range(n):
        values += [base + k, 2 * base + k, score]
    return values


def alphapose_records(n_keypoints: int = 17, *, tracked: bool = False) -> list[dict[str, Any]]:
    """Frames 0, 1 and 3 (2 is empty); two people in frames 0 and 1, one in 3.

    In frame 1 the people come in the other order and with swapped scores, so the
    score ranking and the track ids disagree about who comes first.
    """
    people = [
        ("0.jpg", 100.0, 2.9, 1),
        ("0.jpg", 300.0, 1.1, 2),
        ("1.jpg", 301.0, 3.0, 2),
        ("1.jpg", 101.0, 1.0, 1),
        ("3.jpg", 103.0, 2.0, 1),
    ]
    records = []
    for image_id, base, score, idx in people:
        record = {
            "image_id": image_id,
            "category_id": 1,
            "keypoints": keypoint_values(n_keypoints, base),
            "score": score,
            "box": [base, base, 50.0, 120.0],
        }
        if tracked:
            record["idx"] = [[float(idx)]]
        records.append(record)
    return records


def openpose_frame(people: list[tuple[float, int]], n_keypoints: int = 25) -> dict[str, Any]:
    """One OpenPose frame: a person per ``(base, person_id)``."""
    return {
        "version": 1.3,
        "people": [
            {
                "person_id": [person_id],
                "pose_keypoints_2d": keypoint_values(n_keypoints, base),
                "face_keypoints_2d": [],
                "hand_left_keypoints_2d": [],
                "hand_right_keypoints_2d": [],
            }
            for base, person_id in people
        ],
    }


def write_openpose_folder(folder: Path, frames: dict[int, dict[str, Any]]) -> Path:
    """Write ``clip_<frame>_keypoints.json`` files into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for frame, data in frames.items():
        write_json(folder / f"clip_{frame:012d}_keypoints.json", data)
    return folder


def mmpose_instance(
    base: float, n_keypoints: int = 17, score: float = 0.8, dims: int = 2
) -> dict[str, Any]:
    """One MMPose instance (``split_instances`` layout, bbox as MMPose nests it)."""
    point = [base, 2 * base, 3 * base][:dims]
    return {
        "keypoints": [[v + k for v in point] for k in range(n_keypoints)],
        "keypoint_scores": [score] * n_keypoints,
        "bbox": [[base, base, base + 50.0, base + 120.0]],
        "bbox_score": 0.99,
    }


def mmpose_video(n_keypoints: int = 17, dims: int = 2) -> list[dict[str, Any]]:
    """MMPoseInferencer video predictions: frames 0..2, frame 1 empty."""
    return [
        {
            "frame_id": 0,
            "instances": [
                mmpose_instance(10.0, n_keypoints, 0.5, dims),
                mmpose_instance(50.0, n_keypoints, 0.9, dims),
            ],
        },
        {"frame_id": 1, "instances": []},
        {"frame_id": 2, "instances": [mmpose_instance(12.0, n_keypoints, 0.7, dims)]},
    ]


def coco_annotations() -> dict[str, Any]:
    """A COCO keypoint annotation file: three images (ids out of order), a crowd
    region without keypoints, two people in one image."""
    names = list(get_skeleton("coco_17").joint_names)

    def annotation(ann_id: int, image_id: int, base: float, v: int) -> dict[str, Any]:
        keypoints = []
        for k in range(17):
            visible = 0 if k == 0 else v
            keypoints += [0, 0, 0] if visible == 0 else [base + k, 2 * base + k, visible]
        return {
            "id": ann_id,
            "image_id": image_id,
            "category_id": 1,
            "keypoints": keypoints,
            "num_keypoints": 16,
            "iscrowd": 0,
            "bbox": [base, base, 40, 90],
        }

    crowd = {
        "id": 9,
        "image_id": 20,
        "category_id": 1,
        "keypoints": [0] * 51,
        "num_keypoints": 0,
        "iscrowd": 1,
    }
    return {
        "info": {"description": "posekit test"},
        "images": [
            {"id": 30, "file_name": "frame_0001.jpg", "width": 640, "height": 480},
            {"id": 10, "file_name": "frame_0003.jpg", "width": 640, "height": 480},
            {"id": 20, "file_name": "frame_0002.jpg", "width": 640, "height": 480},
        ],
        "annotations": [
            annotation(1, 10, 100.0, 2),
            annotation(2, 10, 300.0, 1),
            crowd,
            annotation(3, 30, 110.0, 2),
        ],
        "categories": [
            {
                "id": 1,
                "name": "person",
                "supercategory": "person",
                "keypoints": names,
                "skeleton": [[16, 14], [14, 12]],
            },
        ],
    }


def coco_results() -> list[dict[str, Any]]:
    """COCO keypoint results: images 5 and 9, two people in image 5."""
    return [
        {"image_id": 5, "category_id": 1, "keypoints": keypoint_values(17, 10.0), "score": 0.4},
        {"image_id": 5, "category_id": 1, "keypoints": keypoint_values(17, 50.0), "score": 0.8},
        {"image_id": 9, "category_id": 1, "keypoints": keypoint_values(17, 12.0), "score": 0.7},
    ]


DLC_SINGLE = """scorer,DLC_resnet50_testJan1shuffle1_100,DLC_resnet50_testJan1shuffle1_100,DLC_resnet50_testJan1shuffle1_100,DLC_resnet50_testJan1shuffle1_100,DLC_resnet50_testJan1shuffle1_100,DLC_resnet50_testJan1shuffle1_100
bodyparts,snout,snout,snout,tailbase,tailbase,tailbase
coords,x,y,likelihood,x,y,likelihood
0,10.5,20.5,0.99,30.0,40.0,0.2
1,11.5,21.5,0.98,31.0,41.0,0.95
3,,,,33.0,43.0,0.9
"""

DLC_MULTI = """scorer,net,net,net,net,net,net,net,net,net
individuals,mouse1,mouse1,mouse1,mouse2,mouse2,mouse2,single,single,single
bodyparts,snout,snout,snout,snout,snout,snout,corner,corner,corner
coords,x,y,likelihood,x,y,likelihood,x,y,likelihood
0,1.0,2.0,0.9,5.0,6.0,0.8,100.0,100.0,1.0
1,1.5,2.5,0.9,5.5,6.5,0.7,100.0,100.0,1.0
"""

DLC_LABELLED = """scorer,,,alex,alex,alex,alex
bodyparts,,,snout,snout,tailbase,tailbase
coords,,,x,y,x,y
labeled-data,session1,img0004.png,10.0,20.0,,
labeled-data,session1,img0012.png,11.0,21.0,31.0,41.0
"""
