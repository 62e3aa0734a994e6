"""Third-party plugins: a plugin distribution (posekit-mediapipe) installs from source
and works; a broken one is reported by name and everything else keeps working."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
import yaml

from posekit.core.sequence import PoseSequence
from posekit.plugins.registry import build_registry

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "plugins" / "posekit-mediapipe"
ORIGIN = "posekit-mediapipe 0.1.0"


def posekit(*args: str, path: Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m posekit`` with ``path`` first on PYTHONPATH."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(path), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, "-m", "posekit", *args],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plugin pip-installed (from a copy, offline, without its dependencies) into a
    target folder."""
    work = tmp_path_factory.mktemp("plugin")
    source = shutil.copytree(EXAMPLE, work / "source")
    target = work / "site"
    subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
            "--no-build-isolation", "--target", str(target), str(source),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return target


def write_csv(path: Path, frames: int) -> None:
    """A MediaPipe CSV with two people and every landmark."""
    rng = np.random.default_rng(0)
    lines = ["frame,individual,landmark,x,y,visibility"]
    toml = EXAMPLE / "src" / "posekit_mediapipe" / "skeletons" / "blazepose_33.toml"
    joints = [name for name, _ in tomllib.loads(toml.read_text())["joints"]]
    for frame in range(frames):
        for person in ("alice", "bob"):
            for joint in joints:
                x, y = rng.normal(size=2)
                lines.append(f"{frame},{person},{joint},{x:.6f},{y:.6f},0.9")
    path.write_text("\n".join(lines) + "\n")


def test_plugin_is_listed_with_its_distribution(installed):
    done = posekit("plugins", path=installed)
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines()]
    assert ["mediapipe_csv", *ORIGIN.split()] == rows[
        [r[:1] for r in rows].index(["mediapipe_csv"])
    ][:3]
    assert ["blazepose_33", *ORIGIN.split()] in rows
    assert "failed plugins:" not in done.stdout


def test_plugin_works_in_a_pipeline(installed, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(installed))
    write_csv(tmp_path / "clip.csv", frames=3)
    pipeline = {
        "input": {"path": "*.csv", "fps": 30},
        "steps": [{"remap": {"to": "mpi_inf_3dhp_28"}}],
        "output": {"path": "out/{stem}.nc"},
    }
    (tmp_path / "pipeline.yaml").write_text(yaml.safe_dump(pipeline))
    done = posekit("run", "pipeline.yaml", "-q", path=installed, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = PoseSequence.read_netcdf(tmp_path / "out" / "clip.nc")
    assert out.skeleton == "mpi_inf_3dhp_28" and out.individuals == ["alice", "bob"]
    assert out.fps == 30 and out.n_frames == 3
    # 18 of the 28 joints come from MediaPipe landmarks; the hand is a midpoint.
    assert out.observed().sum(axis=-1).tolist() == [[18] * 3, [18] * 3]
    info = posekit("info", str(tmp_path / "clip.csv"), path=installed)
    assert "mediapipe_csv" in info.stdout and "blazepose_33" in info.stdout


def make_broken_plugin(folder: Path) -> Path:
    """A distribution whose plugin module fails to import, and whose skeleton entry
    point names a package that does not exist."""
    folder.mkdir()
    (folder / "broken_posekit_plugin.py").write_text(
        "raise ImportError('needs the library frobnicate, which is not installed')\n"
    )
    info = folder / "broken_posekit_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: broken-posekit-plugin\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(
        "[posekit]\nbroken = broken_posekit_plugin\n\n"
        "[posekit.skeletons]\nbroken = broken_posekit_plugin_skeletons\n"
    )
    return folder


def test_a_broken_plugin_is_reported_and_the_rest_works(tmp_path, monkeypatch):
    folder = make_broken_plugin(tmp_path / "site")
    monkeypatch.syspath_prepend(str(folder))
    with pytest.warns(UserWarning, match="broken-posekit-plugin 1.0"):
        registry = build_registry()
    assert [f.name for f in registry.failures] == ["broken-posekit-plugin 1.0"] * 2
    assert "frobnicate" in registry.failures[0].error
    assert {"netcdf"} <= set(registry.readers) and {"remap", "align"} <= set(registry.stages)
    assert registry.skeleton("coco_17").n_joints == 17

    done = posekit("plugins", path=folder)
    assert done.returncode == 0, done.stderr
    failures = done.stdout.split("failed plugins:")[1]
    assert "broken-posekit-plugin 1.0: ImportError: needs the library frobnicate" in failures
    assert "remap" in done.stdout and "mpi_inf_3dhp_28" in done.stdout
    assert "broken-posekit-plugin" in done.stderr  # the warning
    assert posekit("skeletons", "coco_17", path=folder).returncode == 0
