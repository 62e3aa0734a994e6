"""The plugin contract is checked at registration, names are not silently replaced,
and estimators are a plugin kind that pipelines take as their input."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import attrs
import numpy as np
import pytest

from posekit.core.errors import InvalidPipelineError
from posekit.core.sequence import PoseSequence
from posekit.pipeline.run import Pipeline
from posekit.plugins.registry import PluginContractError, build_registry
from posekit.stages.basic import Remap


@attrs.frozen
class GoodStage:
    dx: float = 0.0

    def __call__(self, sequence: PoseSequence) -> PoseSequence:
        return sequence


class PlainStage:
    def __call__(self, sequence: PoseSequence) -> PoseSequence:
        return sequence


@attrs.frozen
class NoSuffixReader:
    def read(self, path: Path) -> PoseSequence: ...

    @classmethod
    def sniff(cls, path: Path) -> bool:
        return False


@attrs.frozen
class BadSuffixReader(NoSuffixReader):
    suffixes: ClassVar = "json"


@attrs.frozen
class NoWriteWriter:
    suffix: ClassVar[str] = ".x"


@attrs.frozen
class LineEstimator:
    """A stand-in estimator: a ``.vid`` text file whose lines are frames, each giving
    ``x y`` of every COCO-17 joint's position (``-`` for a frame without a person)."""

    suffixes: ClassVar[tuple[str, ...]] = (".vid",)
    fps: float = 25.0

    def estimate(self, path: Path) -> PoseSequence:
        frames = [line.split() for line in Path(path).read_text().splitlines()]
        position = np.full((len(frames), 2, 17, 1), np.nan)
        for t, values in enumerate(frames):
            if values != ["-"]:
                position[t, :, :, 0] = np.array(values, float)
        return PoseSequence.from_arrays(
            position, skeleton="coco_17", fps=self.fps, source_file=str(path)
        )


@pytest.mark.parametrize(
    ("kind", "cls", "problem"),
    [
        ("stage", PlainStage, "PlainStage is not an attrs class: decorate it with @attrs.frozen"),
        ("stage", lambda sequence: sequence, "is not a class (register the class"),
        ("reader", NoSuffixReader, "NoSuffixReader.suffixes must be a tuple of strings"),
        ("reader", BadSuffixReader, "BadSuffixReader.suffixes must be a tuple of strings such as"),
        ("writer", NoWriteWriter, "NoWriteWriter has no method write (a writer needs: write)"),
        ("estimator", GoodStage, "GoodStage has no method estimate"),
        ("windowing", GoodStage, "GoodStage has no method starts"),
    ],
)
def test_a_non_conforming_class_is_refused(kind, cls, problem):
    registry = build_registry(entry_points=False)
    registry.origin, registry.entry_point = "my-plugin 1.0", "posekit: mine = my_plugin.hooks"
    with pytest.raises(PluginContractError) as caught:
        getattr(registry, f"add_{kind}")("mine", cls)
    message = str(caught.value)
    assert message.startswith(
        f"plugin my-plugin 1.0 (entry point posekit: mine = my_plugin.hooks): {kind} 'mine' refused: "
    )
    assert problem in message
    assert "mine" not in getattr(registry, f"{kind}s")


def test_replacing_a_name_needs_the_flag_and_is_logged(caplog):
    registry = build_registry(entry_points=False)
    registry.origin = "my-plugin 1.0"
    with pytest.raises(
        PluginContractError, match="already registered by posekit; pass replace=True"
    ):
        registry.add_stage("remap", GoodStage)
    assert registry.stages["remap"].cls is Remap
    with caplog.at_level(logging.WARNING, logger="posekit.plugins.registry"):
        registry.add_stage("remap", GoodStage, replace=True)
    assert registry.stages["remap"].cls is GoodStage
    assert registry.stages["remap"].origin == "my-plugin 1.0"
    assert "plugin my-plugin 1.0" in caplog.text and "replaces the stage 'remap'" in caplog.text


def make_plugin(folder: Path, body: str, *, skeletons: bool = False) -> Path:
    """An installed-looking distribution ``my-plugin 1.0`` whose module ``my_plugin``
    holds ``body``, and optionally a skeleton package clashing with coco_17."""
    folder.mkdir()
    (folder / "my_plugin.py").write_text(body)
    info = folder / "my_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-plugin\nVersion: 1.0\n")
    points = "[posekit]\nmine = my_plugin\n"
    if skeletons:
        package = folder / "my_plugin_skeletons"
        package.mkdir()
        (package / "__init__.py").write_text("")
        (package / "coco_17.toml").write_text("name = 'coco_17'\n")
        points += "\n[posekit.skeletons]\nmine = my_plugin_skeletons\n"
    (info / "entry_points.txt").write_text(points)
    return folder


PLAIN_STAGE_PLUGIN = """
from posekit.plugins.hookspecs import hookimpl

class Shift:
    def __call__(self, sequence):
        return sequence

@hookimpl
def posekit_register_stages(registry):
    registry.add_stage("shift", Shift)
"""


