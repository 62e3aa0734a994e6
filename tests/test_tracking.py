"""Individuals of files without track ids: the tracker, the readers' ``tracking`` option,
the provenance log and ``posekit info``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pose_files import write_json, write_openpose_folder
from typer.testing import CliRunner

from posekit.cli import app
from posekit.core.errors import PoseFileError
from posekit.io.alphapose import AlphaPoseReader
from posekit.io.coco import CocoReader
from posekit.io.openpose import OpenPoseReader
from posekit.io.tracking import Tracker

#: A standing person's 17 COCO keypoints (x, y), 1 unit tall, feet at y = 0.
BODY = np.array(
    [[0.0, -1.0], [-0.03, -1.02], [0.03, -1.02], [-0.06, -1.0], [0.06, -1.0],
     [-0.15, -0.82], [0.15, -0.82], [-0.2, -0.6], [0.2, -0.6], [-0.22, -0.4],
     [0.22, -0.4], [-0.1, -0.5], [0.1, -0.5], [-0.1, -0.25], [0.1, -0.25],
     [-0.1, 0.0], [0.1, 0.0]]
)  # fmt: skip


def person(x: float, y: float = 500.0, height: float = 200.0) -> np.ndarray:
    """``(17, 2)`` keypoints of a person standing at ``x`` (pixels)."""
    return BODY * height + [x, y]


def crossing(n_frames: int = 40) -> list[tuple[int, int, np.ndarray]]:
    """Two people walking through each other: ``(frame, true id, keypoints)``, the
    person walking right 10 % taller; they meet at frame ``n_frames // 2``."""
    detections = []
    for frame in range(n_frames):
        detections.append((frame, 0, person(100 + 10 * frame, height=220)))
        detections.append((frame, 1, person(100 + 10 * n_frames - 10 * frame)))
    return detections


def alphapose_file(path: Path, detections, scores=None, drop: int | None = None) -> Path:
    """An AlphaPose results file without ``idx``: records of each frame in a shuffled
    order, scores that say nothing about who is who."""
    rng = np.random.default_rng(0)
    records = []
    for i, (frame, _, points) in enumerate(detections):
        keypoints = np.concatenate([points, np.full((17, 1), 0.9)], axis=1)
        if drop is not None:
            keypoints[drop] = 0.0
        records.append({
            "image_id": f"{frame}.jpg", "category_id": 1,
            "keypoints": keypoints.ravel().round(2).tolist(),
            "score": float(rng.uniform(1, 3)) if scores is None else scores[i],
            "box": [0.0, 0.0, 1.0, 1.0],
        })  # fmt: skip
    order = rng.permutation(len(records))
    return write_json(path, [records[i] for i in order])


def test_two_people_crossing_keep_their_ids(tmp_path: Path) -> None:
    detections = crossing()
    seq = AlphaPoseReader().read(alphapose_file(tmp_path / "a.json", detections))
    assert len(seq.individuals) == 2
    x = seq.positions()[:, :, 0, 0]  # nose x: (individual, frame)
    steps = np.diff(x, axis=1)
    assert np.isfinite(x).all()
    # each id walks one way all along: never a jump to the other person
    assert all((np.abs(row - row[0]) < 1e-6).all() and abs(row[0]) == 10 for row in steps)
    assert seq.log[-1]["stage"] == "individuals"
    assert seq.log[-1]["parameters"]["assigned_by"] == "posekit tracker"


def test_rank_keeps_the_old_behaviour_and_mixes_people(tmp_path: Path) -> None:
    path = alphapose_file(tmp_path / "a.json", crossing())
    seq = AlphaPoseReader(tracking="rank").read(path)
    steps = np.abs(np.diff(seq.positions()[:, :, 0, 0], axis=1))
    assert (steps > 50).any()  # ranks by score jump between the two people
    assert seq.log[-1]["parameters"] == {"assigned_by": "posekit rank", "tracking": "rank"}


def test_tracking_none_refuses_files_without_ids(tmp_path: Path) -> None:
    path = alphapose_file(tmp_path / "a.json", crossing(4))
    with pytest.raises(PoseFileError, match="no track ids and tracking is 'none'") as caught:
        AlphaPoseReader(tracking="none").read(path)
    assert caught.value.path == str(path)


def test_ids_of_the_file_are_kept_and_not_logged(tmp_path: Path) -> None:
    detections = crossing(6)
    path = alphapose_file(tmp_path / "a.json", detections)
    records = json.loads(path.read_text())
    for record in records:
        record["idx"] = 7 if record["keypoints"][1] < 290 else 3  # the taller one is 7
    seq = AlphaPoseReader(tracking="none").read(write_json(tmp_path / "b.json", records))
    assert seq.individuals == ["id_3", "id_7"] and seq.log == []


