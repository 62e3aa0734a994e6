"""What a run will do, checked once before any work: the input files with the reader
(or estimator) of each, the writer, and the files no output may overwrite.

:func:`check_run` finds every problem at once (each naming the pipeline file, the step
and the key); :meth:`posekit.pipeline.run.Pipeline.from_dict` keeps the resulting
:class:`Plan`, so :meth:`~posekit.pipeline.run.Pipeline.run` neither globs the inputs
nor builds the readers a second time.
"""

from __future__ import annotations

import fnmatch
import glob
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import attrs

from posekit.core.errors import PipelineError, PoseFileError, PosekitError, brief
from posekit.core.sequence import PoseSequence
from posekit.io.choose import choose_reader, choose_writer
from posekit.pipeline.config import output_path, output_pattern, output_template, template_problem
from posekit.plugins.parameters import build
from posekit.plugins.registry import Registry, UnknownNameError

if TYPE_CHECKING:
    from posekit.pipeline.run import Pipeline
    from posekit.plugins.protocols import Estimator, Writer

#: Longest file name (bytes) most file systems accept.
NAME_MAX = 255


@attrs.frozen
class Job:
    """One input: its path, what turns it into a sequence (a reader's ``read`` or an
    estimator's ``estimate``), that step's label in timings and errors, or why nothing
    reads it (that file then fails alone)."""

    path: Path
    read: Callable[[Path], PoseSequence] | None
    label: str = "read"
    problem: str | None = None


@attrs.frozen
class Plan:
    """A checked run: one :class:`Job` per input, the writer (None without an output)
    and every file the run reads, resolved (no output may overwrite one)."""

    jobs: tuple[Job, ...]
    writer: Writer | None
    protected: frozenset[Path]


def check_run(pipeline: Pipeline, registry: Registry, errors: list[PipelineError]) -> Plan:
    """Check a pipeline's steps, inputs and output; problems go to ``errors``.

    Calls each step's ``check()``; with an input, globs the files and builds the reader
    of each; with an output, builds the writer and checks the output paths.
    """
    check_steps(pipeline, errors)
    jobs = input_jobs(pipeline, registry, errors) if pipeline.input is not None else []
    writer = build_writer(pipeline, registry, errors) if pipeline.output is not None else None
    protected = protected_files(pipeline, jobs)
    if pipeline.output is not None:
        check_outputs(pipeline, jobs, errors, protected)
    return Plan(tuple(jobs), writer, protected)


def check_steps(pipeline: Pipeline, errors: list[PipelineError]) -> None:
    """Call each step's ``check()`` if it has one (stages with model files verify
    them there); problems go to ``errors``."""
    for label, step in zip(pipeline.labels, pipeline.steps, strict=True):
        check = getattr(step, "check", None)
        if not callable(check):
            continue
        try:
            check()
        except (PosekitError, OSError) as err:
            key = next((k for k in ("model", "reference") if hasattr(step, k)), None)
            errors.append(PipelineError(pipeline.source, str(err), step=label, key=key))


def input_jobs(pipeline: Pipeline, registry: Registry, errors: list[PipelineError]) -> list[Job]:
    """The files to read, each with its reader; problems go to ``errors``.

    Folders that match are inputs too when a reader reads folders (OpenPose writes
    one JSON file a frame): always with a named reader, else when a reader
    recognises the folder; other folders are passed over.
    """
    assert pipeline.input is not None
    given = os.path.expanduser(pipeline.input.path)
    if given.startswith("~"):
        errors.append(
            PipelineError(
                pipeline.source, f"unknown user in {brief(given)}", step="input", key="path"
            )
        )
        return []
    # The pipeline's folder is a literal path: its [ ] * ? are not pattern characters.
    base = glob.escape(str(pipeline.base))
    pattern = given if os.path.isabs(given) else os.path.join(base, given)
    matches = sorted(Path(p) for p in glob.glob(pattern, recursive=True))
    if pipeline.input.estimator is not None:
        return estimator_jobs(pipeline, pipeline.input.estimator, matches, registry, errors)
    paths = [
        p for p in matches if p.is_file() or (p.is_dir() and reads_folder(pipeline, p, registry))
    ]
    if not paths:
        errors.append(
            PipelineError(pipeline.source, f"no file matches {pattern}", step="input", key="path")
        )
    readers: dict[str, Any] = {}
    jobs: list[Job] = []
    for path in paths:
        try:
            entry = (
                registry.entry("reader", pipeline.input.reader)
                if pipeline.input.reader is not None
                else choose_reader(path, registry)
            )
        except UnknownNameError as err:
            errors.append(PipelineError(pipeline.source, str(err), step="input", key="reader"))
            break
        except PoseFileError as err:  # this file alone fails; the others run
            jobs.append(Job(path, None, problem=str(err)))
            continue
        if entry.name not in readers:
            readers[entry.name], problems = build(
                entry.cls, pipeline.input.parameters, pipeline.base
            )
            for problem in problems:
                errors.append(
                    PipelineError(
                        pipeline.source,
                        f"{problem.message} (reader {entry.name!r})",
                        step="input",
                        key=problem.key,
                    )
                )
        if readers[entry.name] is not None:
            jobs.append(Job(path, readers[entry.name].read))
    return jobs


