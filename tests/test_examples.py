"""The OpenPose, batch and multi-person examples: their pipelines run (with few JUMPS
iterations, to stay fast) and their generators remake the committed files from the CMU
data."""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from posekit import Pipeline
from posekit.core.sequence import PoseSequence
from posekit.io.alphapose import AlphaPoseReader
from posekit.io.openpose import OpenPoseReader

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
MOCAP = ROOT.parent / "shared" / "mocap"
#: Few iterations: these tests check the plumbing, not the model.
QUICK = {"steps[2].jumps.iterations": 3, "steps[3].render.height": 64}


def copy_example(name: str, tmp_path: Path) -> Path:
    """The example folder copied to ``tmp_path/examples/<name>`` (outputs go to ../out)."""
    folder = tmp_path / "examples" / name
    shutil.copytree(EXAMPLES / name, folder)
    return folder


def generator(name: str, monkeypatch):
    if not (MOCAP / "cmu").is_dir():
        pytest.skip("needs the CMU data in ../shared/mocap")
    monkeypatch.syspath_prepend(str(EXAMPLES))
    return importlib.import_module(name)


def test_batch_pipeline_runs_every_file(tmp_path):
    folder = copy_example("batch", tmp_path)
    report = Pipeline.from_yaml(folder / "pipeline.yaml", overrides=QUICK).run(progress=False)
    assert report.ok, report.summary()
    clips = sorted(p.stem for p in (folder / "clips").glob("*.json"))
    out = tmp_path / "examples" / "out" / "batch"
    assert len(clips) >= 3 and sorted(p.stem for p in out.glob("*.nc")) == clips
    for clip in clips:
        result = PoseSequence.read_netcdf(out / f"{clip}.nc")
        assert result.n_keypoints == 28 and np.isfinite(result.positions()).all()
        with Image.open(out / f"{clip}.gif") as gif:
            assert gif.n_frames == result.n_frames


