"""Every YAML block of the README, the docs and the plugins' READMEs parses (with the
pipeline loader: no duplicate keys), and every pipeline among them runs on small
inputs made here (JUMPS with one iteration, so the test stays quick)."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from format_fixtures import openpose_frame, person_2d
from pose_files import alphapose_records

from posekit.core.sequence import PoseSequence
from posekit.pipeline import safe_yaml
from posekit.pipeline.run import Pipeline

ROOT = Path(__file__).resolve().parents[1]
PAGES = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").rglob("*.md")),
    *sorted((ROOT / "plugins").glob("*/README.md")),
]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
BLOCKS = [
    pytest.param(code, id=f"{page.relative_to(ROOT)}[{number}]")
    for page in PAGES
    for number, (language, code) in enumerate(FENCE.findall(page.read_text()), 1)
    if language in ("yaml", "yml")
]


def test_there_are_yaml_blocks():
    assert len(BLOCKS) >= 7


@pytest.mark.parametrize("code", BLOCKS)
def test_yaml_block_parses_and_pipelines_run(
    code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = safe_yaml.load(code)
    if not (isinstance(data, dict) and "steps" in data):
        return
    base = tmp_path / "work"  # '../out' of a snippet stays inside tmp_path
    monkeypatch.chdir(base)  # jumps' model (a str, not a Path) resolves against the cwd
    data.setdefault("input", {"path": "clip.nc"})  # a fragment: its steps on a netCDF file
    data.setdefault("output", {"path": "out/{stem}.nc"})
    make_inputs(base, data["input"])
    for step in data["steps"]:
        if isinstance(step, dict) and "jumps" in step:
            step["jumps"]["iterations"] = 1
    pipeline = Pipeline.from_dict(data, source="snippet", base=base)
    report = pipeline.run(progress=False)
    assert report.ok, [r.error for r in report.failed]
    assert all(output.is_file() for r in report.files for output in r.outputs)


def make_inputs(base: Path, section: dict[str, Any]) -> None:
    """One small input file matching ``section['path']``, of the section's reader (or
    the path's suffix), and any file its parameters name."""
    path = base / section["path"].replace("*", "clip")
    path.parent.mkdir(parents=True, exist_ok=True)
    reader = section.get("reader") or {".nc": "netcdf", ".json": "alphapose"}.get(path.suffix)
    if reader == "netcdf":
        PoseSequence.from_arrays(
            np.random.default_rng(0).normal(size=(30, 2, 17, 1)) * 50 + 300,
            np.full((30, 17, 1), 0.9),
            skeleton="coco_17",
        ).to_netcdf(path)
    elif reader == "alphapose":
        path.write_text(json.dumps(alphapose_records(17)))
    elif reader == "c3d":
        write_c3d(path)
    elif reader == "openpose":
        layout = section.get("skeleton", "body_25")
        path.mkdir(parents=True, exist_ok=True)
        for frame, points in enumerate(person_2d(layout, 4)):
            data = {"people": [{"person_id": [-1], "pose_keypoints_2d": openpose_frame(points)}]}
            (path / f"clip_{frame:012d}_keypoints.json").write_text(json.dumps(data))
    elif section.get("estimator") == "mediapipe":
        pytest.importorskip("posekit_mediapipe", reason="needs plugins/posekit-mediapipe")
        shutil.copyfile(ROOT / "examples" / "mediapipe" / "astronaut.mp4", path)
    else:
        raise AssertionError(f"no input maker for reader {reader!r}")


@pytest.fixture(autouse=True)
def snippet_models(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A model path a snippet names (``models/my_model.safetensors``) holds a copy of
    the shipped model."""
    shipped = Path(str(resources.files("posekit") / "models"))
    folder = tmp_path / "work" / "models"
    folder.mkdir(parents=True)
    for suffix in (".safetensors", ".json"):
        shutil.copyfile(shipped / f"jumps_cmu{suffix}", folder / f"my_model{suffix}")


def write_c3d(path: Path) -> None:
    """A C3D file of one subject with every marker, with the plugin's own test helper."""
    pytest.importorskip("ezc3d")
    helper = ROOT / "plugins" / "posekit-c3d" / "tests" / "test_c3d_reader.py"
    spec = importlib.util.spec_from_file_location("c3d_helpers", helper)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    xyz = module.markers(0)
    module.write_c3d(path, list(module.MARKERS), xyz, np.full(xyz.shape[:2], 1.0))


def test_getting_started_gives_the_readmes_test_command():
    def test_command(page: Path) -> str:
        [line] = [
            code.strip()
            for language, code in FENCE.findall(page.read_text())
            if language == "bash" and "python -m pytest" in code
        ]
        return line

    readme = test_command(ROOT / "README.md")
    assert "-e plugins/posekit-c3d" in readme
    assert test_command(ROOT / "docs" / "getting-started.md") == readme


def test_make_figures_help_prints_help_and_changes_nothing():
    images = ROOT / "docs" / "images"
    before = {p.name: p.stat().st_mtime_ns for p in images.iterdir()}
    result = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "make_figures.py"), "--help"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0 and result.stdout.startswith("usage: make_figures.py")
    assert "Make every image of the documentation" in result.stdout
    assert {p.name: p.stat().st_mtime_ns for p in images.iterdir()} == before
