"""Model files are checked before any work: a missing, changed or malformed JUMPS
checkpoint or baseline model is listed with the other pipeline problems (exit 2),
naming the file, and no input is read, no output written."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from posekit.cli import app
from posekit.core.sequence import PoseSequence

runner = CliRunner()
MODELS = Path(str(resources.files("posekit") / "models"))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    PoseSequence.from_arrays(
        np.ones((30, 2, 17, 1)), skeleton="coco_17", fps=30
    ).to_netcdf(tmp_path / "data" / "clip.nc")
    return tmp_path


def run(project: Path, steps: list) -> tuple[int, str]:
    pipeline = {
        "input": {"path": "data/*.nc"},
        "steps": [{"remap": {"to": "mpi_inf_3dhp_28"}}, *steps],
        "output": {"path": "out/{stem}.nc"},
    }
    (project / "p.yaml").write_text(yaml.safe_dump(pipeline))
    result = runner.invoke(app, ["run", "-q", str(project / "p.yaml")])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert not (project / "out").exists()
    return result.exit_code, result.stderr


def jumps_copy(folder: Path, change) -> Path:
    """A copy of the shipped JUMPS model with its JSON record changed by ``change``."""
    weights = folder / "m.safetensors"
    shutil.copyfile(MODELS / "jumps_cmu.safetensors", weights)
    record = json.loads((MODELS / "jumps_cmu.json").read_text())
    change(record)
    (folder / "m.json").write_text(json.dumps(record))
    return weights


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda r: r.update(networks=5), "'networks' must list G"),
        (lambda r: r["architecture"].update(latent=-1), "'latent' must be an integer"),
        (lambda r: r["architecture"].update(latent=10**9), "'latent' must be an integer"),
        (lambda r: r["architecture"].update(latent=1e9), "'latent' must be an integer"),
        (lambda r: r["architecture"].update(critic_widths="wide"), "'critic_widths' must be"),
        (lambda r: r.update(sha256="0" * 64), "SHA-256 mismatch"),
        (lambda r: r.pop("sha256"), "lacks the 'sha256'"),
    ],
)
def test_a_malformed_jumps_model_is_exit_2_before_work(project, change, expected):
    weights = jumps_copy(project, change)
    code, err = run(project, [{"jumps": {"model": str(weights), "completion": None}}])
    assert code == 2 and expected in err and "m." in err and "key 'model'" in err


def test_a_jumps_record_that_is_not_utf8(project):
    weights = jumps_copy(project, lambda r: None)
    (project / "m.json").write_bytes(b"\xff\xfe{")
    code, err = run(project, [{"jumps": {"model": str(weights)}}])
    assert code == 2 and "m.json: not valid JSON" in err


def ridge_copy(folder: Path) -> Path:
    for suffix in (".npz", ".json"):
        shutil.copyfile(MODELS / "baselines" / f"ridge{suffix}", folder / f"ridge{suffix}")
    return folder / "ridge.npz"


@pytest.mark.parametrize(
    ("sidecar", "expected"),
    [
        (b"[1, 2]", "expected a JSON object, got list"),
        (b"\xe9t\xe9", "not valid JSON"),
        (b'{"method": "knn"}', "a 'knn' model, expected 'ridge'"),
        (b'{"method": "ridge", "sha256": "00"}', "differs from 00"),
    ],
)
def test_a_malformed_baseline_sidecar_is_exit_2_before_work(project, sidecar, expected):
    model = ridge_copy(project)
    (project / "ridge.json").write_bytes(sidecar)
    code, err = run(project, [{"ridge": {"model": str(model)}}])
    assert code == 2 and expected in err and "ridge" in err


def test_the_completion_stages_model_is_checked_too(project, monkeypatch):
    from posekit.baselines import common

    monkeypatch.setattr(common, "default_model_path", lambda method: project / "gone.npz")
    code, err = run(project, [{"jumps": {}}])
    assert code == 2 and "gone.npz: no such model file" in err


def test_a_good_model_passes_the_check(project):
    weights = jumps_copy(project, lambda r: None)
    from posekit.pipeline.run import Pipeline

    Pipeline.from_dict({"steps": [{"jumps": {"model": str(weights)}}, {"ridge": {}}]})
