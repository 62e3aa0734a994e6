"""The posekit command line: run, plugins, skeletons, info, --help, and its import cost."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from posekit.cli.main import COMMANDS, app
from posekit.core.sequence import PoseSequence

runner = CliRunner()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with data/clip{0,1,2}.nc and a remap pipeline writing out/{stem}.nc."""
    (tmp_path / "data").mkdir()
    rng = np.random.default_rng(0)
    for index in range(3):
        PoseSequence.from_arrays(
            rng.normal(size=(4, 2, 17, 2)), skeleton="coco_17", fps=25
        ).to_netcdf(tmp_path / "data" / f"clip{index}.nc")
    pipeline = {
        "input": {"path": "data/*.nc"},
        "steps": [{"remap": {"to": "mpi_inf_3dhp_28"}}],
        "output": {"path": "out/{stem}.nc"},
    }
    (tmp_path / "pipeline.yaml").write_text(yaml.safe_dump(pipeline))
    return tmp_path


def test_run_processes_a_folder(project):
    result = runner.invoke(app, ["run", str(project / "pipeline.yaml"), "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1].startswith("3 files: 3 done, 0 failed")
    for index in range(3):
        out = PoseSequence.read_netcdf(project / "out" / f"clip{index}.nc")
        assert out.skeleton == "mpi_inf_3dhp_28" and out.n_frames == 4


def test_run_with_a_bad_file_exits_non_zero_and_finishes_the_others(project):
    (project / "data" / "clip0.nc").write_text("garbage")
    result = runner.invoke(app, ["run", str(project / "pipeline.yaml"), "--quiet"])
    assert result.exit_code == 1
    assert "failed:" in result.stderr and "clip0.nc" in result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("3 files: 2 done, 1 failed")
    assert sorted(p.name for p in (project / "out").iterdir()) == ["clip1.nc", "clip2.nc"]


def test_run_set_overrides(project):
    result = runner.invoke(
        app,
        [
            "run", str(project / "pipeline.yaml"), "-q",
            "--set", "steps[1].remap.to=h36m_17",
            "--set", "input.path=data/clip1.nc",
            "--set", "output.path=out/{stem}-{individual}.nc",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (project / "out").iterdir()) == ["clip1-id_0.nc", "clip1-id_1.nc"]
    assert PoseSequence.read_netcdf(project / "out" / "clip1-id_0.nc").skeleton == "h36m_17"


def test_run_reports_every_problem_and_does_nothing(project):
    result = runner.invoke(
        app,
        [
            "run",
            str(project / "pipeline.yaml"),
            "--set",
            "steps[1].remap.too=x",
            "--set",
            "input.fsp=3",
        ],
    )
    assert result.exit_code == 2
    assert "2 problems" in result.stderr
    assert "steps[1] (remap), key 'too'" in result.stderr and "input, key 'fsp'" in result.stderr
    assert not (project / "out").exists()


def test_run_rejects_a_malformed_set(project):
    result = runner.invoke(app, ["run", str(project / "pipeline.yaml"), "--set", "oops"])
    assert result.exit_code != 0 and "key=value" in result.output


def test_plugins_lists_builtins_with_their_origin():
    result = runner.invoke(app, ["plugins"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    for section in ("readers:", "writers:", "stages:", "skeletons:"):
        assert section in lines
    assert any(line.split()[:2] == ["align", "posekit"] for line in lines)
    assert any(line.split()[:2] == ["mpi_inf_3dhp_28", "posekit"] for line in lines)


def test_skeletons_list_and_detail():
    listing = runner.invoke(app, ["skeletons"])
    assert listing.exit_code == 0 and "coco_17" in listing.stdout and "17 joints" in listing.stdout
    detail = runner.invoke(app, ["skeletons", "coco_17"])
    assert detail.exit_code == 0
    assert "left_knee            left_hip             left" in detail.stdout
    assert "left_ankle, right_ankle" in detail.stdout
    assert "mappings: mpi_inf_3dhp_28" in detail.stdout
    unknown = runner.invoke(app, ["skeletons", "coco17"])
    assert unknown.exit_code == 1 and "did you mean 'coco_17'?" in unknown.stderr


def test_info_describes_a_file(project):
    runner.invoke(app, ["run", str(project / "pipeline.yaml"), "-q"])
    sequence = PoseSequence.read_netcdf(project / "out" / "clip0.nc")
    result = runner.invoke(app, ["info", str(project / "out" / "clip0.nc")])
    assert result.exit_code == 0, result.output
    fields = dict(
        line.split(None, 1) for line in result.stdout.splitlines() if not line.startswith(" ")
    )
    assert fields["skeleton"] == "mpi_inf_3dhp_28"
    assert fields["frames"] == "4 (0.16 s)" and fields["fps"] == "25"
    assert fields["individuals"] == "2: id_0, id_1"
    assert fields["measured"].startswith(f"{100 * sequence.observed().mean():.1f} % of keypoints")
    assert fields["imputed"].startswith("0.0 % of keypoints")
    assert fields["log"] == "1 entry" and "remap" in result.stdout


def test_info_on_an_unreadable_file(tmp_path):
    (tmp_path / "x.txt").write_text("hello")
    result = runner.invoke(app, ["info", str(tmp_path / "x.txt")])
    assert result.exit_code == 1 and "no reader recognises" in result.stderr


@pytest.mark.parametrize("name", [None, *(command.__name__ for command in COMMANDS)])
def test_help_has_an_example(name):
    result = runner.invoke(app, ["--help"] if name is None else [name, "--help"])
    assert result.exit_code == 0
    assert name is None or "Example:" in result.stdout


def test_cli_never_imports_torch_matplotlib_or_dask():
    code = (
        "import sys\n"
        "from posekit.cli import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'matplotlib', 'dask') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
    for module in ("posekit.cli", "posekit.cli.main"):
        timing = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        imported = {line.rsplit("|", 1)[-1].strip() for line in timing.stderr.splitlines()}
        assert module in imported
        heavy = {name for name in imported if name.split(".")[0] in ("torch", "matplotlib", "dask")}
        assert heavy == set(), f"{module} imports {sorted(heavy)}"


def test_python_dash_m_posekit(project):
    done = subprocess.run(
        [sys.executable, "-m", "posekit", "run", str(project / "pipeline.yaml"), "-q"],
        check=False, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith("3 files: 3 done")


def test_run_prints_where_each_result_is_and_what_was_filled(tmp_path, monkeypatch):
    import numpy as np

    from posekit.core.sequence import PoseSequence

    monkeypatch.chdir(tmp_path)
    PoseSequence.from_arrays(np.ones((5, 2, 17, 1)), skeleton="coco_17").to_netcdf(tmp_path / "a.nc")
    (tmp_path / "p.yaml").write_text(
        "input: {path: a.nc}\nsteps: [{remap: {to: mpi_inf_3dhp_28}}]\n"
        "output: {path: 'out/{stem}.nc'}\n"
    )
    result = CliRunner().invoke(app, ["run", str(tmp_path / "p.yaml")])
    assert result.exit_code == 0, result.output
    assert "out/a.nc: 5 frames, 1 individual, 28 joints, 0 of 140 joint values filled" in result.output
