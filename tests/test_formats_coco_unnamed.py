"""COCO-style annotations whose category names no keypoints (Halpe), issue 17."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from posekit.core.errors import PoseFileError
from posekit.io.coco import CocoReader


def halpe_annotations(n_keypoints: int, *, names: list[str] | None = None) -> dict[str, Any]:
    """Two images, one person each; the category names no keypoints unless given."""
    category: dict[str, Any] = {"supercategory": "person", "id": 1, "name": "person"}
    if names is not None:
        category["keypoints"] = names
    annotations = [
        {
            "image_id": image,
            "category_id": 1,
            "keypoints": [v for k in range(n_keypoints) for v in (10.0 * image + k, k, 2)],
        }
        for image in (1, 2)
    ]
    images = [{"id": i, "file_name": f"{i:04d}.jpg"} for i in (1, 2)]
    return {"images": images, "annotations": annotations, "categories": [category]}


def write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("names", [None, []])
def test_without_names_the_message_says_to_name_the_skeleton(
    tmp_path: Path, names: list[str] | None
) -> None:
    path = write(tmp_path / "halpe.json", halpe_annotations(136, names=names))
    with pytest.raises(PoseFileError, match=r"names no keypoints.*136 keypoints.*'skeleton'.*halpe_26"):
        CocoReader().read(path)


def test_without_names_the_skeleton_gives_them(tmp_path: Path) -> None:
    path = write(tmp_path / "halpe.json", halpe_annotations(136, names=[]))
    seq = CocoReader(skeleton="halpe_26").read(path)
    assert seq.skeleton == "halpe_26" and seq.n_keypoints == 26 and seq.n_frames == 2
    assert seq.positions()[0, 1, 25].tolist() == [45.0, 25.0]


def test_without_names_a_skeleton_of_another_size_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "halpe.json", halpe_annotations(26))
    with pytest.raises(PoseFileError, match="26 keypoints per person do not fit skeleton 'coco_17'"):
        CocoReader(skeleton="coco_17").read(path)
    assert CocoReader(skeleton="halpe_26").read(path).n_keypoints == 26


def test_named_keypoints_still_need_the_right_count(tmp_path: Path) -> None:
    data = halpe_annotations(18, names=[f"k{i}" for i in range(17)])
    with pytest.raises(PoseFileError, match="expected 51"):
        CocoReader().read(write(tmp_path / "a.json", data))
