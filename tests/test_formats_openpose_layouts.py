"""OpenPose layouts of issue 17: BODY_25B, MPI, BODY_135, empty people, face and hands."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from format_fixtures import openpose_frame, person_2d
from hypothesis import given, settings
from hypothesis import strategies as st

from posekit.io._layout_check import bone_score, fitting_layout, same_size_skeletons
from posekit.io.openpose import OpenPoseReader
from posekit.plugins.parameters import build
from posekit.plugins.registry import get_skeleton


def write_openpose(folder: Path, frames: list[list[dict]]) -> Path:
    """One ``*_keypoints.json`` a frame, each with the given people."""
    folder.mkdir(parents=True, exist_ok=True)
    for frame, people in enumerate(frames):
        data = {"version": 1.3, "people": people}
        (folder / f"clip_{frame:012d}_keypoints.json").write_text(json.dumps(data))
    return folder


def body_people(skeleton: str, n_frames: int = 4, **extra: list) -> list[list[dict]]:
    points = person_2d(skeleton, n_frames)
    return [
        [{"person_id": [-1], "pose_keypoints_2d": openpose_frame(points[f]), **extra}]
        for f in range(n_frames)
    ]


def test_body_25b_named_reads_its_own_order(tmp_path: Path) -> None:
    folder = write_openpose(tmp_path / "op", body_people("body_25b"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        seq = OpenPoseReader(skeleton="body_25b").read(folder)
    assert seq.skeleton == "body_25b"
    assert seq.keypoints[1] == "left_eye" and seq.keypoints[17] == "neck"
    expected = person_2d("body_25b", 4)
    np.testing.assert_allclose(seq.positions()[0], expected, atol=1e-3)


def test_body_25b_unnamed_is_recognised_with_a_warning(tmp_path: Path) -> None:
    folder = write_openpose(tmp_path / "op", body_people("body_25b"))
    with pytest.warns(UserWarning, match="look like 'body_25b', not 'body_25'"):
        seq = OpenPoseReader().read(folder)
    assert seq.skeleton == "body_25b" and seq.keypoints[1] == "left_eye"
    assert seq.log[-1]["parameters"]["skeleton"] == "body_25b"
    # the 28-joint layout gets BODY_25B's neck and head top, not an eye
    out = seq.remap("mpi_inf_3dhp_28")
    neck = out.positions()[0, 0, out.keypoints.index("neck")]
    np.testing.assert_allclose(neck, seq.positions()[0, 0, 17])


def test_body_25_is_not_second_guessed(tmp_path: Path) -> None:
    folder = write_openpose(tmp_path / "op", body_people("body_25"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        seq = OpenPoseReader().read(folder)
    # the only log entry is the tracker's (the files carry no person ids)
    assert seq.skeleton == "body_25" and [e["stage"] for e in seq.log] == ["individuals"]


def test_a_named_layout_that_does_not_fit_is_kept_with_a_warning(tmp_path: Path) -> None:
    folder = write_openpose(tmp_path / "op", body_people("body_25"))
    with pytest.warns(UserWarning, match="do not look like 'body_25b'"):
        seq = OpenPoseReader(skeleton="body_25b").read(folder)
    assert seq.skeleton == "body_25b"


def test_a_named_layout_of_another_size_is_refused(tmp_path: Path) -> None:
    folder = write_openpose(tmp_path / "op", body_people("body_25"))
    with pytest.raises(Exception, match="do not fit skeleton 'coco_18'"):
        OpenPoseReader(skeleton="coco_18").read(folder)


@pytest.mark.parametrize(("skeleton", "extra"), [("mpi_15", 0), ("body_25b", 110)])
def test_mpi_and_body_135(tmp_path: Path, skeleton: str, extra: int) -> None:
    points = person_2d(skeleton, 2)
    frames = [
        [{"person_id": [-1], "pose_keypoints_2d": openpose_frame(p) + [5.0, 5.0, 0.5] * extra}]
        for p in points
    ]
    seq = OpenPoseReader().read(write_openpose(tmp_path / "op", frames))
    assert seq.skeleton == skeleton and seq.n_keypoints == get_skeleton(skeleton).n_joints


def test_empty_pose_keypoints_is_a_missing_person(tmp_path: Path) -> None:
    frames = body_people("body_25", 3)
    frames[1][0]["pose_keypoints_2d"] = []
    frames[2].append({"person_id": [-1], "pose_keypoints_2d": []})
    seq = OpenPoseReader().read(write_openpose(tmp_path / "op", frames))
    assert seq.n_frames == 3 and seq.individuals == ["id_0"]
    observed = seq.observed()[0].any(axis=-1)
    assert observed.tolist() == [True, False, True]


def test_face_and_hands_dropped_with_a_message(tmp_path: Path) -> None:
    frames = body_people("body_25", 2, face_keypoints_2d=[1.0, 2.0, 0.5] * 70)
    folder = write_openpose(tmp_path / "op", frames)
    with pytest.warns(UserWarning, match=r"2 face/hand arrays dropped.*parts"):
        seq = OpenPoseReader().read(folder)
    notes = [e for e in seq.log if e["stage"] == "read"]
    assert seq.n_keypoints == 25 and notes[0]["parameters"]["dropped"] == 2


def test_face_and_hands_kept_when_asked(tmp_path: Path) -> None:
    left_hand = [float(v) for k in range(21) for v in (400 + k, 250, 0.8)]
    frames = body_people(
        "body_25",
        2,
        face_keypoints_2d=[1.0, 2.0, 0.5] * 70,
        hand_left_keypoints_2d=left_hand,
        hand_right_keypoints_2d=[],
    )
    folder = write_openpose(tmp_path / "op", frames)
    reader, problems = build(OpenPoseReader, {"parts": ["body", "hands", "face"]}, None)
    assert not problems
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        seq = reader.read(folder)
    assert seq.n_keypoints == 25 + 42 + 70 and seq.skeleton is None
    names = seq.keypoints
    position = seq.positions()[0, 0]
    assert position[names.index("left_hand_thumb_1")].tolist() == [401.0, 250.0]
    assert np.isnan(position[names.index("right_hand_wrist")]).all()  # [] is missing
    assert position[names.index("face_69")].tolist() == [1.0, 2.0]
    assert seq.confidences()[0, 0, names.index("face_0")] == 0.5


def test_parts_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        OpenPoseReader(parts=("body", "feet"))  # type: ignore[arg-type]
    frames = body_people("body_25", 1, face_keypoints_2d=[1.0, 2.0])
    folder = write_openpose(tmp_path / "op", frames)
    with pytest.raises(Exception, match="face_keypoints_2d"):
        OpenPoseReader(parts=("body", "face")).read(folder)


@settings(max_examples=40, deadline=None)
@given(
    angle=st.floats(-0.5, 0.5),
    scale=st.floats(0.2, 5.0),
    noise=st.floats(0.0, 4.0),
    seed=st.integers(0, 2**16),
)
def test_geometry_check_keeps_the_right_layout(
    angle: float, scale: float, noise: float, seed: int
) -> None:
    """A person in either 25-keypoint layout, turned, scaled and jittered, is never
    taken for the other layout, and the wrong layout is always found."""
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    rng = np.random.default_rng(seed)
    candidates = same_size_skeletons(25)
    for truth, other in (("body_25", "body_25b"), ("body_25b", "body_25")):
        points = person_2d(truth, 6, seed=seed) @ rotation.T * scale
        points = points + rng.normal(scale=noise * scale, size=points.shape)
        right = fitting_layout(points, get_skeleton(truth), candidates)
        wrong = fitting_layout(points, get_skeleton(other), candidates)
        assert right.better is None
        assert wrong.better == truth


def test_bone_score_needs_observed_keypoints() -> None:
    points = np.full((3, 25, 2), np.nan)
    points[:, :3] = 1.0
    assert np.isnan(bone_score(points, get_skeleton("body_25")))
