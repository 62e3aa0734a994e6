"""Pipelines: building from YAML, checking everything before work, running file by file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from posekit.core.errors import InvalidPipelineError, PipelineError
from posekit.core.sequence import PoseSequence
from posekit.pipeline.config import Input, Output
from posekit.pipeline.overrides import parse_assignment
from posekit.pipeline.run import Pipeline
from posekit.plugins.parameters import build, convert
from posekit.plugins.registry import build_registry, get_skeleton
from posekit.stages.basic import ConfidenceFilter, Remap
from posekit.stages.provenance import apply_stage


def make_sequence(frames: int = 5, individuals: int = 1, seed: int = 0) -> PoseSequence:
    rng = np.random.default_rng(seed)
    confidence = rng.uniform(0.0, 1.0, size=(frames, 17, individuals))
    return PoseSequence.from_arrays(
        rng.normal(size=(frames, 2, 17, individuals)), confidence, skeleton="coco_17", fps=30
    )


def write_pipeline(folder: Path, data: dict, name: str = "pipeline.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
def clips(tmp_path: Path) -> Path:
    """A data folder with three netCDF clips."""
    data = tmp_path / "data"
    data.mkdir()
    for index in range(3):
        make_sequence(seed=index).to_netcdf(data / f"clip{index}.nc")
    return tmp_path


REMAP = {
    "input": {"path": "data/*.nc"},
    "steps": [{"confidence_filter": {"threshold": 0.3}}, {"remap": {"to": "mpi_inf_3dhp_28"}}],
    "output": {"path": "out/{stem}.nc"},
}


def problems(excinfo: pytest.ExceptionInfo[InvalidPipelineError]) -> list[tuple]:
    return [(e.step, e.key) for e in excinfo.value.errors]


def test_run_processes_every_file_relative_to_the_pipeline_folder(clips, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path.parent)  # relative paths must not depend on the cwd
    report = Pipeline.from_yaml(write_pipeline(clips, REMAP)).run(progress=False)
    assert report.ok and len(report.files) == 3
    for index in range(3):
        out = PoseSequence.read_netcdf(clips / "out" / f"clip{index}.nc")
        source = PoseSequence.read_netcdf(clips / "data" / f"clip{index}.nc")
        expected = Remap(to="mpi_inf_3dhp_28")(ConfidenceFilter(0.3)(source))
        np.testing.assert_array_equal(out.positions(), expected.positions())
        assert [entry["stage"] for entry in out.log] == ["confidence_filter", "remap"]
    result = report.files[0]
    assert result.outputs == (clips / "out" / "clip0.nc",)
    assert set(result.timings) == {
        "read",
        "steps[1] (confidence_filter)",
        "steps[2] (remap)",
        "write",
    }


def test_one_file_per_individual(clips):
    make_sequence(individuals=2).to_netcdf(clips / "data" / "pair.nc")
    data = {
        **REMAP,
        "input": {"path": "data/pair.nc"},
        "output": {"path": "out/{stem}-{individual}.nc"},
    }
    report = Pipeline.from_yaml(write_pipeline(clips, data)).run(progress=False)
    assert [p.name for p in report.files[0].outputs] == ["pair-id_0.nc", "pair-id_1.nc"]
    assert PoseSequence.read_netcdf(report.files[0].outputs[1]).individuals == ["id_1"]


def test_a_bad_file_is_reported_and_the_others_complete(clips):
    (clips / "data" / "clip1.nc").write_bytes(b"CDF\x01 not really netcdf")
    report = Pipeline.from_yaml(write_pipeline(clips, REMAP)).run(progress=False)
    assert [r.ok for r in report.files] == [True, False, True]
    assert "clip1.nc" in report.files[1].error and report.files[1].error.startswith("read:")
    assert (clips / "out" / "clip2.nc").exists() and not (clips / "out" / "clip1.nc").exists()
    assert report.summary().startswith("3 files: 2 done, 1 failed")


def test_reader_parameters_are_passed(clips):
    # A movement-style file: joint names but no skeleton and no fps; the reader's
    # parameters supply both, and the remap step needs the skeleton.
    names = list(get_skeleton("coco_17").joint_names)
    PoseSequence.from_arrays(np.ones((3, 2, 17, 1)), keypoints=names).to_netcdf(
        clips / "data" / "bare.nc"
    )
    data = {
        **REMAP,
        "input": {"path": "data/bare.nc", "reader": "netcdf", "skeleton": "coco_17", "fps": 50},
    }
    assert Pipeline.from_yaml(write_pipeline(clips, data)).run(progress=False).ok
    out = PoseSequence.read_netcdf(clips / "out" / "bare.nc")
    assert out.skeleton == "mpi_inf_3dhp_28" and out.fps == 50.0
    # Without the parameter the same file fails in the remap step.
    del data["input"]["skeleton"]
    report = Pipeline.from_yaml(write_pipeline(clips, data)).run(progress=False, force=True)
    assert "no 'skeleton' attr" in report.files[0].error


def test_overrides(clips):
    path = write_pipeline(clips, REMAP)
    pipeline = Pipeline.from_yaml(
        path,
        overrides={
            "steps[2].remap.to": "h36m_17",
            "input.path": "data/clip2.nc",
            "steps[1].confidence_filter.threshold": 0.9,
        },
    )
    assert pipeline.steps == (ConfidenceFilter(threshold=0.9), Remap(to="h36m_17"))
    report = pipeline.run(progress=False)
    assert [r.input.name for r in report.files] == ["clip2.nc"]
    assert PoseSequence.read_netcdf(clips / "out" / "clip2.nc").skeleton == "h36m_17"


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("steps[3].remap.to", ("no step 3", "steps[3].remap.to")),
        ("steps[1].remap.to", ("step 1 is 'confidence_filter'", "steps[1].remap.to")),
        ("steps.remap", ("expected input.KEY", "steps.remap")),
    ],
)
def test_bad_override_keys(clips, key, expected):
    with pytest.raises(InvalidPipelineError) as excinfo:
        Pipeline.from_yaml(write_pipeline(clips, REMAP), overrides={key: "x"})
    [error] = excinfo.value.errors
    assert expected[0] in str(error) and error.key == expected[1]


def test_parse_assignment_reads_yaml_values():
    assert parse_assignment("input.fps=25") == ("input.fps", 25)
    assert parse_assignment("steps[1].select.individuals=[a, b]")[1] == ["a", "b"]
    assert parse_assignment("output.path={stem}-{individual}.nc")[1] == "{stem}-{individual}.nc"
    with pytest.raises(ValueError):
        parse_assignment("no-equals-sign")


def test_every_problem_is_reported_at_once_before_any_work(clips):
    data = {
        "input": {"path": "data/*.nc", "reader": "netcfd"},
        "steps": [
            {"remapp": {"to": "coco_17"}},
            {"remap": {"too": "coco_17"}},
            {"confidence_filter": {"threshold": "high"}},
            {"confidence_filter": {"threshold": 1.5}},
            {"select": {"individuals": "id_0"}},
            {"align": {"per": "second"}},
            42,
        ],
        "output": {"path": "out/{stem}.nc", "writer": "netcdf", "compress": True},
        "outputs": {},
    }
    with pytest.raises(InvalidPipelineError) as excinfo:
        Pipeline.from_yaml(write_pipeline(clips, data))
    assert problems(excinfo) == [
        (None, "outputs"),
        ("steps[1] (remapp)", "remapp"),
        ("steps[2] (remap)", "too"),
        ("steps[2] (remap)", "to"),
        ("steps[3] (confidence_filter)", "threshold"),
        ("steps[4] (confidence_filter)", "threshold"),
        ("steps[5] (select)", "individuals"),
        ("steps[6] (align)", "per"),
        ("steps[7]", None),
        ("input", "reader"),
        ("output", "compress"),
    ]
    message = str(excinfo.value)
    assert str(clips / "pipeline.yaml") in message
    assert "did you mean 'remap'?" in message and "did you mean 'to'?" in message
    assert "did you mean 'netcdf'?" in message and "did you mean 'output'?" in message
    assert "expected float, got 'high'" in message
    assert "threshold must lie in [0, 1]" in message
    assert "expected list[str] | None, got 'id_0'" in message
    assert "one of 'frame', 'window'" in message
    assert not (clips / "out").exists()


def test_missing_input(clips):
    data = {**REMAP, "input": {"path": "nothing/*.nc"}}
    with pytest.raises(InvalidPipelineError) as excinfo:
        Pipeline.from_yaml(write_pipeline(clips, data))
    assert problems(excinfo) == [("input", "path")]
    assert "no file matches" in str(excinfo.value)


def test_an_unrecognised_file_fails_alone_and_the_others_complete(clips):
    (clips / "data" / "notes.nc2").write_text("hello")
    (clips / "data" / "empty.nc2").write_text("")
    for index in range(2):
        (clips / "data" / f"clip{index}.nc").rename(clips / "data" / f"clip{index}.nc2")
    data = {**REMAP, "input": {"path": "data/*.nc2"}}
    report = Pipeline.from_yaml(write_pipeline(clips, data)).run(progress=False)
    failed = {r.input.name: r.error for r in report.failed}
    assert sorted(failed) == ["empty.nc2", "notes.nc2"]
    assert all("no reader recognises" in error for error in failed.values())
    assert sorted(p.name for p in (clips / "out").iterdir()) == ["clip0.nc", "clip1.nc"]


def test_reader_is_sniffed_when_the_suffix_says_nothing(clips):
    (clips / "data" / "clip0.nc").rename(clips / "data" / "clip0.pose")
    data = {**REMAP, "input": {"path": "data/*.pose"}}
    assert Pipeline.from_yaml(write_pipeline(clips, data)).run(progress=False).ok


def test_output_folder_that_cannot_be_created(clips):
    (clips / "blocked").write_text("a file, not a folder")
    data = {**REMAP, "output": {"path": "blocked/{stem}.nc"}}
    with pytest.raises(InvalidPipelineError) as excinfo:
        Pipeline.from_yaml(write_pipeline(clips, data))
    assert problems(excinfo) == [("output", "path")]
    assert "is not a folder" in str(excinfo.value)


def test_output_must_not_overwrite_an_input(clips):
    for path in ("data/{stem}.nc", "data/clip{individual}.nc"):
        data = {**REMAP, "output": {"path": path}}
        with pytest.raises(InvalidPipelineError) as excinfo:
            Pipeline.from_yaml(write_pipeline(clips, data))
        assert problems(excinfo) == [("output", "path")]
        assert "would overwrite the input" in str(excinfo.value)


def test_outputs_must_not_collide(clips):
    data = {**REMAP, "output": {"path": "out/all.nc"}}
    with pytest.raises(InvalidPipelineError, match="put \\{stem\\} in the output path"):
        Pipeline.from_yaml(write_pipeline(clips, data))
    data = {**REMAP, "output": {"path": "out/{name}.nc"}}
    with pytest.raises(InvalidPipelineError, match="unknown placeholder"):
        Pipeline.from_yaml(write_pipeline(clips, data))


def test_file_errors(tmp_path):
    with pytest.raises(InvalidPipelineError, match="cannot read"):
        Pipeline.from_yaml(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("steps: [remap: {to: }")
    with pytest.raises(InvalidPipelineError, match="not valid YAML"):
        Pipeline.from_yaml(tmp_path / "bad.yaml")
    (tmp_path / "list.yaml").write_text("- remap")
    with pytest.raises(InvalidPipelineError, match="expected a mapping"):
        Pipeline.from_yaml(tmp_path / "list.yaml")


def test_invalid_pipeline_error_is_a_pipeline_error():
    with pytest.raises(PipelineError):
        Pipeline.from_dict({"steps": [{"nope": {}}]})


def test_python_pipeline_is_a_stage_and_runs():
    sequence = make_sequence()
    pipeline = Pipeline(steps=[ConfidenceFilter(threshold=0.5), Remap(to="mpi_inf_3dhp_28")])
    assert pipeline.labels == ("steps[1] (confidence_filter)", "steps[2] (remap)")
    piped = pipeline(sequence)
    by_hand = apply_stage(Remap(to="mpi_inf_3dhp_28"), apply_stage(ConfidenceFilter(0.5), sequence))
    # the same values and the same stages; the log's times may differ by a second
    assert np.array_equal(piped.positions(), by_hand.positions(), equal_nan=True)
    assert np.array_equal(piped.confidences(), by_hand.confidences(), equal_nan=True)
    assert np.array_equal(piped.imputed_flags(), by_hand.imputed_flags())
    assert [(e["stage"], e.get("parameters")) for e in piped.log] == [
        (e["stage"], e.get("parameters")) for e in by_hand.log
    ] == [
        ("confidence_filter", {"threshold": 0.5}),
        ("remap", {"to": "mpi_inf_3dhp_28", "from": sequence.skeleton}),
    ]
    with pytest.raises(InvalidPipelineError, match="no input to run on"):
        pipeline.run()


def test_python_pipeline_run(clips):
    pipeline = Pipeline(
        steps=[Remap(to="h36m_17")],
        input=Input("data/clip0.nc"),
        output=Output("out/{stem}.nc"),
        base=clips,
    )
    report = pipeline.run(progress=False)
    assert report.ok and report.files[0].outputs == (clips / "out" / "clip0.nc",)


def test_a_failing_step_names_the_step(clips):
    def explode(sequence: PoseSequence) -> PoseSequence:
        raise ValueError("boom")

    pipeline = Pipeline(
        steps=[explode], input=Input("data/clip0.nc"), output=Output("out/{stem}.nc"), base=clips
    )
    [result] = pipeline.run(progress=False).files
    assert result.error == "steps[1] (explode): boom" and result.outputs == ()


@pytest.mark.parametrize(
    ("value", "annotation", "expected"),
    [
        (1, float, 1.0),
        (True, bool, True),
        (None, "int | None", None),
        (["a", "b"], "list[str]", ["a", "b"]),
        (["a"], "tuple[str, ...]", ("a",)),
        ("frame", "Literal['frame', 'window']", "frame"),
    ],
)
def test_convert_accepts(value, annotation, expected):
    from typing import Literal  # noqa: F401  (used by eval)

    assert (
        convert(value, eval(annotation) if isinstance(annotation, str) else annotation) == expected
    )


@pytest.mark.parametrize(
    ("value", "annotation"),
    [
        (True, int),
        (True, float),
        (1, bool),
        ("1", float),
        ([1], "list[str]"),
        (1, "Literal[True]"),
        ("x", "int | None"),
    ],
)
def test_convert_rejects(value, annotation):
    from typing import Literal  # noqa: F401  (used by eval)

    with pytest.raises(TypeError, match="expected"):
        convert(value, eval(annotation) if isinstance(annotation, str) else annotation)


def test_path_parameters_resolve_against_the_base(tmp_path):
    from posekit.stages.align import Align

    stage, problems_found = build(Align, {"reference": "ref.nc"}, tmp_path)
    assert problems_found == [] and stage.reference == tmp_path / "ref.nc"


def test_import_posekit_is_light_and_exports_pipeline_lazily():
    import subprocess
    import sys

    code = (
        "import sys, posekit\n"
        "print(sorted(m for m in ('xarray', 'torch', 'posekit.pipeline.run') if m in sys.modules))\n"
        "print(posekit.Pipeline.__module__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert done.stdout.split("\n")[:2] == ["[]", "posekit.pipeline.run"]


def test_stage_names_resolve_against_the_pipelines_registry(tmp_path):
    """A skeleton only a pipeline's own registry knows is found by the remap stage, and
    the shared registry is never asked."""
    folder = tmp_path / "skeletons"
    folder.mkdir()
    (folder / "stick_2.toml").write_text(
        'name = "stick_2"\ndescription = "neck and head top"\nsource = "test"\n'
        'convention = "left and right as the person sees it"\n'
        'joints = [["neck", ""], ["head_top", "neck"]]\n'
        '[from.mpi_inf_3dhp_28]\nneck = "neck"\nhead_top = "head_top"\n'
    )
    registry = build_registry(entry_points=False)
    registry.add_skeleton_folder(folder)
    with pytest.raises(InvalidPipelineError, match="stick_2"):
        Pipeline.from_dict({"steps": [{"remap": {"to": "stick_2"}}]})
    pipeline = Pipeline.from_dict({"steps": [{"remap": {"to": "stick_2"}}]}, registry=registry)
    hub = PoseSequence.from_arrays(np.ones((3, 2, 28, 1)), skeleton="mpi_inf_3dhp_28")
    out = pipeline(hub)
    assert out.skeleton == "stick_2" and out.keypoints == ["neck", "head_top"]
    assert out.observed().all() and out.log[-1]["parameters"]["to"] == "stick_2"


def test_a_built_pipeline_is_checked_once(clips, monkeypatch):
    """from_dict globs the inputs and builds the readers; run uses that plan."""
    import posekit.pipeline.run as run_module

    calls = []
    check_run = run_module.check_run
    monkeypatch.setattr(run_module, "check_run", lambda *a: calls.append(a) or check_run(*a))
    data = {"input": {"path": "data/*.nc"}, "steps": ["select"], "output": {"path": "out/{stem}.nc"}}
    pipeline = Pipeline.from_dict(data, base=clips)
    report = pipeline.run(progress=False)
    assert report.ok and len(report.files) == 3 and len(calls) == 1
    Pipeline(steps=[], input=Input("data/*.nc"), output=Output("o/{stem}.nc"), base=clips).run(
        progress=False
    )
    assert len(calls) == 2  # a pipeline built in Python is checked when it runs
