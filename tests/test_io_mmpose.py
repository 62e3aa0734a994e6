"""MMPose reader: inferencer and demo layouts, 2D and 3D, individuals, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pose_files import claimants, mmpose_instance, mmpose_video, write_json

from posekit.core.errors import PoseFileError
from posekit.io.mmpose import MMPoseReader
from posekit.plugins.registry import get_registry


def test_registered_and_detected(tmp_path: Path) -> None:
    path = write_json(tmp_path / "clip.json", mmpose_video())
    assert get_registry().entry("reader", "mmpose").cls is MMPoseReader
    assert claimants(path) == ["mmpose"]


def test_inferencer_video(tmp_path: Path) -> None:
    reader = MMPoseReader(fps=25, tracking="rank")
    seq = reader.read(write_json(tmp_path / "clip.json", mmpose_video()))
    assert seq.skeleton == "coco_17" and seq.n_frames == 3 and seq.n_space == 2
    assert seq.individuals == ["id_0", "id_1"]
    x = seq.positions()[:, :, 0, 0]
    assert x[0, 0] == 50.0 and x[1, 0] == 10.0  # mean score 0.9 ranks first
    assert np.isnan(x[:, 1]).all() and x[0, 2] == 12.0
    assert seq.confidences()[0, 0, 0] == pytest.approx(0.9)
    assert seq.dataset.attrs["source_software"] == "MMPose"


def test_inferencer_image(tmp_path: Path) -> None:
    instances = [mmpose_instance(1.0), mmpose_instance(2.0, score=0.95)]
    seq = MMPoseReader().read(write_json(tmp_path / "img.json", instances))
    assert seq.n_frames == 1 and seq.positions()[0, 0, 0, 0] == 2.0


def test_demo_video_counts_frames_from_one(tmp_path: Path) -> None:
    frames = [
        {"frame_id": 1, "instances": [mmpose_instance(3.0)]},
        {"frame_id": 2, "instances": []},
        {"frame_id": 3, "instances": [mmpose_instance(4.0)]},
    ]
    data = {"meta_info": {"dataset_name": "coco", "num_keypoints": 17}, "instance_info": frames}
    path = write_json(tmp_path / "results_clip.json", data)
    assert claimants(path) == ["mmpose"]
    seq = MMPoseReader().read(path)
    assert seq.n_frames == 3
    assert seq.positions()[0, :, 0, 0].tolist()[0] == 3.0 and seq.positions()[0, 2, 0, 0] == 4.0


def test_demo_image(tmp_path: Path) -> None:
    data = {"meta_info": {}, "instance_info": [mmpose_instance(3.0)]}
    seq = MMPoseReader().read(write_json(tmp_path / "results_img.json", data))
    assert seq.n_frames == 1


def test_track_ids(tmp_path: Path) -> None:
    frames = mmpose_video()
    frames[0]["instances"][0]["track_id"] = 7
    frames[0]["instances"][1]["track_id"] = 2
    frames[2]["instances"][0]["track_id"] = 7
    seq = MMPoseReader().read(write_json(tmp_path / "clip.json", frames))
    assert seq.individuals == ["id_2", "id_7"]
    assert seq.positions()[1, :, 0, 0][[0, 2]].tolist() == [10.0, 12.0]


@pytest.mark.parametrize(
    ("n_keypoints", "skeleton"), [(26, "halpe_26"), (133, "coco_wholebody_23"), (136, "halpe_26")]
)
def test_layouts(tmp_path: Path, n_keypoints: int, skeleton: str) -> None:
    seq = MMPoseReader().read(write_json(tmp_path / "clip.json", mmpose_video(n_keypoints)))
    assert seq.skeleton == skeleton


def test_3d_predictions_are_h36m_and_remap(tmp_path: Path) -> None:
    seq = MMPoseReader().read(write_json(tmp_path / "clip.json", mmpose_video(dims=3)))
    assert seq.skeleton == "h36m_17" and seq.n_space == 3
    out = seq.remap("mpi_inf_3dhp_28")
    assert out.n_keypoints == 28 and out.observed()[0, 0].sum() >= 16


def test_coco_17_remaps(tmp_path: Path) -> None:
    seq = MMPoseReader().read(write_json(tmp_path / "clip.json", mmpose_video()))
    assert seq.remap("mpi_inf_3dhp_28").observed()[0, 0].sum() == 12


def test_confidence_threshold(tmp_path: Path) -> None:
    frames = mmpose_video()
    frames[0]["instances"][0]["keypoint_scores"][3] = 0.01
    seq = MMPoseReader(confidence_threshold=0.3).read(write_json(tmp_path / "c.json", frames))
    assert np.isnan(seq.positions()[1, 0, 3]).all() and seq.confidences()[1, 0, 3] == pytest.approx(
        0.01
    )


def test_skeleton_parameter(tmp_path: Path) -> None:
    path = write_json(tmp_path / "c.json", mmpose_video(25))
    with pytest.raises(PoseFileError, match="not a known layout"):
        MMPoseReader().read(path)
    assert MMPoseReader(skeleton="body_25").read(path).skeleton == "body_25"


@pytest.mark.parametrize(
    ("edit", "record", "field", "message"),
    [
        (
            lambda f: f[2]["instances"][0]["keypoint_scores"].pop(),
            "[2].instances[0]",
            "keypoint_scores",
            "shape",
        ),
        (
            lambda f: f[0]["instances"][1]["keypoints"][4].__setitem__(0, "x"),
            "[0].instances[1]",
            "keypoints",
            "numbers",
        ),
        (
            lambda f: f[0]["instances"][1]["keypoints"].pop(),
            "[0].instances[1]",
            "keypoints",
            "shape",
        ),
        (
            lambda f: f[0]["instances"][0].pop("keypoint_scores"),
            "[0].instances[0]",
            "keypoint_scores",
            "missing",
        ),
        (lambda f: f[1].pop("frame_id"), "[1]", "frame_id", "integer"),
        (lambda f: f[1].update(instances=None), "[1]", "instances", "list"),
        (
            lambda f: f[0]["instances"][0].update(track_id="a"),
            "[0].instances[0]",
            "track_id",
            "number",
        ),
    ],
)
def test_malformed_instances(tmp_path: Path, edit, record: str, field: str, message: str) -> None:
    frames = mmpose_video()
    edit(frames)
    path = write_json(tmp_path / "clip.json", frames)
    with pytest.raises(PoseFileError, match=message) as caught:
        MMPoseReader().read(path)
    assert (caught.value.path, caught.value.record, caught.value.field) == (
        str(path),
        record,
        field,
    )


def test_scores_of_another_length_everywhere(tmp_path: Path) -> None:
    frames = mmpose_video()
    for frame in frames:
        for instance in frame["instances"]:
            instance["keypoint_scores"] = instance["keypoint_scores"][:-1]
    with pytest.raises(PoseFileError, match="expected 17 scores"):
        MMPoseReader().read(write_json(tmp_path / "c.json", frames))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "no frame"),
        ({"meta": 1}, "instance_info"),
        ([{"frame_id": 0, "instances": []}], "no instance"),
        ([{"keypoints": [[1.0, 2.0, 3.0, 4.0]] * 17, "keypoint_scores": [1.0] * 17}], r"\[x, y\]"),
    ],
)
def test_files_without_usable_instances(tmp_path: Path, data: object, message: str) -> None:
    with pytest.raises(PoseFileError, match=message):
        MMPoseReader().read(write_json(tmp_path / "c.json", data))


def test_untracked_instances_get_ids_from_the_tracker_and_the_log_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_json(tmp_path / "clip.json", mmpose_video())
    seq = MMPoseReader().read(path)
    assert "no track ids" in caplog.text
    entry = next(e for e in seq.log if e["stage"] == "individuals")
    assert entry["parameters"]["assigned_by"] == "posekit tracker"
    with pytest.raises(PoseFileError, match="track"):
        MMPoseReader(tracking="none").read(path)
