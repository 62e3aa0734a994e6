"""Batch runs: files as tasks on Dask, one broken file reported, skip-if-complete, --force.

One ``LocalCluster`` (2 worker processes, one thread each) serves the module; one test
starts its own through ``posekit run --workers 2``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from pose_files import alphapose_records, write_json
from typer.testing import CliRunner

from posekit.cli import app
from posekit.core.errors import ClusterError
from posekit.core.sequence import PoseSequence
from posekit.pipeline import batch
from posekit.pipeline.run import Pipeline

distributed = pytest.importorskip("dask.distributed")
runner = CliRunner()
CLIPS = ("clip0", "clip1", "clip2", "clip3")


@pytest.fixture(scope="module")
def scheduler() -> str:
    """The address of a local cluster of 2 worker processes shared by the module."""
    saved = dict(os.environ)  # the nanny sets its workers' OMP_NUM_THREADS=1... here too
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        os.environ.clear()
        os.environ.update(saved)
        yield cluster.scheduler_address


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """AlphaPose files data/clip{0..3}.json (clip2 broken) and a remap pipeline."""
    for number, name in enumerate(CLIPS):
        records = alphapose_records()
        for record in records:
            record["keypoints"] = [v + number for v in record["keypoints"]]
        write_json(tmp_path / "data" / f"{name}.json", records)
    (tmp_path / "data" / "clip2.json").write_text('[{"image_id": "0.jpg", "keypoints": [1, 2]}]')
    pipeline = {
        "input": {"reader": "alphapose", "path": "data/*.json", "fps": 30},
        "steps": [{"remap": {"to": "mpi_inf_3dhp_28"}}],
        "output": {"path": "out/{stem}.nc"},
    }
    (tmp_path / "pipeline.yaml").write_text(yaml.safe_dump(pipeline))
    return tmp_path


def outputs(project: Path) -> dict[str, int]:
    """Output file name -> modification time (ns)."""
    return {p.name: p.stat().st_mtime_ns for p in sorted((project / "out").glob("*.nc"))}


def test_files_run_on_the_cluster_and_a_broken_file_is_reported(project, scheduler):
    report = Pipeline.from_yaml(project / "pipeline.yaml").run(scheduler=scheduler, progress=False)
    assert [r.input.name for r in report.files] == [f"{name}.json" for name in CLIPS]
    assert [r.ok for r in report.files] == [True, True, False, True]
    error = report.files[2].error
    assert error.startswith("read: ") and "clip2.json" in error
    assert list(outputs(project)) == ["clip0.nc", "clip1.nc", "clip3.nc"]
    assert report.summary().startswith("4 files: 3 done, 1 failed, 0 skipped in ")
    # The workers write what the plain loop writes.
    plain = Pipeline.from_yaml(project / "pipeline.yaml", {"output.path": "plain/{stem}.nc"}).run(
        progress=False
    )
    for name in ("clip0", "clip1", "clip3"):
        ours = PoseSequence.read_netcdf(project / "out" / f"{name}.nc")
        theirs = PoseSequence.read_netcdf(project / "plain" / f"{name}.nc")
        np.testing.assert_array_equal(ours.positions(), theirs.positions())
    assert [r.frames for r in report.files] == [r.frames for r in plain.files] == [4, 4, 0, 4]


@pytest.mark.parametrize("on_dask", [False, True], ids=["plain loop", "dask"])
def test_rerun_skips_complete_outputs_and_force_or_a_newer_input_redoes(
    project, scheduler, on_dask
):
    where = {"scheduler": scheduler} if on_dask else {}
    pipeline = Pipeline.from_yaml(project / "pipeline.yaml")
    pipeline.run(progress=False, **where)
    first = outputs(project)

    again = pipeline.run(progress=False, **where)
    assert [r.skipped for r in again.files] == [True, True, False, True]
    assert again.files[0].summary() == f"{project / 'out' / 'clip0.nc'}: up to date, skipped"
    assert again.summary().startswith("4 files: 0 done, 1 failed, 3 skipped")
    assert outputs(project) == first

    newer = first["clip1.nc"] + 10**9
    os.utime(project / "data" / "clip1.json", ns=(newer, newer))
    touched = pipeline.run(progress=False, **where)
    assert [r.skipped for r in touched.files] == [True, False, False, True]
    assert outputs(project)["clip1.nc"] > first["clip1.nc"]

    forced = pipeline.run(progress=False, force=True, **where)
    assert not any(r.skipped for r in forced.files)
    assert all(outputs(project)[name] > first[name] for name in first)


def test_a_newer_pipeline_file_redoes_everything(project):
    Pipeline.from_yaml(project / "pipeline.yaml").run(progress=False)
    newer = max(outputs(project).values()) + 10**9
    os.utime(project / "pipeline.yaml", ns=(newer, newer))
    report = Pipeline.from_yaml(project / "pipeline.yaml").run(progress=False)
    assert not any(r.skipped for r in report.files)


def test_one_file_per_individual_is_skipped_when_every_part_is_newer(project):
    overrides = {"output.path": "out/{stem}-{individual}.nc", "input.path": "data/clip0.json"}
    pipeline = Pipeline.from_yaml(project / "pipeline.yaml", overrides)
    [result] = pipeline.run(progress=False).files
    assert [p.name for p in result.outputs] == ["clip0-id_0.nc", "clip0-id_1.nc"]
    [again] = pipeline.run(progress=False).files
    assert again.skipped and again.outputs == result.outputs
    older = result.outputs[1].stat().st_mtime_ns - 10**12
    os.utime(result.outputs[1], ns=(older, older))
    [redone] = pipeline.run(progress=False).files
    assert not redone.skipped


def test_cli_on_an_existing_scheduler(project, scheduler):
    command = ["run", str(project / "pipeline.yaml"), "--scheduler", scheduler]
    result = runner.invoke(app, command)
    assert result.exit_code == 1
    assert "failed: " in result.stderr and "clip2.json" in result.stderr
    assert "4/4" in result.stderr  # the progress bar over files
    assert result.stdout.splitlines()[-1].startswith("4 files: 3 done, 1 failed, 0 skipped")
    assert "files/min" in result.stdout.splitlines()[-1]
    again = runner.invoke(app, [*command, "-q"])
    assert again.stdout.count("up to date, skipped") == 3
    forced = runner.invoke(app, [*command, "-q", "--force"])
    assert forced.stdout.splitlines()[-1].startswith("4 files: 3 done, 1 failed, 0 skipped")


def test_cli_workers_starts_a_local_cluster_and_runs_jumps(project):
    """The one jumps case: the fast preset on two small files, 2 local worker processes."""
    (project / "data" / "clip2.json").unlink()
    (project / "data" / "clip3.json").unlink()
    pipeline = yaml.safe_load((project / "pipeline.yaml").read_text())
    pipeline["steps"].append({"jumps": {"preset": "fast"}})
    (project / "jumps.yaml").write_text(yaml.safe_dump(pipeline))
    result = runner.invoke(app, ["run", str(project / "jumps.yaml"), "-q", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].startswith("2 files: 2 done, 0 failed, 0 skipped")
    out = PoseSequence.read_netcdf(project / "out" / "clip1.nc")
    assert out.log[-1]["stage"] == "jumps" and out.imputed_flags().any()


def test_local_workers_go_without_dasks_malloc_trim_and_leave_our_environment(monkeypatch):
    """Dask's MALLOC_TRIM_THRESHOLD_ made the JUMPS stage 1.75 times slower."""
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    with batch.Cluster(workers=1).client() as client:
        workers = client.run(os.environ.get, "MALLOC_TRIM_THRESHOLD_").values()
        threads = client.run(os.environ.get, "OMP_NUM_THREADS").values()
    assert list(workers) == [None] and list(threads) == ["1"]
    assert "OMP_NUM_THREADS" not in os.environ


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_scheduler_is_a_clear_error(project, monkeypatch):
    monkeypatch.setattr(batch, "CONNECT_TIMEOUT", 1.0)
    address = f"tcp://127.0.0.1:{free_port()}"
    result = runner.invoke(app, ["run", str(project / "pipeline.yaml"), "--scheduler", address])
    assert result.exit_code == 2
    assert f"cannot reach the Dask scheduler at '{address}' within 1 s" in result.stderr
    assert "dask scheduler" in result.stderr and not (project / "out").exists()


def test_workers_and_scheduler_together_are_refused(project):
    result = runner.invoke(
        app,
        ["run", str(project / "pipeline.yaml"), "--workers", "2", "--scheduler", "tcp://h:8786"],
    )
    assert result.exit_code == 2 and "give one" in result.output


def test_without_dask_the_error_names_the_pip_command(project, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(ClusterError, match=r"pip install \"posekit\[cluster\]\""):
        Pipeline.from_yaml(project / "pipeline.yaml").run(workers=2, progress=False)
    assert not (project / "out").exists()


def test_the_cli_never_imports_dask():
    code = (
        "import sys\n"
        "from posekit.cli import app\n"
        "import posekit.pipeline.batch, posekit.pipeline.run\n"
        "try:\n    app(['run', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