def estimator_jobs(
    pipeline: Pipeline,
    name: str,
    matches: list[Path],
    registry: Registry,
    errors: list[PipelineError],
) -> list[Job]:
    """The videos (or image folders) an estimator runs on; problems go to ``errors``."""
    assert pipeline.input is not None

    def fail(message: str, key: str | None) -> None:
        errors.append(PipelineError(pipeline.source, message, step="input", key=key))

    try:
        entry = registry.entry("estimator", name)
    except UnknownNameError as err:
        fail(str(err), "estimator")
        return []
    estimator, problems = build(entry.cls, pipeline.input.parameters, pipeline.base)
    for problem in problems:
        fail(f"{problem.message} (estimator {name!r})", problem.key)
    suffixes = tuple(cast("type[Estimator]", entry.cls).suffixes)  # registration checked it
    reads_folders = "" in suffixes
    paths = [p for p in matches if p.is_file() or (p.is_dir() and reads_folders)]
    if not paths:
        fail(f"no file matches {pipeline.base / Path(pipeline.input.path).expanduser()}", "path")
    readable = ", ".join(s for s in suffixes if s)
    if reads_folders:
        readable += " and folders of images"
    jobs: list[Job] = []
    for path in paths:
        if path.is_file() and path.suffix.lower() not in suffixes:
            fail(f"{path}: the estimator {name!r} reads {readable}", "path")
        elif estimator is not None:
            jobs.append(Job(path, estimator.estimate, f"estimate ({name})"))
    return jobs


def reads_folder(pipeline: Pipeline, folder: Path, registry: Registry) -> bool:
    """Whether a matched folder is an input (see :meth:`_input_jobs`)."""
    assert pipeline.input is not None
    if pipeline.input.reader is not None:
        return True
    try:
        choose_reader(folder, registry)
    except PoseFileError:
        return False
    return True


def build_writer(
    pipeline: Pipeline, registry: Registry, errors: list[PipelineError]
) -> Writer | None:
    """The writer object, or None with the problems added to ``errors``."""
    assert pipeline.output is not None
    try:
        entry = (
            registry.entry("writer", pipeline.output.writer)
            if pipeline.output.writer is not None
            else choose_writer(pipeline.output.path, registry)
        )
    except (UnknownNameError, PoseFileError) as err:
        errors.append(PipelineError(pipeline.source, str(err), step="output", key="writer"))
        return None
    writer, problems = build(entry.cls, pipeline.output.parameters, pipeline.base)
    for problem in problems:
        errors.append(
            PipelineError(pipeline.source, problem.message, step="output", key=problem.key)
        )
    return writer


def check_outputs(
    pipeline: Pipeline, jobs: list[Job], errors: list[PipelineError], protected: frozenset[Path]
) -> None:
    """Placeholders known, no two inputs writing one file, no input overwritten, and
    the output folders creatable and writable."""
    assert pipeline.output is not None
    template = output_template(pipeline.base, pipeline.output.path)

    def fail(message: str) -> None:
        errors.append(PipelineError(pipeline.source, message, step="output", key="path"))

    problem = template_problem(pipeline.output.path)
    if problem is not None:
        fail(problem)
        return
    inputs = {job.path.resolve() for job in jobs}
    written: dict[Path, Path] = {}
    for job in jobs:
        target = output_path(template, job.path, "*").resolve()
        if target in written:
            fail(
                f"{written[target]} and {job.path} would both write {target}; "
                "put {stem} in the output path"
            )
            return
        written[target] = job.path
        pattern = output_pattern(os.path.normpath(template), job.path)
        clobbered = sorted(p for p in protected if fnmatch.fnmatchcase(str(p), pattern))
        if clobbered:
            kind = "the input" if clobbered[0] in inputs else "a file the run reads:"
            fail(f"the output {target} would overwrite {kind} {clobbered[0]}")
            return
        long = [part for part in target.parts if len(os.fsencode(part)) > NAME_MAX]
        if long:
            fail(f"the output name {brief(long[0])} is longer than {NAME_MAX} bytes")
            return
        problem = unwritable(target.parent)
        if problem is not None:
            fail(problem)
            return


def protected_files(pipeline: Pipeline, jobs: list[Job]) -> frozenset[Path]:
    """Every file the run reads, resolved: the inputs, the pipeline file, and the
    existing files that a parameter of the reader, a step or the writer names (with
    a ``.safetensors`` model's ``.json`` record)."""
    files = {job.path.resolve() for job in jobs}
    if pipeline.source != "<python>":
        files.add(Path(pipeline.source).resolve())
    values: list[Any] = []
    for section in (pipeline.input, pipeline.output):
        if section is not None:
            values += list(section.parameters.values())
    for step in pipeline.steps:
        if attrs.has(stage_class := type(step)):
            values += [getattr(step, field.name) for field in attrs.fields(stage_class)]
    for value in values:
        if isinstance(value, str | Path) and str(value):
            path = pipeline.base / os.path.expanduser(str(value))
            try:
                if path.is_file():
                    files.add(path.resolve())
                    if path.suffix == ".safetensors":
                        files.add(path.with_suffix(".json").resolve())
            except (OSError, ValueError):  # not a usable path: names no file
                continue
    return frozenset(files)


def unwritable(folder: Path) -> str | None:
    """Why files cannot be created in ``folder`` (or its yet missing parents), or None."""
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        return f"cannot create the output folder {folder}: {existing} is not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"the output folder {existing} is not writable"
    return None
