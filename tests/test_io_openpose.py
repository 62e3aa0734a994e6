"""OpenPose reader: per-frame folders, layouts, person ids, missing keypoints, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pose_files import claimants, keypoint_values, openpose_frame, write_json, write_openpose_folder

from posekit.core.errors import PoseFileError
from posekit.io.openpose import OpenPoseReader
from posekit.plugins.registry import get_registry


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Frames 0, 1, 3 with people, 4 with nobody, no file for frame 2."""
    return write_openpose_folder(
        tmp_path / "clip_json",
        {
            0: openpose_frame([(100.0, -1), (300.0, -1)]),
            1: openpose_frame([(301.0, -1), (101.0, -1)]),
            3: openpose_frame([(103.0, -1)]),
            4: openpose_frame([]),
        },
    )


def test_registered_and_detected(folder: Path) -> None:
    assert get_registry().entry("reader", "openpose").cls is OpenPoseReader
    assert claimants(folder) == ["openpose"]
    assert claimants(folder / "clip_000000000000_keypoints.json") == ["openpose"]


def test_frames_from_file_names_gaps_and_empty_frames(folder: Path) -> None:
    seq = OpenPoseReader(fps=30).read(folder)
    assert seq.skeleton == "body_25" and seq.n_keypoints == 25
    assert seq.n_frames == 5 and seq.fps == 30.0
    positions = seq.positions()
    assert np.isnan(positions[:, 2]).all() and np.isnan(positions[:, 4]).all()
    assert seq.dataset.attrs["source_software"] == "OpenPose"


def test_untracked_people_by_order_in_the_frame_with_tracking_rank(folder: Path) -> None:
    seq = OpenPoseReader(tracking="rank").read(folder)
    assert seq.individuals == ["id_0", "id_1"]
    assert seq.positions()[:, :2, 0, 0].tolist() == [[100.0, 301.0], [300.0, 101.0]]


def test_person_ids_make_the_individuals(tmp_path: Path) -> None:
    folder = write_openpose_folder(
        tmp_path / "f",
        {
            0: openpose_frame([(100.0, 3), (300.0, 5)]),
            1: openpose_frame([(301.0, 5), (101.0, 3)]),
        },
    )
    seq = OpenPoseReader().read(folder)
    assert seq.individuals == ["id_3", "id_5"]
    assert seq.positions()[:, :, 0, 0].tolist() == [[100.0, 101.0], [300.0, 301.0]]


def test_plain_number_person_id(tmp_path: Path) -> None:
    data = openpose_frame([(100.0, 0)])
    data["people"][0]["person_id"] = -1
    seq = OpenPoseReader().read(write_openpose_folder(tmp_path / "f", {0: data}))
    assert seq.individuals == ["id_0"]


def test_coco_18_and_remap(tmp_path: Path) -> None:
    folder = write_openpose_folder(tmp_path / "f", {0: openpose_frame([(10.0, -1)], 18)})
    seq = OpenPoseReader().read(folder)
    assert seq.skeleton == "coco_18"
    out = seq.remap("mpi_inf_3dhp_28")
    assert out.n_keypoints == 28 and out.observed()[0, 0].sum() >= 12


def test_body_25_remaps(folder: Path) -> None:
    out = OpenPoseReader().read(folder).remap("mpi_inf_3dhp_28")
    assert out.skeleton == "mpi_inf_3dhp_28" and out.observed()[0, 0].sum() >= 16


def test_zero_triples_are_missing_and_threshold(tmp_path: Path) -> None:
    data = openpose_frame([(10.0, -1)])
    values = data["people"][0]["pose_keypoints_2d"]
    values[0:3] = [0, 0, 0]
    values[5] = 0.05  # keypoint 1 has a low confidence
    seq = OpenPoseReader(confidence_threshold=0.1).read(
        write_openpose_folder(tmp_path / "f", {0: data})
    )
    positions, confidences = seq.positions()[0, 0], seq.confidences()[0, 0]
    assert np.isnan(positions[0]).all() and confidences[0] == 0.0
    assert np.isnan(positions[1]).all() and confidences[1] == pytest.approx(0.05)
    assert np.isfinite(positions[2:]).all()


