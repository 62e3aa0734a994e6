"""Frames from image names (``frame_order``) in the AlphaPose and OpenPose readers, and a
single OpenPose file."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from pose_files import keypoint_values, openpose_frame, write_json, write_openpose_folder

from posekit.core.errors import PoseFileError
from posekit.io.alphapose import AlphaPoseReader
from posekit.io.choose import choose_reader
from posekit.io.frame_order import number_frames
from posekit.io.openpose import OpenPoseReader


def alphapose(path: Path, image_ids: list) -> Path:
    """One person per record (track id: its position), at x = 10 × its position."""
    records = [
        {"image_id": image_id, "category_id": 1, "score": 2.0, "idx": i,
         "keypoints": keypoint_values(17, 10.0 * i)}
        for i, image_id in enumerate(image_ids)
    ]  # fmt: skip
    return write_json(path, records)


def nose_x(seq) -> list[float]:
    return [round(float(v), 1) for v in np.nanmax(seq.positions()[..., 0, 0], axis=0)]


@pytest.mark.parametrize(
    ("names", "reason"),
    [
        (["000000397133.jpg", "000000037777.jpg", "000000252219.jpg"], "numbers up to 397133"),
        (["1690000000123456.jpg", "1690000000167890.jpg"], "has no number"),  # 16 digits
        (["cam_1690000000123.jpg", "cam_1690000000156.jpg"], "numbers up to 1690000000156"),
        (["kitchen.jpg", "garden.jpg"], "has no number"),
        (["im1010.jpg"], "a single image"),
    ],
)
def test_implausible_numbers_give_one_frame_per_image(tmp_path, caplog, names, reason) -> None:
    path = alphapose(tmp_path / "a.json", names)
    with caplog.at_level(logging.WARNING, logger="posekit.io.frame_order"):
        seq = AlphaPoseReader().read(path)
    assert seq.n_frames == len(names)
    assert reason in caplog.text and "frame_order: number" in caplog.text
    entry = next(e for e in seq.log if e["stage"] == "frame_order")
    assert entry["parameters"]["frame_order"] == "file_name"
    assert reason in entry["parameters"]["reason"]
    # file_name order: natural order of the names
    expected = sorted(range(len(names)), key=lambda i: names[i])
    assert nose_x(seq) == [10.0 * i for i in expected]


def test_plausible_numbers_keep_their_gaps(tmp_path) -> None:
    seq = AlphaPoseReader().read(alphapose(tmp_path / "a.json", ["0.jpg", "5.jpg", "2.jpg"]))
    assert seq.n_frames == 6 and seq.log == []


def test_number_keeps_the_numbers_when_asked(tmp_path) -> None:
    path = alphapose(tmp_path / "a.json", ["im1010.jpg"])
    assert AlphaPoseReader(frame_order="number").read(path).n_frames == 1011
    path = alphapose(tmp_path / "b.json", ["img_1.jpg", "img_1.png"])
    with pytest.raises(PoseFileError, match="both frame 1") as caught:
        AlphaPoseReader().read(path)
    assert (caught.value.record, caught.value.field) == ("[1]", "image_id")


def test_sequential_is_the_order_of_the_records(tmp_path) -> None:
    path = alphapose(tmp_path / "a.json", ["b10.jpg", "a2.jpg", "b10.jpg", "c1.jpg"])
    seq = AlphaPoseReader(frame_order="sequential").read(path)
    assert seq.n_frames == 3 and seq.log == []
    assert nose_x(seq) == [20.0, 10.0, 30.0]
    by_name = AlphaPoseReader(frame_order="file_name").read(path)
    assert nose_x(by_name) == [10.0, 20.0, 30.0]


def test_open_format_image_names(tmp_path) -> None:
    body = keypoint_values(18, 5.0)
    data = {
        name: {"version": "AlphaPose v0.3", "people": [{"pose_keypoints_2d": body}]}
        for name in ("IMG_20240101_101500.jpg", "IMG_20240101_101730.jpg")
    }
    seq = AlphaPoseReader().read(write_json(tmp_path / "a.json", data))
    assert seq.n_frames == 2  # time stamps are no frame numbers


def test_openpose_frame_orders(tmp_path) -> None:
    frames = {0: openpose_frame([(1.0, 0)]), 1: openpose_frame([(2.0, 0)])}
    folder = write_openpose_folder(tmp_path / "clip", frames)
    (folder / "clip_000000000000_keypoints.json").rename(folder / "photo9_keypoints.json")
    (folder / "clip_000000000001_keypoints.json").rename(folder / "photo10_keypoints.json")
    assert OpenPoseReader(frame_order="number").read(folder).n_frames == 11
    assert OpenPoseReader().read(folder).n_frames == 11  # 2 of 11 frames: still plausible
    natural = OpenPoseReader(frame_order="file_name").read(folder)
    assert nose_x(natural) == [1.0, 2.0]
    listed = OpenPoseReader(frame_order="sequential").read(folder)  # "photo10" < "photo9"
    assert nose_x(listed) == [2.0, 1.0]


def test_a_single_openpose_file(tmp_path) -> None:
    path = write_json(tmp_path / "im1010_keypoints.json", openpose_frame([(1.0, -1), (50.0, -1)]))
    assert choose_reader(path).name == "openpose"
    seq = OpenPoseReader().read(path)
    assert seq.n_frames == 1 and len(seq.individuals) == 2
    assert OpenPoseReader(frame_order="number").read(path).n_frames == 1011


def test_alphapose_open_format_is_not_an_openpose_file(tmp_path) -> None:
    data = {"0.jpg": {"version": "AlphaPose v0.3", "people": []}}
    assert choose_reader(write_json(tmp_path / "a.json", data)).name == "alphapose"


def test_frame_order_is_checked(tmp_path) -> None:
    with pytest.raises(ValueError, match="frame_order must be one of"):
        number_frames(tmp_path, ["a"], "date", records=["a"])


def test_one_alphapose_sep_json_file_reads_as_a_frame(tmp_path) -> None:
    person = {"pose_keypoints_2d": keypoint_values(18, 5.0)}
    frame = {"version": "AlphaPose v0.3", "people": [person]}
    path = write_json(tmp_path / "sep-json" / "12.json", frame)
    assert choose_reader(path).name == "openpose"
    seq = OpenPoseReader().read(path)
    assert seq.skeleton == "coco_18" and seq.n_frames == 1