def test_openpose_example_fills_the_occlusions_from_the_command_line(tmp_path):
    folder = copy_example("openpose_occlusions", tmp_path)
    sets = [arg for key, value in QUICK.items() for arg in ("--set", f"{key}={value}")]
    done = subprocess.run(
        [sys.executable, "-m", "posekit", "run", str(folder / "pipeline.yaml"), *sets],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    source = OpenPoseReader(fps=30).read(folder / "cmu_124_01")
    out = tmp_path / "examples" / "out" / "openpose_occlusions"
    result = PoseSequence.read_netcdf(out / "cmu_124_01.nc")
    assert source.skeleton == "body_25" and result.skeleton == "mpi_inf_3dhp_28"
    assert (~source.observed()).any()  # the example has occlusions
    assert np.isfinite(result.positions()).all()  # and every joint is filled
    with Image.open(out / "cmu_124_01.gif") as image:
        assert image.n_frames == source.n_frames


def test_openpose_generator_remakes_the_committed_folder(monkeypatch):
    make = generator("make_openpose_occlusions", monkeypatch)
    truth = make.projected_truth(make.CLIP, MOCAP, make.SEED)
    remade = make.openpose_sequence(truth)
    committed = OpenPoseReader().read(make.FOLDER / f"cmu_{make.CLIP}")
    assert committed.n_frames == remade.n_frames == len(truth)
    assert np.allclose(committed.positions(), remade.positions(), equal_nan=True)
    hidden = ~committed.observed()[0, slice(*make.HIDDEN_FRAMES)]
    assert hidden[:, committed.keypoints.index("right_elbow")].all()
    stored = PoseSequence.read_netcdf(make.FOLDER / "truth.nc")
    assert np.allclose(stored.positions()[0], truth)


def test_batch_generator_remakes_the_committed_files(monkeypatch):
    make = generator("make_batch", monkeypatch)
    for clip in make.CLIPS:
        records, truth = make.alphapose_example(clip, MOCAP)
        committed = (make.FOLDER / "clips" / f"cmu_{clip}.json").read_text()
        assert json.loads(committed) == records
        stored = PoseSequence.read_netcdf(make.FOLDER / "truth" / f"cmu_{clip}.nc")
        assert np.allclose(stored.positions()[0], truth, equal_nan=True)


def test_multi_person_example_keeps_ids_and_invents_no_frame(tmp_path):
    folder = copy_example("multi_person", tmp_path)
    report = Pipeline.from_yaml(folder / "pipeline.yaml", overrides=QUICK).run(progress=False)
    assert report.ok, report.summary()
    source = AlphaPoseReader(fps=30).read(folder / "alphapose-results.json")
    truth = PoseSequence.read_netcdf(folder / "truth.nc").positions()  # (2, T, 28, 2)
    result = PoseSequence.read_netcdf(tmp_path / "examples" / "out" / "multi_person"
                                      / "alphapose-results.nc")  # fmt: skip
    assert len(result.individuals) == 2 and result.log[0]["stage"] == "individuals"
    detected = source.observed().any(axis=-1)  # (2, T)
    filled = np.isfinite(result.positions()).all(axis=-1).any(axis=-1)
    for i in range(2):
        # stable ids: every frame of an output individual is one and the same walker
        frames = np.flatnonzero(filled[i])
        error = np.linalg.norm(result.positions()[i, frames, 4] - truth[:, frames, 4], axis=-1)
        walker = int(np.argmin(np.nanmean(error, axis=1)))
        assert np.nanmax(error[walker]) < 60  # pelvis within 60 px, never the other walker
        # no invented frames: filled from the first to the last detection only
        seen = np.flatnonzero(detected[i])
        assert frames.tolist() == list(range(seen[0], seen[-1] + 1))
    leaving = int(np.argmin(filled.sum(axis=1)))
    assert filled[leaving].sum() < result.n_frames - 30  # left the frame a second early
    with Image.open(tmp_path / "examples" / "out" / "multi_person" / "alphapose-results.gif") as gif:
        assert gif.n_frames == result.n_frames


def test_multi_person_generator_remakes_the_committed_file(monkeypatch):
    make = generator("make_multi_person", monkeypatch)
    truth = make.walkers_truth(MOCAP)
    committed = json.loads((make.FOLDER / "alphapose-results.json").read_text())
    assert committed == make.detections(truth)
    assert {record["idx"] for record in committed} == {0}  # no track ids in the file
    stored = PoseSequence.read_netcdf(make.FOLDER / "truth.nc")
    assert np.allclose(stored.positions(), truth.transpose(1, 0, 2, 3), equal_nan=True)


def test_example_data_is_small():
    for name in ("batch", "openpose_occlusions", "multi_person", "mediapipe"):
        size = sum(p.stat().st_size for p in (EXAMPLES / name).rglob("*") if p.is_file())
        assert size < 1_000_000, f"examples/{name} holds {size} bytes"


def test_mediapipe_example_runs_from_the_video(tmp_path):
    """video -> mediapipe -> remap -> jumps -> render, with the posekit-mediapipe plugin."""
    pytest.importorskip("posekit_mediapipe", reason="needs plugins/posekit-mediapipe")
    folder = copy_example("mediapipe", tmp_path)
    report = Pipeline.from_yaml(folder / "pipeline.yaml", overrides=QUICK).run(progress=False)
    assert report.ok, report.summary()
    out = tmp_path / "examples" / "out" / "mediapipe"
    result = PoseSequence.read_netcdf(out / "astronaut.nc")
    assert result.skeleton == "mpi_inf_3dhp_28" and result.individuals == ["id_0"]
    assert [entry["stage"] for entry in result.log] == ["mediapipe", "remap", "jumps", "render"]
    measured = ~result.imputed_flags()[0]  # (time, keypoint)
    for joint in ("left_shoulder", "right_shoulder"):
        assert measured[:, result.keypoints.index(joint)].all(), joint
    with Image.open(out / "astronaut.gif") as gif:
        assert gif.n_frames == result.n_frames == 40


def test_mediapipe_generator_remakes_the_video(tmp_path, monkeypatch):
    pytest.importorskip("skimage", reason="needs scikit-image")
    import imageio_ffmpeg

    monkeypatch.syspath_prepend(str(EXAMPLES))
    make = importlib.import_module("make_mediapipe_example")

    def frames(path: Path) -> np.ndarray:
        reader = imageio_ffmpeg.read_frames(str(path))
        width, height = next(reader)["size"]
        return np.stack([np.frombuffer(f, np.uint8).reshape(height, width, 3) for f in reader])

    remade = frames(make.main(tmp_path))
    committed = frames(EXAMPLES / "mediapipe" / "astronaut.mp4")
    assert remade.shape == committed.shape == (make.FRAMES, 240, 320, 3)
    assert np.abs(remade.astype(int) - committed).mean() < 2.0