def test_openpose_1_0_key(tmp_path: Path) -> None:
    data = {"version": 1.0, "people": [{"pose_keypoints": keypoint_values(18, 1.0)}]}
    folder = write_openpose_folder(tmp_path / "f", {7: data})
    seq = OpenPoseReader(frame_order="number").read(folder)
    assert seq.skeleton == "coco_18" and seq.n_frames == 8


def test_alphapose_sep_json_folder(tmp_path: Path) -> None:
    folder = tmp_path / "sep-json"
    for frame in (0, 2):
        write_json(
            folder / f"{frame}.json",
            {
                "version": "AlphaPose v0.3",
                "people": [{"pose_keypoints_2d": keypoint_values(18, 4.0)}],
            },
        )
    assert claimants(folder) == ["openpose"]
    seq = OpenPoseReader().read(folder)
    assert seq.skeleton == "coco_18" and seq.n_frames == 3


def test_one_file_without_people(tmp_path: Path) -> None:
    path = write_json(tmp_path / "clip_000000000000_keypoints.json", openpose_frame([]))
    with pytest.raises(PoseFileError, match="no person in any frame"):
        OpenPoseReader().read(path)


def test_folder_without_frames(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(PoseFileError, match="no frames"):
        OpenPoseReader().read(tmp_path / "empty")


def test_nobody_in_any_frame(tmp_path: Path) -> None:
    folder = write_openpose_folder(tmp_path / "f", {0: openpose_frame([]), 1: openpose_frame([])})
    with pytest.raises(PoseFileError, match="no person in any frame"):
        OpenPoseReader().read(folder)


def test_two_files_for_one_frame(tmp_path: Path) -> None:
    folder = write_openpose_folder(tmp_path / "f", {3: openpose_frame([])})
    write_json(folder / "other_000000000003_keypoints.json", openpose_frame([]))
    with pytest.raises(PoseFileError, match="are both frame 3"):
        OpenPoseReader().read(folder)


def test_file_name_without_number(tmp_path: Path) -> None:
    folder = write_openpose_folder(tmp_path / "f", {0: openpose_frame([(1.0, -1)])})
    write_json(folder / "last_keypoints.json", openpose_frame([]))
    with pytest.raises(PoseFileError, match="no frame number") as caught:
        OpenPoseReader(frame_order="number").read(folder)
    assert caught.value.record == "last_keypoints.json"
    seq = OpenPoseReader().read(folder)  # auto: the files in name order
    assert seq.n_frames == 2 and "frame_order" in [entry["stage"] for entry in seq.log]


def test_broken_frame_file_is_named(folder: Path) -> None:
    broken = folder / "clip_000000000003_keypoints.json"
    broken.write_text('{"version": 1.3, "people": [')
    with pytest.raises(PoseFileError, match="not valid JSON") as caught:
        OpenPoseReader().read(folder)
    assert caught.value.path == str(broken)


@pytest.mark.parametrize(
    ("edit", "record", "field", "message"),
    [
        (
            lambda d: d["people"][1].update(pose_keypoints_2d=[1.0] * 74),
            "people[1]",
            "pose_keypoints_2d",
            "74 values",
        ),
        (
            lambda d: d["people"][1]["pose_keypoints_2d"].__setitem__(0, None),
            "people[1]",
            "pose_keypoints_2d",
            "numbers",
        ),
        (lambda d: d["people"][0].update(person_id="a"), "people[0]", "person_id", "number"),
        (lambda d: d.update(people={"a": 1}), None, "people", "not a list"),
        (lambda d: d["people"].__setitem__(0, []), "people[0]", None, "object"),
    ],
)
def test_malformed_people(
    tmp_path: Path, edit, record: str | None, field: str | None, message: str
) -> None:
    data = openpose_frame([(1.0, -1), (2.0, -1)])
    edit(data)
    folder = write_openpose_folder(tmp_path / "f", {0: openpose_frame([(5.0, -1)]), 1: data})
    with pytest.raises(PoseFileError, match=message) as caught:
        OpenPoseReader().read(folder)
    assert caught.value.path == str(folder / "clip_000000000001_keypoints.json")
    assert (caught.value.record, caught.value.field) == (record, field)
