"""AlphaPose reader: layouts, frames, individuals, thresholds and errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pose_files import alphapose_records, claimants, keypoint_values, write_json

from posekit.errors import PoseFileError
from posekit.io.alphapose import AlphaPoseReader
from posekit.registry import get_registry, get_skeleton


@pytest.fixture
def results(tmp_path: Path) -> Path:
    return write_json(tmp_path / "alphapose-results.json", alphapose_records())


def test_registered_and_detected(results: Path) -> None:
    assert get_registry().entry("reader", "alphapose").cls is AlphaPoseReader
    assert claimants(results) == ["alphapose"]


def test_frames_start_at_zero_and_gaps_are_nan_rows(results: Path) -> None:
    seq = AlphaPoseReader().read(results)
    assert seq.skeleton == "coco_17"
    assert seq.keypoints == list(get_skeleton("coco_17").joint_names)
    assert seq.n_frames == 4
    assert seq.dataset.attrs["source_software"] == "AlphaPose"
    assert seq.dataset.attrs["source_file"] == str(results)
    positions, confidences = seq.positions(), seq.confidences()
    assert np.isnan(positions[:, 2]).all() and np.isnan(confidences[:, 2]).all()
    assert list(seq.dataset["time"].values) == [0.0, 1.0, 2.0, 3.0]


def test_untracked_people_are_ranked_by_score_with_tracking_rank(results: Path) -> None:
    seq = AlphaPoseReader(tracking="rank").read(results)
    assert seq.individuals == ["id_0", "id_1"]
    x = seq.positions()[..., 0, 0]  # x of the nose: (individual, frame)
    assert x[0, 0] == 100.0 and x[1, 0] == 300.0  # frame 0: score 2.9 before 1.1
    assert x[0, 1] == 301.0 and x[1, 1] == 101.0  # frame 1: score 3.0 before 1.0
    assert x[0, 3] == 103.0 and np.isnan(x[1, 3])


def test_track_ids_make_the_individuals(tmp_path: Path) -> None:
    path = write_json(tmp_path / "a.json", alphapose_records(tracked=True))
    seq = AlphaPoseReader().read(path)
    assert seq.individuals == ["id_1", "id_2"]
    x = seq.positions()[..., 0, 0]
    assert x[0, :2].tolist() == [100.0, 101.0] and x[1, :2].tolist() == [300.0, 301.0]


@pytest.mark.parametrize("idx", [1, 1.0, [1.0], [[1.0]], [[1.0], [4.0]]])
def test_idx_may_be_a_number_or_nested_list(tmp_path: Path, idx: object) -> None:
    records = alphapose_records()[:1]
    records[0]["idx"] = idx
    seq = AlphaPoseReader().read(write_json(tmp_path / "a.json", records))
    assert seq.individuals == ["id_1"]


def test_repeated_ids_mean_tracking_was_off(tmp_path: Path) -> None:
    records = alphapose_records()
    for record in records:
        record["idx"] = [[0.0]]  # what AlphaPose writes without a tracker
    seq = AlphaPoseReader().read(write_json(tmp_path / "a.json", records))
    assert seq.individuals == ["id_0", "id_1"]
    assert seq.positions()[0, 1, 0, 0] == 101.0  # linked by posekit's tracker
    assert seq.log[-1]["stage"] == "individuals"


@pytest.mark.parametrize(
    ("n_keypoints", "skeleton"),
    [
        (17, "coco_17"),
        (26, "halpe_26"),
        (133, "coco_wholebody_23"),
        (136, "halpe_26"),
        (28, "mpi_inf_3dhp_28"),
    ],
)
def test_layout_from_keypoint_count(tmp_path: Path, n_keypoints: int, skeleton: str) -> None:
    path = write_json(tmp_path / "a.json", alphapose_records(n_keypoints))
    seq = AlphaPoseReader().read(path)
    n_joints = get_skeleton(skeleton).n_joints
    assert seq.skeleton == skeleton and seq.n_keypoints == n_joints
    # whole-body files keep their first (body) keypoints
    assert seq.positions()[0, 0, :, 0].tolist() == [100.0 + k for k in range(n_joints)]


@pytest.mark.parametrize("n_keypoints", [17, 26])
def test_remaps_to_the_output_layout(tmp_path: Path, n_keypoints: int) -> None:
    seq = AlphaPoseReader().read(write_json(tmp_path / "a.json", alphapose_records(n_keypoints)))
    out = seq.remap("mpi_inf_3dhp_28")
    assert out.skeleton == "mpi_inf_3dhp_28" and out.n_keypoints == 28
    assert out.observed()[0, 0].sum() >= 12


def test_image_ids_as_numbers_and_file_names(tmp_path: Path) -> None:
    records = alphapose_records()
    for record, image_id in zip(
        records, [0, 0, "frame_000001.png", "frame_000001.png", 3], strict=True
    ):
        record["image_id"] = image_id
    seq = AlphaPoseReader(tracking="rank").read(write_json(tmp_path / "a.json", records))
    assert seq.n_frames == 4 and seq.positions()[0, 1, 0, 0] == 301.0


def test_fps_gives_time_in_seconds(results: Path) -> None:
    seq = AlphaPoseReader(fps=25).read(results)
    assert seq.fps == 25.0
    np.testing.assert_allclose(seq.dataset["time"].values, [0, 0.04, 0.08, 0.12])


def test_confidence_threshold_hides_positions_keeps_confidence(tmp_path: Path) -> None:
    records = alphapose_records()[:1]
    records[0]["keypoints"][2] = 0.1  # nose score
    seq = AlphaPoseReader(confidence_threshold=0.5).read(write_json(tmp_path / "a.json", records))
    assert np.isnan(seq.positions()[0, 0, 0]).all()
    assert seq.confidences()[0, 0, 0] == pytest.approx(0.1)
    assert np.isfinite(seq.positions()[0, 0, 1]).all()


def test_zero_triples_are_missing(tmp_path: Path) -> None:
    records = alphapose_records()[:1]
    records[0]["keypoints"][3:6] = [0, 0, 0]
    seq = AlphaPoseReader().read(write_json(tmp_path / "a.json", records))
    assert np.isnan(seq.positions()[0, 0, 1]).all() and seq.confidences()[0, 0, 1] == 0.0


def test_open_format_is_coco_18(tmp_path: Path) -> None:
    data = {
        "0.jpg": {
            "version": "AlphaPose v0.3",
            "people": [{"pose_keypoints_2d": keypoint_values(18, 5.0)}],
        },
        "2.jpg": {
            "version": "AlphaPose v0.3",
            "people": [
                {"pose_keypoints_2d": keypoint_values(18, 7.0)},
                {"pose_keypoints_2d": keypoint_values(18, 9.0)},
            ],
        },
    }
    path = write_json(tmp_path / "alphapose-results.json", data)
    assert claimants(path) == ["alphapose"]
    seq = AlphaPoseReader().read(path)
    assert seq.skeleton == "coco_18" and seq.n_frames == 3 and seq.individuals == ["id_0", "id_1"]
    assert seq.positions()[1, 2, 0, 0] == 9.0
    assert seq.remap("mpi_inf_3dhp_28").n_keypoints == 28


def test_cmu_format(tmp_path: Path) -> None:
    data = {
        "4.jpg": {"version": "AlphaPose v0.3", "bodies": [{"joints": keypoint_values(18, 5.0)}]}
    }
    path = write_json(tmp_path / "a.json", data)
    assert AlphaPoseReader().read(path).n_frames == 1  # a single image: one frame
    seq = AlphaPoseReader(frame_order="number").read(path)
    assert seq.skeleton == "coco_18" and seq.n_frames == 5


def test_skeleton_parameter_for_other_layouts(tmp_path: Path) -> None:
    records = alphapose_records(25)
    path = write_json(tmp_path / "a.json", records)
    with pytest.raises(PoseFileError, match="pass the reader parameter 'skeleton'"):
        AlphaPoseReader().read(path)
    assert AlphaPoseReader(skeleton="body_25").read(path).skeleton == "body_25"
    with pytest.raises(PoseFileError, match="do not fit skeleton 'coco_18'"):
        AlphaPoseReader(skeleton="coco_18").read(path)


@pytest.mark.parametrize(
    ("edit", "record", "field", "message"),
    [
        (lambda r: r[2].update(keypoints=r[2]["keypoints"][:-3]), "[2]", "keypoints", "48 values"),
        (lambda r: r[3]["keypoints"].__setitem__(4, "7.5"), "[3]", "keypoints", "numbers"),
        (lambda r: r[1].pop("keypoints"), "[1]", "keypoints", "missing"),
        (lambda r: r[4].update(image_id=None), "[4]", "image_id", "expected an image name"),
        (lambda r: r[0].update(idx="one"), "[0]", "idx", "track id"),
        (lambda r: r[0].update(idx=10**400), "[0]", "idx", "track id"),
        (lambda r: r[0].update(score=[1]), "[0]", "score", "number"),
        (lambda r: r.__setitem__(1, 5), "[1]", None, "object"),
    ],
)
def test_malformed_records_name_record_and_field(
    tmp_path: Path, edit, record: str, field: str | None, message: str
) -> None:
    records = alphapose_records()
    edit(records)
    path = write_json(tmp_path / "a.json", records)
    with pytest.raises(PoseFileError, match=message) as caught:
        AlphaPoseReader().read(path)
    assert (caught.value.path, caught.value.record, caught.value.field) == (
        str(path),
        record,
        field,
    )


def test_wrong_keypoint_count_everywhere(tmp_path: Path) -> None:
    records = [dict(r, keypoints=r["keypoints"][:-3]) for r in alphapose_records()]
    with pytest.raises(PoseFileError, match="16 keypoints per person is not a known layout"):
        AlphaPoseReader().read(write_json(tmp_path / "a.json", records))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("  \n", "empty"),
        ('[{"image_id": "0.jpg", ', "not valid JSON"),
        ("[]", "no detection"),
        ('"text"', "expected a list"),
        ("{}", "no detection"),
    ],
)
def test_broken_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "a.json"
    path.write_text(text)
    with pytest.raises(PoseFileError, match=message) as caught:
        AlphaPoseReader().read(path)
    assert caught.value.path == str(path)


def test_broken_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text(json.dumps(alphapose_records(), indent=1)[:-40])
    with pytest.raises(PoseFileError) as caught:
        AlphaPoseReader().read(path)
    assert caught.value.line is not None and caught.value.line > 1


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PoseFileError, match="cannot read"):
        AlphaPoseReader().read(tmp_path / "nope.json")


def test_records_read_in_blocks_give_the_same_sequence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = alphapose_records()
    records[3]["keypoints"][4] = float("nan")  # Python's json writes NaN; it is read too
    path = tmp_path / "a.json"
    path.write_text(json.dumps(records))
    whole = AlphaPoseReader().read(path)
    monkeypatch.setattr("posekit.io.alphapose._BLOCK", 2)
    blocks = AlphaPoseReader().read(path)
    assert len(records) > 2
    np.testing.assert_array_equal(whole.positions(), blocks.positions())
    np.testing.assert_array_equal(whole.confidences(), blocks.confidences())
    assert whole.individuals == blocks.individuals
