"""COCO reader: annotation files (visibility flags, image order) and results files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pose_files import (
    alphapose_records,
    claimants,
    coco_annotations,
    coco_results,
    keypoint_values,
    write_json,
)

from posekit.core.errors import PoseFileError
from posekit.io.coco import CocoReader
from posekit.plugins.registry import get_registry


def test_registered_and_detected(tmp_path: Path) -> None:
    annotations = write_json(tmp_path / "person_keypoints.json", coco_annotations())
    results = write_json(tmp_path / "results.json", coco_results())
    alphapose = write_json(tmp_path / "alphapose-results.json", alphapose_records())
    assert get_registry().entry("reader", "coco").cls is CocoReader
    assert claimants(annotations) == ["coco"]
    assert claimants(results) == ["coco"]
    assert "coco" not in claimants(alphapose)


def test_annotations_frames_by_image_id(tmp_path: Path) -> None:
    # the fixture's people move more than their size: ranks, not tracks
    seq = CocoReader(tracking="rank").read(write_json(tmp_path / "a.json", coco_annotations()))
    assert seq.skeleton == "coco_17" and seq.n_frames == 3
    # image ids 10, 20, 30 are frames 0, 1, 2; the crowd annotation (image 20) is skipped
    assert seq.individuals == ["id_0", "id_1"]
    x = seq.positions()[:, :, 1, 0]
    assert x[0].tolist()[0] == 101.0 and x[1, 0] == 301.0
    assert np.isnan(x[:, 1]).all() and x[0, 2] == 111.0
    assert seq.dataset.attrs["source_software"] == "COCO"


def test_annotations_frames_by_file_name(tmp_path: Path) -> None:
    seq = CocoReader(frame_order="file_name", tracking="rank").read(
        write_json(tmp_path / "a.json", coco_annotations())
    )
    x = seq.positions()[0, :, 1, 0]
    assert x[0] == 111.0 and np.isnan(x[1]) and x[2] == 101.0


def test_visibility_flags(tmp_path: Path) -> None:
    seq = CocoReader().read(write_json(tmp_path / "a.json", coco_annotations()))
    positions, confidences = seq.positions(), seq.confidences()
    assert np.isnan(positions[0, 0, 0]).all() and np.isnan(confidences[0, 0, 0])  # v = 0
    assert confidences[0, 0, 1] == 1.0  # v = 2
    assert confidences[1, 0, 1] == 0.5 and np.isfinite(positions[1, 0, 1]).all()  # v = 1
    visible = CocoReader(confidence_threshold=0.75).read(
        write_json(tmp_path / "b.json", coco_annotations())
    )
    assert np.isnan(visible.positions()[1, 0]).all() and visible.confidences()[1, 0, 1] == 0.5


def test_remap(tmp_path: Path) -> None:
    seq = CocoReader().read(write_json(tmp_path / "a.json", coco_annotations()))
    assert seq.remap("mpi_inf_3dhp_28").n_keypoints == 28


def test_track_ids(tmp_path: Path) -> None:
    data = coco_annotations()
    for annotation, track in zip(data["annotations"], [4, 2, 9, 2], strict=True):
        annotation["track_id"] = track
    seq = CocoReader().read(write_json(tmp_path / "a.json", data))
    assert seq.individuals == ["id_2", "id_4"]
    assert seq.positions()[0, :, 1, 0][[0, 2]].tolist() == [301.0, 111.0]


def test_a_negative_track_id_means_untracked(tmp_path: Path) -> None:
    """As in OpenPose and AlphaPose files: the ids are not used, the tracking option
    assigns them (rank here) and the provenance log says so."""
    data = coco_annotations()
    for annotation, track in zip(data["annotations"], [4, -1, 9, 2], strict=True):
        annotation["track_id"] = track
    seq = CocoReader(tracking="rank").read(write_json(tmp_path / "a.json", data))
    assert all(not name.startswith("id_-") for name in seq.individuals)
    assert [e["stage"] for e in seq.log].count("individuals") == 1


def test_custom_keypoint_names(tmp_path: Path) -> None:
    data = {
        "images": [{"id": 1, "file_name": "a.jpg"}],
        "annotations": [
            {"image_id": 1, "category_id": 3, "keypoints": [1, 2, 2, 3, 4, 2, 0, 0, 0]}
        ],
        "categories": [{"id": 3, "name": "mouse", "keypoints": ["snout", "ear", "tail"]}],
    }
    seq = CocoReader().read(write_json(tmp_path / "a.json", data))
    assert seq.skeleton is None and seq.keypoints == ["snout", "ear", "tail"]


def test_category_choice(tmp_path: Path) -> None:
    data = coco_annotations()
    data["categories"].append({"id": 2, "name": "dog", "keypoints": ["a", "b"]})
    path = write_json(tmp_path / "a.json", data)
    with pytest.raises(PoseFileError, match="pass 'category_id'"):
        CocoReader().read(path)
    assert CocoReader(category_id=1).read(path).skeleton == "coco_17"


def test_results_frames_are_distinct_ids_ranked_by_score(tmp_path: Path) -> None:
    path = write_json(tmp_path / "r.json", coco_results())
    seq = CocoReader(tracking="rank").read(path)
    assert seq.skeleton == "coco_17" and seq.n_frames == 2
    x = seq.positions()[:, :, 0, 0]
    assert x[:, 0].tolist() == [50.0, 10.0] and x[0, 1] == 12.0
    tracked = CocoReader().read(path).positions()[:, :, 0, 0]  # the person at 10 moved to 12
    assert tracked[:, 0].tolist() == [50.0, 10.0] and tracked[1, 1] == 12.0
    assert np.isnan(tracked[0, 1])


def test_results_whole_body_and_category_filter(tmp_path: Path) -> None:
    results = coco_results()
    for result in results:
        result["keypoints"] = keypoint_values(133, result["keypoints"][0])
    results.append(
        {"image_id": 6, "category_id": 2, "keypoints": keypoint_values(133, 1.0), "score": 1.0}
    )
    seq = CocoReader(category_id=1).read(write_json(tmp_path / "r.json", results))
    assert seq.skeleton == "coco_wholebody_23" and seq.n_keypoints == 23 and seq.n_frames == 2


def test_results_have_no_file_names(tmp_path: Path) -> None:
    with pytest.raises(PoseFileError, match="no file names"):
        CocoReader(frame_order="file_name").read(write_json(tmp_path / "r.json", coco_results()))


def test_frame_order_is_checked() -> None:
    with pytest.raises(ValueError, match="frame_order"):
        CocoReader(frame_order="date")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("edit", "record", "field", "message"),
    [
        (
            lambda d: d["annotations"][1].update(image_id=99),
            "annotations[1]",
            "image_id",
            "no image with id 99",
        ),
        (
            lambda d: d["annotations"][3]["keypoints"].pop(),
            "annotations[3]",
            "keypoints",
            "50 values",
        ),
        (
            lambda d: d["annotations"][0]["keypoints"].__setitem__(3, "1"),
            "annotations[0]",
            "keypoints",
            "numbers",
        ),
        (
            lambda d: d["annotations"][0].update(image_id=[10]),
            "annotations[0]",
            "image_id",
            "expected an id",
        ),
        (lambda d: d["images"][1].pop("id"), "images[1]", "id", "distinct id"),
        (lambda d: d.update(images={}), None, "images", "not a list"),
        (lambda d: d.pop("categories"), None, "categories", "not a list"),
        (
            lambda d: d["categories"][0].update(keypoints=["a", "a"]),
            "category 1",
            "keypoints",
            "distinct",
        ),
    ],
)
def test_malformed_annotations(
    tmp_path: Path, edit, record: str | None, field: str, message: str
) -> None:
    data = coco_annotations()
    edit(data)
    path = write_json(tmp_path / "a.json", data)
    with pytest.raises(PoseFileError, match=message) as caught:
        CocoReader().read(path)
    assert (caught.value.path, caught.value.record, caught.value.field) == (
        str(path),
        record,
        field,
    )


@pytest.mark.parametrize(
    ("edit", "record", "field", "message"),
    [
        (lambda r: r[1].update(score="high"), "[1]", "score", "number"),
        (lambda r: r[2].update(keypoints=[1.0] * 50), "[2]", "keypoints", "50 values"),
        (lambda r: r[0].update(keypoints=[1.0] * 50), "[0]", "keypoints", "50 values"),
        (lambda r: r[2].update(image_id="9"), None, "image_id", "mix numbers and strings"),
    ],
)
def test_malformed_results(
    tmp_path: Path, edit, record: str | None, field: str, message: str
) -> None:
    results = coco_results()
    edit(results)
    path = write_json(tmp_path / "r.json", results)
    with pytest.raises(PoseFileError, match=message) as caught:
        CocoReader().read(path)
    assert (caught.value.record, caught.value.field) == (record, field)


def test_no_labelled_keypoint(tmp_path: Path) -> None:
    data = coco_annotations()
    data["annotations"] = [data["annotations"][2]]  # the crowd region only
    with pytest.raises(PoseFileError, match="no annotation with a labelled keypoint"):
        CocoReader().read(write_json(tmp_path / "a.json", data))


@pytest.mark.parametrize("keypoints", [True, 3, "nose", {"a": 1}])
def test_category_keypoints_that_are_not_a_list_are_refused(tmp_path: Path, keypoints) -> None:
    """Found by the fuzz test: ``keypoints: true`` in the category crashed the reader."""
    data = coco_annotations()
    data["categories"][0]["keypoints"] = keypoints
    path = write_json(tmp_path / "a.json", data)
    with pytest.raises(PoseFileError, match="keypoint names"):
        CocoReader().read(path)
