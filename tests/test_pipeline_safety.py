"""A pipeline file or ``--set`` a user got wrong, and outputs that must not land on a
file the run reads or outside the output folder: each is listed before any work
(exit 2) or fails only its own file (exit 1), never with a traceback."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from posekit.cli import app
from posekit.core.atomic import atomic_path, stale_temporaries
from posekit.core.errors import InvalidPipelineError, PoseFileError
from posekit.core.sequence import PoseSequence
from posekit.io.netcdf import NetcdfWriter
from posekit.pipeline.run import Pipeline

runner = CliRunner()


def sequence(individuals: list[str] | None = None, seed: int = 0) -> PoseSequence:
    rng = np.random.default_rng(seed)
    count = len(individuals) if individuals else 1
    return PoseSequence.from_arrays(
        rng.normal(size=(4, 2, 17, count)), skeleton="coco_17", individuals=individuals
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    for index in range(2):
        sequence(seed=index).to_netcdf(tmp_path / "data" / f"clip{index}.nc")
    return tmp_path


def write(folder: Path, text: str, name: str = "p.yaml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def run_cli(*args: str) -> tuple[int, str]:
    """Exit status and stderr of ``posekit run``; an escaped exception fails the test."""
    result = runner.invoke(app, ["run", "--quiet", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"traceback: {result.exception!r}"
    )
    return result.exit_code, result.stderr


GOOD = """\
input: {path: data/*.nc}
steps: [{remap: {to: mpi_inf_3dhp_28}}]
output: {path: 'out/{stem}.nc'}
"""


# -- the pipeline file and --set -------------------------------------------------------
def test_a_file_that_is_not_utf8_is_exit_2_naming_the_line(project):
    path = project / "p.yaml"
    path.write_bytes(b"# caf\xe9\n" + GOOD.encode())
    code, err = run_cli(str(path))
    assert code == 2 and "not UTF-8" in err and "line 1" in err and str(path) in err


@pytest.mark.parametrize("via_set", [False, True], ids=["file", "set"])
def test_deep_nesting_is_refused_not_a_recursion_error(project, via_set):
    deep = "[" * 800
    if via_set:
        code, err = run_cli(str(write(project, GOOD)), "--set", f"steps[1].remap.to={deep}")
        assert code == 2 and "steps[1] (remap), key 'to'" in err
    else:
        code, err = run_cli(str(write(project, f"steps: {deep}\n")))
        assert code == 2 and "nested deeper than" in err
    assert not (project / "out").exists()


def test_an_alias_bomb_is_refused_quickly_with_a_short_message(project):
    lines = ['a0: &a0 ["lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    lines += ["steps: [{remap: {to: *a9}}]"]
    started = time.perf_counter()
    code, err = run_cli(str(write(project, "\n".join(lines))))
    assert code == 2 and "aliases expand the document" in err
    assert time.perf_counter() - started < 10 and len(err) < 2000


def test_a_large_value_is_cut_in_messages(project):
    # 200 aliases of a 400-item list: within the alias budget, but never printed whole.
    items, aliases = ", ".join(["abcdefgh"] * 400), ", ".join(["*x"] * 200)
    text = f"input: {{path: data/*.nc, y: &x [{items}]}}\nsteps: [{{remap: {{to: [{aliases}]}}}}]\n"
    code, err = run_cli(str(write(project, text)))
    assert code == 2 and "steps[1] (remap), key 'to': expected str" in err
    assert len(err) < 2000 and "..." in err


def test_duplicate_keys_are_reported_with_their_line(project):
    text = "steps:\n  - remap: {to: coco_17, to: h36m_17}\n"
    code, err = run_cli(str(write(project, text)))
    assert code == 2 and "found the key 'to' twice" in err and "line 2" in err
    text = "steps: []\nsteps: [remap]\n"
    assert "found the key 'steps' twice" in run_cli(str(write(project, text)))[1]


def test_merge_keys_still_work(project):
    text = "base: &b {to: coco_17}\n"
    with pytest.raises(InvalidPipelineError, match="unknown key"):  # 'base' is not a section
        Pipeline.from_yaml(write(project, text + "steps: [{remap: {<<: *b}}]"))
    merged = Pipeline.from_yaml(write(project, "steps: [{remap: &b {to: coco_17}}, {remap: {<<: *b}}]"))
    assert [step.to for step in merged.steps] == ["coco_17", "coco_17"]


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("out/{stem", "is not a template"),
        ("out/{stem:>5000}.nc", "no format spec"),
        ("out/{stem:>999999999999}.nc", "no format spec"),
        ("out/{stem!r}.nc", "no format spec or conversion"),
        ("out/{stem}}.nc", "is not a template"),
        ("out/{0}.nc", "unknown placeholder"),
        ("out/{stem.__class__}.nc", "unknown placeholder"),
        ("out/" + "x" * 300 + "{stem}.nc", "longer than 255 bytes"),
    ],
)
def test_bad_output_templates_are_listed_before_work(project, template, expected):
    data = {"input": {"path": "data/*.nc"}, "output": {"path": template}}
    code, err = run_cli(str(write(project, yaml.safe_dump(data))))
    assert code == 2 and expected in err and "output, key 'path'" in err
    assert not (project / "out").exists()


@pytest.mark.parametrize(
    ("key", "value", "where"),
    [
        ("input.path", "~nouser_posekit/x.nc", "input, key 'path'"),
        ("output.path", "~nouser_posekit/{stem}.nc", "output, key 'path'"),
        ("steps[1].align.reference", "~nouser_posekit/ref.nc", "steps[1] (align), key 'reference'"),
    ],
)
def test_an_unknown_home_folder_is_reported(project, key, value, where):
    text = "input: {path: data/*.nc}\nsteps: [{align: {}}]\noutput: {path: 'out/{stem}.nc'}\n"
    code, err = run_cli(str(write(project, text)), "--set", f"{key}={value}")
    assert code == 2 and "unknown user" in err and where in err


def test_every_stage_parameter_with_a_wrong_value_is_listed_not_raised():
    """Issue 15, item 5: every registered stage, every parameter, wrong values."""
    from posekit.plugins.parameters import parameter_fields
    from posekit.plugins.registry import get_registry

    wrong = ["nope", -1, -1.5, 10**12, float("nan"), None, True, [], {"a": [1]}, "~nouser_x/y"]
    tried = 0
    for name, entry in sorted(get_registry().stages.items()):
        for field in parameter_fields(entry.cls):
            for value in wrong:
                try:
                    Pipeline.from_dict({"steps": [{name: {field: value}}]})
                except InvalidPipelineError as err:
                    assert all(e.step == f"steps[1] ({name})" for e in err.errors), err
                tried += 1
    assert tried > 100


@pytest.mark.parametrize(
    ("stage", "parameters", "key"),
    [
        ("remap", {"to": "made_up_skeleton"}, "to"),
        ("align", {"reference": "missing.nc"}, "reference"),
        ("evaluate", {"reference": "missing/"}, "reference"),
        ("ridge", {"model": "missing.npz"}, "model"),
        ("ridge", {"alpha": -1}, "alpha"),
        ("ridge", {"fill_gaps": -1}, "fill_gaps"),
        ("ridge", {"scale_window": 0}, "scale_window"),
        ("ridge_window", {"overlap": 1.0}, "overlap"),
        ("knn", {"k": 0}, "k"),
        ("mean_pose", {"fill_gaps": -3}, "fill_gaps"),
        ("interpolate", {"max_gap": -1}, "max_gap"),
        ("jumps", {"windowing": "nope"}, "windowing"),
        ("jumps", {"completion": "nope"}, "completion"),
    ],
)
def test_out_of_range_values_and_missing_files_are_listed(tmp_path, stage, parameters, key):
    with pytest.raises(InvalidPipelineError) as excinfo:
        Pipeline.from_dict({"steps": [{stage: parameters}]}, base=tmp_path)
    assert [(e.step, e.key) for e in excinfo.value.errors] == [(f"steps[1] ({stage})", key)]


def test_every_float_parameter_refuses_nan_and_infinity():
    from posekit.plugins.parameters import parameter_fields
    from posekit.plugins.registry import get_registry

    checked = 0
    for name, entry in sorted(get_registry().stages.items()):
        for field, attribute in parameter_fields(entry.cls).items():
            kind = str(attribute.type)  # scalars only: not tuple[float, ...], dict[str, float]
            if "float" not in kind or "tuple" in kind or "dict" in kind:
                continue
            for value in (float("nan"), float("inf"), 10**400):
                with pytest.raises(InvalidPipelineError, match="expected a finite number"):
                    Pipeline.from_dict({"steps": [{name: {field: value}}]})
            checked += 1
    assert checked >= 8


def test_the_issue_example_is_exit_2_naming_the_key():
    root = Path(__file__).resolve().parents[1]
    code, err = run_cli(
        str(root / "examples" / "upsample.yaml"), "--set", "steps[2].jumps.windowing=nope"
    )
    assert code == 2 and "steps[2] (jumps), key 'windowing': unknown windowing 'nope'" in err


# -- never overwrite a file the run reads ------------------------------------------------
def test_brackets_in_file_names_are_literal(project):
    literal = project / "data" / "a[1].nc"
    sequence(seed=5).to_netcdf(literal)
    before = literal.read_bytes()
    data = {"input": {"path": "data/a*.nc"}, "output": {"path": "data/{stem}.nc"}}
    code, err = run_cli(str(write(project, yaml.safe_dump(data))))
    assert code == 2 and "would overwrite the input" in err and "a[1].nc" in err
    assert literal.read_bytes() == before


def test_brackets_in_the_pipeline_folder_are_literal(tmp_path):
    folder = tmp_path / "run[1]"
    (folder / "data").mkdir(parents=True)
    sequence().to_netcdf(folder / "data" / "clip.nc")
    data = {"input": {"path": "data/*.nc"}, "output": {"path": "out/{stem}.nc"}}
    report = Pipeline.from_yaml(write(folder, yaml.safe_dump(data))).run(progress=False)
    assert report.ok and (folder / "out" / "clip.nc").exists()


def test_braces_in_folder_and_file_names_are_literal(tmp_path):
    folder = tmp_path / "run{1}"
    (folder / "data").mkdir(parents=True)
    sequence(individuals=["a", "b"]).to_netcdf(folder / "data" / "clip{x}.nc")
    data = {"input": {"path": "data/*.nc"}, "output": {"path": "out/{individual}/{stem}.nc"}}
    report = Pipeline.from_yaml(write(folder, yaml.safe_dump(data))).run(progress=False)
    assert report.ok, report.files[0].error
    assert (folder / "out" / "b" / "clip{x}.nc").is_file()
    data["output"]["path"] = "data/{stem}.nc"
    with pytest.raises(InvalidPipelineError, match="would overwrite the input"):
        Pipeline.from_yaml(write(folder, yaml.safe_dump(data)))


def test_the_pipeline_file_is_never_an_output(project):
    sequence().to_netcdf(project / "data" / "p.nc")
    data = {"input": {"path": "data/p.nc"}, "output": {"path": "{stem}.yaml", "writer": "netcdf"}}
    pipeline = write(project, yaml.safe_dump(data), name="p.yaml")
    before = pipeline.read_bytes()
    code, err = run_cli(str(pipeline))
    assert code == 2 and "a file the run reads" in err and pipeline.read_bytes() == before


def test_the_align_reference_is_never_an_output(project):
    sequence(seed=9).to_netcdf(project / "ref.nc")
    before = (project / "ref.nc").read_bytes()
    data = {
        "input": {"path": "data/clip0.nc"},
        "steps": [{"align": {"reference": "ref.nc"}}],
        "output": {"path": "ref.nc"},
    }
    code, err = run_cli(str(write(project, yaml.safe_dump(data))))
    assert code == 2 and "a file the run reads" in err and "ref.nc" in err
    assert (project / "ref.nc").read_bytes() == before


def test_netcdf_writer_refuses_the_file_the_sequence_was_read_from(project):
    path = project / "data" / "clip0.nc"
    before = path.read_bytes()
    read = PoseSequence.read_netcdf(path)
    with pytest.raises(PoseFileError, match="inputs are never overwritten"):
        NetcdfWriter().write(read.with_attrs(fps=10.0), path)
    assert path.read_bytes() == before
    NetcdfWriter().write(read, project / "copy.nc")  # elsewhere is fine


@pytest.mark.parametrize("name", ["../../../ESCAPE", "..", "a/b", ".", ""])
def test_individual_names_stay_one_path_component(project, name):
    sequence(individuals=[name, "ok"]).to_netcdf(project / "data" / "pair.nc")
    data = {"input": {"path": "data/pair.nc"}, "output": {"path": "out/{stem}_{individual}.nc"}}
    report = Pipeline.from_yaml(write(project, yaml.safe_dump(data))).run(progress=False)
    assert report.ok, report.files[0].error
    for output in report.files[0].outputs:
        assert output.parent == project / "out", output
    assert not (project / "ESCAPE.nc").exists() and not list(project.parent.glob("*ESCAPE*"))


def test_a_stem_of_dots_stays_in_the_output_folder(project):
    sequence().to_netcdf(project / "data" / "...nc")  # stem ".."
    data = {"input": {"path": "data/...nc"}, "output": {"path": "out/{stem}/r.nc"}}
    report = Pipeline.from_yaml(write(project, yaml.safe_dump(data))).run(progress=False)
    assert report.ok and report.files[0].outputs == (project / "out" / "__" / "r.nc",)
    assert not (project / "r.nc").exists()


# -- durable writes, stale temporaries ---------------------------------------------------
def test_stale_temporaries_of_a_killed_write_are_cleaned_by_the_next(tmp_path):
    (tmp_path / ".a.nc.abcd_123.tmp").write_text("half written")
    (tmp_path / ".a.nc.zyxw_987.tmp").mkdir()
    (tmp_path / ".a.nc.zyxw_987.tmp" / "0.json").write_text("{}")
    (tmp_path / ".b.nc.abcd_123.tmp").write_text("another output's")
    (tmp_path / ".a.nc.notes").write_text("not ours")
    sequence().to_netcdf(tmp_path / "a.nc")
    assert stale_temporaries(tmp_path / "a.nc") == []
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".a.nc.notes", ".b.nc.abcd_123.tmp", "a.nc",
    ]  # fmt: skip


def test_writes_are_flushed_to_disk_before_and_after_the_rename(tmp_path, monkeypatch):
    synced: list[str] = []
    real = os.fsync

    def spy(handle: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{handle}"))
        real(handle)

    monkeypatch.setattr(os, "fsync", spy)
    with atomic_path(tmp_path / "a.txt") as tmp:
        tmp.write_text("hello")
    assert len(synced) == 2
    assert Path(synced[0]).name.startswith(".a.txt.") and Path(synced[1]) == tmp_path