def test_an_installed_plugin_with_a_plain_class_stage_is_refused_and_named(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(
        str(make_plugin(tmp_path / "site", PLAIN_STAGE_PLUGIN, skeletons=True))
    )
    with pytest.warns(UserWarning, match="posekit plugin my-plugin 1.0") as warned:
        registry = build_registry()
    errors = [str(failure) for failure in registry.failures]
    assert errors[0] == (
        "my-plugin 1.0 (entry point posekit: mine = my_plugin): stage 'shift' refused: Shift "
        "is not an attrs class: decorate it with @attrs.frozen (its fields are the parameters "
        "pipelines check)"
    )
    assert "skeleton 'coco_17' refused: already registered by posekit" in errors[1]
    assert len(warned) == 2
    assert "shift" not in registry.stages and "remap" in registry.stages
    assert registry.skeleton("coco_17").n_joints == 17  # the built-in one, not the clash


def write_video(path: Path, frames: list[float | None]) -> Path:
    """A ``.vid`` file for :class:`LineEstimator`: every joint at ``x`` (None: nobody)."""
    lines = ["-" if x is None else " ".join([str(x)] * 17) for x in frames]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def registry():
    registry = build_registry(entry_points=False)
    registry.origin = "line-estimator 1.0"
    registry.add_estimator("lines", LineEstimator)
    return registry


def test_a_pipeline_runs_an_estimator_on_videos(tmp_path, registry):
    write_video(tmp_path / "a.vid", [1.0, None, 3.0])
    write_video(tmp_path / "b.vid", [None, None])
    data = {
        "input": {"estimator": "lines", "path": "*.vid", "fps": 50},
        "steps": [{"remap": {"to": "mpi_inf_3dhp_28"}}],
        "output": {"path": "out/{stem}.nc"},
    }
    pipeline = Pipeline.from_dict(data, base=tmp_path, registry=registry)
    report = pipeline.run(progress=False, registry=registry)
    assert report.ok, report.summary()
    assert [set(result.timings) for result in report.files] == [
        {"estimate (lines)", "steps[1] (remap)", "write"}
    ] * 2
    out = PoseSequence.read_netcdf(tmp_path / "out" / "a.nc")
    assert out.fps == 50 and out.n_frames == 3 and out.skeleton == "mpi_inf_3dhp_28"
    assert np.isnan(out.positions()[0, 1]).all() and out.positions()[0, 2, 9, 0] == 3.0


def test_estimator_input_problems_are_listed_before_any_work(tmp_path, registry):
    write_video(tmp_path / "a.vid", [1.0])
    (tmp_path / "a.json").write_text("{}")

    def problems(**input: object) -> str:
        data = {"input": input, "output": {"path": "out/{stem}.nc"}}
        with pytest.raises(InvalidPipelineError) as caught:
            Pipeline.from_dict(data, base=tmp_path, registry=registry)
        return str(caught.value)

    assert "unknown estimator 'line'; did you mean 'lines'?" in problems(estimator="line", path="*")
    message = problems(estimator="lines", path="*.vid", fps="fast")
    assert "key 'fps': expected a positive finite number, got 'fast'" in message
    assert "a.json: the estimator 'lines' reads .vid" in problems(estimator="lines", path="*")
    assert "not both" in problems(estimator="lines", reader="netcdf", path="*.vid")
    assert "expected an estimator name" in problems(estimator=3, path="*.vid")
    assert "no file matches" in problems(estimator="lines", path="*.mp4")
    assert not (tmp_path / "out").exists()
    data = {"output": {"path": "out/{stem}.nc", "estimator": "lines"}}
    with pytest.raises(InvalidPipelineError, match="output, key 'estimator': unknown parameter"):
        Pipeline.from_dict(data, base=tmp_path, registry=registry)


def test_posekit_plugins_lists_estimators(tmp_path):
    body = (
        "import attrs\n"
        "from typing import ClassVar\n"
        "from posekit.plugins.hookspecs import hookimpl\n"
        "@attrs.frozen\n"
        "class Lines:\n"
        "    '''Poses from lines of text.'''\n"
        "    suffixes: ClassVar[tuple[str, ...]] = ('.vid',)\n"
        "    def estimate(self, path): ...\n"
        "@hookimpl\n"
        "def posekit_register_estimators(registry):\n"
        "    registry.add_estimator('lines', Lines)\n"
    )
    folder = make_plugin(tmp_path / "site", body)
    done = subprocess.run(
        [sys.executable, "-m", "posekit", "plugins"], capture_output=True, text=True, check=False,
        env={**os.environ, "PYTHONPATH": str(folder)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    section = done.stdout.split("estimators:")[1].splitlines()[1].split()
    assert section[:3] == ["lines", "my-plugin", "1.0"] and "Poses from lines" in done.stdout