def test_a_long_absence_starts_a_new_track(tmp_path: Path) -> None:
    detections = [(f, 0, person(300.0 + f)) for f in range(10)]
    detections += [(f, 0, person(300.0 + f)) for f in range(50, 60)]  # back after 40 frames
    path = alphapose_file(tmp_path / "a.json", detections)
    assert len(AlphaPoseReader().read(path).individuals) == 2
    seq = AlphaPoseReader(track_max_gap=40).read(path)
    assert seq.individuals == ["id_0"] and seq.log[-1]["parameters"]["max_gap"] == 40


def test_a_jump_farther_than_max_distance_is_another_person(tmp_path: Path) -> None:
    detections = [(0, 0, person(100.0)), (1, 0, person(100.0)), (2, 0, person(250.0))]
    path = alphapose_file(tmp_path / "a.json", detections)
    assert len(AlphaPoseReader().read(path).individuals) == 2
    assert len(AlphaPoseReader(track_max_distance=1.0).read(path).individuals) == 1


def test_boxes_link_detections_that_share_too_few_keypoints() -> None:
    points = np.full((3, 17, 2), np.nan)
    points[0, [5, 12]] = person(100.0)[[5, 12]]  # a shoulder and a hip only
    points[1, 15:17] = person(500.0)[15:17]  # somebody else's ankles, far away
    points[2, [6, 11]] = person(104.0)[[6, 11]]  # the other shoulder and hip
    tracks = Tracker().link(np.array([0, 0, 1]), points)
    assert tracks.tolist() == [0, 1, 0]


def test_openpose_untracked_people_are_linked(tmp_path: Path) -> None:
    frames: dict[int, dict] = {}
    for frame, _, points in crossing(20):
        values = np.zeros((25, 3))
        values[:17, :2], values[:17, 2] = points, 0.8  # a body with 17 points is enough
        people = frames.setdefault(frame, {"version": 1.3, "people": []})["people"]
        people.insert(frame % 2, {"person_id": [-1], "pose_keypoints_2d": values.ravel().tolist()})
    seq = OpenPoseReader().read(write_openpose_folder(tmp_path / "clip", frames))
    x = seq.positions()[:, :, 0, 0]
    assert len(seq.individuals) == 2 and (np.abs(np.diff(x, axis=1)) == 10).all()


def test_coco_results_without_track_ids_are_linked(tmp_path: Path) -> None:
    results = [
        {"image_id": 100 + frame, "category_id": 1, "score": 1.0 + (frame + who) % 2,
         "keypoints": np.concatenate([points, np.ones((17, 1))], 1).ravel().tolist()}
        for frame, who, points in crossing(20)
    ]  # fmt: skip
    seq = CocoReader().read(write_json(tmp_path / "results.json", results))
    x = seq.positions()[:, :, 0, 0]
    assert len(seq.individuals) == 2 and (np.abs(np.diff(x, axis=1)) == 10).all()


def test_info_says_who_assigned_the_ids(tmp_path: Path) -> None:
    path = alphapose_file(tmp_path / "a.json", crossing(4))
    result = CliRunner().invoke(app, ["info", str(path)])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if line.startswith("ids"))
    assert "assigned by posekit tracker" in line and "max_gap=30" in line


@settings(max_examples=30, deadline=None)
@given(
    n_people=st.integers(1, 4),
    n_frames=st.integers(1, 30),
    seed=st.integers(0, 2**16),
    missing=st.floats(0.0, 0.3),
)
def test_separated_people_are_recovered(n_people, n_frames, seed, missing) -> None:
    """People 300 px apart moving up to 2 px a frame, some detections missed:
    every track holds one person, and nobody's detections are split (gaps < max_gap)."""
    rng = np.random.default_rng(seed)
    start = 300.0 * np.arange(n_people)
    velocity = rng.uniform(-2, 2, size=n_people)  # never closer than 180 px
    frames, who, points = [], [], []
    for frame in range(n_frames):
        for i in rng.permutation(n_people):
            if rng.random() < missing:
                continue
            frames.append(frame)
            who.append(i)
            points.append(person(start[i] + velocity[i] * frame) + rng.normal(0, 2, (17, 2)))
    if not frames:
        return
    tracks = Tracker().link(np.array(frames), np.array(points))
    pairs = set(zip(who, tracks.tolist(), strict=True))
    assert len(pairs) == len(set(who)) == len(set(tracks.tolist()))
    for frame in set(frames):  # two detections of a frame never share a track
        in_frame = tracks[np.array(frames) == frame]
        assert len(set(in_frame.tolist())) == len(in_frame)
