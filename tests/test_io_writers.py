"""Writers: AlphaPose, OpenPose and CSV; round trips, atomic writes, inputs kept."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest

from posekit.core.errors import PoseFileError, PoseSequenceError
from posekit.core.sequence import PoseSequence
from posekit.io.alphapose import AlphaPoseReader, AlphaPoseWriter
from posekit.io.csv import CsvWriter
from posekit.io.openpose import OpenPoseReader, OpenPoseWriter
from posekit.plugins.registry import get_registry, get_skeleton


def sample(
    skeleton: str = "mpi_inf_3dhp_28",
    *,
    n_frames: int = 6,
    fps: float | None = None,
    trailing_empty: bool = False,
    n_space: int = 2,
) -> PoseSequence:
    """Two individuals (id_0, id_3) with a missing joint, an absent individual and,
    optionally, an empty last frame."""
    rng = np.random.default_rng(7)
    n_joints = get_skeleton(skeleton).n_joints
    position = rng.uniform(1.0, 500.0, (n_frames, n_space, n_joints, 2))
    confidence = rng.uniform(0.1, 1.0, (n_frames, n_joints, 2))
    position[1, :, 2, 0] = np.nan  # one missing joint
    position[2, :, :, 1] = np.nan  # id_3 absent in frame 2
    if trailing_empty:
        position[-1] = np.nan
    confidence[np.isnan(position).any(axis=1)] = np.nan
    return PoseSequence.from_arrays(
        position, confidence, skeleton=skeleton, individuals=["id_0", "id_3"], fps=fps
    )


def test_writers_are_registered() -> None:
    writers = get_registry().writers
    assert writers["alphapose"].cls is AlphaPoseWriter
    assert writers["openpose"].cls is OpenPoseWriter
    assert writers["csv"].cls is CsvWriter


def assert_same_poses(read: PoseSequence, written: PoseSequence) -> None:
    assert read.skeleton == written.skeleton and read.individuals == written.individuals
    assert read.n_frames == written.n_frames
    np.testing.assert_array_equal(read.positions(), written.positions())
    observed = written.observed()
    np.testing.assert_array_equal(read.confidences()[observed], written.confidences()[observed])


def test_alphapose_round_trip(tmp_path: Path) -> None:
    seq = sample()
    path = tmp_path / "alphapose-results.json"
    AlphaPoseWriter().write(seq, path)
    assert_same_poses(AlphaPoseReader().read(path), seq)
    records = json.loads(path.read_text())
    assert len(records) == 6 * 2 - 1  # id_3 is absent from frame 2
    first = records[0]
    assert first["image_id"] == "0.jpg" and first["category_id"] == 1 and first["idx"] == 0
    assert len(first["keypoints"]) == 28 * 3 and len(first["box"]) == 4
    assert records[1]["idx"] == 3
    missing = records[2]["keypoints"][6:9]  # frame 1, id_0, joint 2
    assert missing == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("skeleton", ["coco_17", "halpe_26"])
def test_alphapose_round_trip_of_estimator_layouts(tmp_path: Path, skeleton: str) -> None:
    seq = sample(skeleton)
    AlphaPoseWriter().write(seq, tmp_path / "a.json")
    assert_same_poses(AlphaPoseReader().read(tmp_path / "a.json"), seq)


def test_alphapose_round_trip_of_other_skeletons_needs_the_name(tmp_path: Path) -> None:
    seq = sample("h36m_17")
    AlphaPoseWriter().write(seq, tmp_path / "a.json")
    assert AlphaPoseReader().read(tmp_path / "a.json").skeleton == "coco_17"  # same count
    assert_same_poses(AlphaPoseReader(skeleton="h36m_17").read(tmp_path / "a.json"), seq)


def test_alphapose_file_ends_with_the_last_observed_frame(tmp_path: Path) -> None:
    AlphaPoseWriter().write(sample(trailing_empty=True), tmp_path / "a.json")
    assert AlphaPoseReader().read(tmp_path / "a.json").n_frames == 5


def test_openpose_round_trip_keeps_every_frame(tmp_path: Path) -> None:
    seq = sample("body_25", trailing_empty=True)
    folder = tmp_path / "clip"
    OpenPoseWriter().write(seq, folder)
    names = sorted(p.name for p in folder.iterdir())
    assert names[0] == "clip_000000000000_keypoints.json" and len(names) == 6
    assert_same_poses(OpenPoseReader().read(folder), seq)
    frame = json.loads((folder / names[1]).read_text())
    assert [p["person_id"] for p in frame["people"]] == [[0], [3]]
    assert frame["people"][0]["pose_keypoints_2d"][6:9] == [0.0, 0.0, 0.0]
    assert json.loads((folder / names[5]).read_text())["people"] == []


def test_openpose_writer_replaces_its_own_folder(tmp_path: Path) -> None:
    folder = tmp_path / "clip"
    OpenPoseWriter().write(sample("body_25", n_frames=6), folder)
    OpenPoseWriter().write(sample("body_25", n_frames=3), folder)
    assert len(list(folder.iterdir())) == 3
    assert OpenPoseReader().read(folder).n_frames == 3


def test_openpose_writer_keeps_folders_with_other_files(tmp_path: Path) -> None:
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(PoseFileError, match="holds other files"):
        OpenPoseWriter().write(sample("body_25"), folder)
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]


def test_csv_long_format(tmp_path: Path) -> None:
    seq = sample("coco_17", fps=25)
    imputed = np.zeros((2, 6, 17), dtype=bool)
    imputed[1, 4, 5] = True
    seq = seq.replace(imputed=imputed)
    path = tmp_path / "poses.csv"
    CsvWriter().write(seq, path)
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["time", "individual", "keypoint", "x", "y", "confidence", "imputed"]
    assert len(rows) == 6 * 2 * 17
    positions, confidences = seq.positions(), seq.confidences()
    for row in rows:
        t, i = round(float(row["time"]) * 25), seq.individuals.index(row["individual"])
        k = seq.keypoints.index(row["keypoint"])
        for d, axis in enumerate("xy"):
            value = positions[i, t, k, d]
            assert row[axis] == ("" if np.isnan(value) else repr(float(value)))
        assert row["confidence"] == (
            "" if np.isnan(confidences[i, t, k]) else repr(float(confidences[i, t, k]))
        )
        assert row["imputed"] == ("true" if imputed[i, t, k] else "false")
    assert rows[17]["individual"] == "id_3" and rows[17]["keypoint"] == "nose"


def test_csv_3d_frames_and_quoted_names(tmp_path: Path) -> None:
    seq = PoseSequence.from_arrays(
        np.arange(12.0).reshape(2, 3, 2, 1), keypoints=["hip, left", 'say "hi"'], individuals=["a"]
    )
    CsvWriter().write(seq, tmp_path / "p.csv")
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines[0] == "time,individual,keypoint,x,y,z,confidence,imputed"
    assert lines[1] == '0,a,"hip, left",0.0,2.0,4.0,1.0,false'
    with open(tmp_path / "p.csv", newline="") as handle:
        assert [r["keypoint"] for r in csv.DictReader(handle)][:2] == ["hip, left", 'say "hi"']


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.json"
    path.write_text("old")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("posekit.io.alphapose.json.dump", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        AlphaPoseWriter().write(sample(), path)
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["a.json"]


def test_a_failed_folder_write_keeps_the_old_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "clip"
    OpenPoseWriter().write(sample("body_25"), folder)
    before = sorted(p.name for p in folder.iterdir())
    calls = []

    def broken(data: object) -> str:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return json.JSONEncoder().encode(data)

    monkeypatch.setattr("posekit.io.openpose.json.dumps", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        OpenPoseWriter().write(sample("body_25", n_frames=4), folder)
    assert sorted(p.name for p in folder.iterdir()) == before and os.listdir(tmp_path) == ["clip"]


@pytest.mark.parametrize(
    ("writer", "name"),
    [(AlphaPoseWriter(), "a.json"), (OpenPoseWriter(), "clip"), (CsvWriter(), "a.csv")],
)
def test_writers_never_overwrite_the_input(tmp_path: Path, writer: object, name: str) -> None:
    path = tmp_path / name
    seq = sample("body_25").with_attrs(source_file=str(path))
    path.write_text("input") if name != "clip" else path.mkdir()
    with pytest.raises(PoseFileError, match="never overwritten"):
        writer.write(seq, path)  # type: ignore[attr-defined]


@pytest.mark.parametrize("writer", [AlphaPoseWriter(), OpenPoseWriter()])
def test_json_writers_want_2d(tmp_path: Path, writer: object) -> None:
    with pytest.raises(PoseSequenceError, match="3D"):
        writer.write(sample("body_25", n_space=3), tmp_path / "out")  # type: ignore[attr-defined]


def test_read_then_write_elsewhere_is_fine(tmp_path: Path) -> None:
    AlphaPoseWriter().write(sample(), tmp_path / "in.json")
    seq = AlphaPoseReader().read(tmp_path / "in.json")
    with pytest.raises(PoseFileError):
        AlphaPoseWriter().write(seq, tmp_path / "in.json")
    AlphaPoseWriter().write(seq, tmp_path / "out.json")
    assert AlphaPoseReader().read(tmp_path / "out.json").individuals == seq.individuals
