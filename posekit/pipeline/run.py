"""Pipelines: read pose files, run stages on each, write the results.

A pipeline file (YAML, read with :func:`posekit.pipeline.safe_yaml.load`: ``yaml.safe_load``
with bounded nesting and alias expansion, and no duplicate keys)::

    input:  {reader: netcdf, path: data/*.nc, fps: 30}
    steps:
      - remap: {to: mpi_inf_3dhp_28}
      - confidence_filter: {threshold: 0.3}
    output: {writer: netcdf, path: "out/{stem}.nc"}

- ``input.path`` is a glob pattern; ``reader`` is optional (chosen by the file's suffix,
  then by the readers' content check); every other key of ``input`` is a parameter of
  the reader. ``estimator: NAME`` instead of ``reader`` runs a pose estimator on videos
  (or folders of images): ``input: {estimator: mediapipe, path: clips/*.mp4}``.
- a step is a one-key mapping ``name: {parameters}``, or a bare name;
- ``output.path`` may hold ``{stem}`` (the input file's name without suffix) and
  ``{individual}`` (one file per individual), each a single path component (a ``/`` in
  an individual's name becomes ``_``, a name of dots is spelt with ``_``); ``writer`` is
  optional (chosen by the suffix); every other key of ``output`` is a parameter of the
  writer.

No output may be written over a file the run reads: the inputs, the pipeline file,
and every file named by a parameter (an ``align`` reference, a JUMPS model).

Relative paths, in ``input``/``output`` and in parameters typed ``Path``, resolve against
the pipeline file's folder. The whole pipeline is checked before any work starts, and
every problem is reported at once (:class:`~posekit.core.errors.InvalidPipelineError`).

Running skips an input whose outputs are complete and newer than the input and the
pipeline file (outputs are written atomically, so an existing output is a complete one);
``force`` redoes it. Files run one after another, or as tasks on a Dask cluster
(:mod:`posekit.pipeline.batch`), with the same per-file function.
"""

from __future__ import annotations

import difflib
import fnmatch
import functools
import glob
import os
import string
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs
import yaml

from posekit.pipeline import safe_yaml
from posekit.core.errors import (
    InvalidPipelineError,
    PipelineError,
    PoseFileError,
    PosekitError,
    brief,
)
from posekit.io._values import is_fps
from posekit.io.choose import choose_reader, choose_writer
from posekit.pipeline.overrides import apply_overrides
from posekit.pipeline.parameters import build
from posekit.plugins.registry import Registry, UnknownNameError, get_registry
from posekit.core.sequence import PoseSequence

StageLike = Callable[[PoseSequence], PoseSequence]
"""A stage object, or any callable from PoseSequence to PoseSequence."""

_SECTIONS = ("input", "steps", "output")
_PLACEHOLDERS = ("stem", "individual")
#: Longest file name (bytes) most file systems accept.
_NAME_MAX = 255


@attrs.frozen
class Input:
    """Where a pipeline reads.

    Parameters
    ----------
    path
        A glob pattern (``data/*.nc``); relative to the working folder.
    reader
        A registered reader name; None chooses one per file.
    parameters
        The reader's (or the estimator's) parameters.
    estimator
        A registered estimator name, instead of a reader: the inputs are videos or
        folders of images.

    Examples
    --------
    >>> Input("data/*.nc", parameters={"fps": 30})
    Input(path='data/*.nc', reader=None, parameters={'fps': 30}, estimator=None)
    """

    path: str
    reader: str | None = None
    parameters: Mapping[str, Any] = attrs.field(factory=dict)
    estimator: str | None = None


@attrs.frozen
class Output:
    """Where a pipeline writes.

    Parameters
    ----------
    path
        The output path; ``{stem}`` is the input file's stem, ``{individual}`` writes
        one file per individual.
    writer
        A registered writer name; None chooses it by the path's suffix.
    parameters
        The writer's parameters.

    Examples
    --------
    >>> Output("out/{stem}.nc").writer is None
    True
    """

    path: str
    writer: str | None = None
    parameters: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class FileResult:
    """What happened to one input file.

    Parameters
    ----------
    input
        The input file.
    outputs
        The files written.
    error
        Why it failed (where, then the error), or None if it succeeded.
    timings
        Seconds spent reading, in each step (by step label) and writing.
    frames, individuals, keypoints
        Shape of the written sequence (0 if it failed or was skipped).
    imputed
        Joint values (time × keypoint × individual) that stages generated.
    skipped
        True if the outputs were up to date and the file was not processed again.
    """

    input: Path
    outputs: tuple[Path, ...]
    error: str | None
    timings: Mapping[str, float]
    frames: int = 0
    individuals: int = 0
    keypoints: int = 0
    imputed: int = 0
    skipped: bool = False

    @property
    def ok(self) -> bool:
        """True if the file went through every step and was written, or was up to date."""
        return self.error is None

    def summary(self) -> str:
        """One line: where the result is, its size, what was filled, the time taken.

        Examples
        --------
        >>> FileResult(Path("a.json"), (Path("out/a.nc"),), None, {"read": 0.5},
        ...            frames=10, individuals=1, keypoints=28, imputed=160).summary()
        'out/a.nc: 10 frames, 1 individual, 28 joints, 160 of 280 joint values filled (57%) in 0.5 s'
        >>> FileResult(Path("a.json"), (Path("out/a.nc"),), None, {}, skipped=True).summary()
        'out/a.nc: up to date, skipped'
        """
        where = ", ".join(_shown(p) for p in self.outputs)
        if self.skipped:
            return f"{where}: up to date, skipped"
        values = self.frames * self.individuals * self.keypoints
        share = f" ({100 * self.imputed / values:.0f}%)" if values else ""
        people = f"{self.individuals} individual{'' if self.individuals == 1 else 's'}"
        return (
            f"{where}: {self.frames} frames, {people}, {self.keypoints} joints, "
            f"{self.imputed} of {values} joint values filled{share} in "
            f"{sum(self.timings.values()):.1f} s"
        )


def _shown(path: Path) -> str:
    """A path relative to the working folder when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@attrs.frozen
class RunReport:
    """What a :meth:`Pipeline.run` did, file by file.

    Examples
    --------
    >>> RunReport(files=(), seconds=0.0).summary()
    '0 files: 0 done, 0 failed, 0 skipped in 0.0 s'
    """

    files: tuple[FileResult, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        """True if every file succeeded."""
        return all(result.ok for result in self.files)

    @property
    def failed(self) -> list[FileResult]:
        """The files that failed."""
        return [result for result in self.files if not result.ok]

    @property
    def skipped(self) -> list[FileResult]:
        """The files whose outputs were up to date."""
        return [result for result in self.files if result.skipped]

    def summary(self) -> str:
        """One line: files done, failed and skipped, the time taken and the files done
        per minute."""
        count, failed, skipped = len(self.files), len(self.failed), len(self.skipped)
        done = count - failed - skipped
        rate = f" ({60 * done / self.seconds:.1f} files/min)" if done and self.seconds > 0 else ""
        return (
            f"{count} file{'' if count == 1 else 's'}: {done} done, "
            f"{failed} failed, {skipped} skipped in {self.seconds:.1f} s{rate}"
        )


@attrs.frozen
class _Job:
    """One input: its path, what turns it into a sequence (a reader's ``read`` or an
    estimator's ``estimate``), that step's label in timings and errors, or why nothing
    reads it (that file then fails alone)."""

    path: Path
    read: Callable[[Path], PoseSequence] | None
    label: str = "read"
    problem: str | None = None


@attrs.frozen
class Pipeline:
    """Stages applied in order, and optionally where to read and write.

    A pipeline is itself a stage: calling it on a PoseSequence runs the steps.
    :meth:`run` processes every input file and writes the outputs.

    Parameters
    ----------
    steps
        Stage objects (or any callables from PoseSequence to PoseSequence).
    input, output
        Where :meth:`run` reads and writes; not needed to call the pipeline.
    source
        The pipeline file, named in error messages (``"<python>"`` if built in code).
    base
        Folder against which relative paths resolve (input, output, and parameters
        typed ``Path``); default the working folder at construction.
    labels
        A label per step for messages and timings; default ``steps[N] (name)``.

    Examples
    --------
    >>> import numpy as np
    >>> from posekit.stages.basic import ConfidenceFilter, Remap
    >>> pipeline = Pipeline(steps=[ConfidenceFilter(threshold=0.5), Remap(to="mpi_inf_3dhp_28")])
    >>> seq = PoseSequence.from_arrays(np.ones((4, 2, 17, 1)), skeleton="coco_17")
    >>> pipeline(seq).n_keypoints
    28
    """

    steps: tuple[StageLike, ...] = attrs.field(factory=tuple, converter=tuple)
    input: Input | None = None
    output: Output | None = None
    source: str = "<python>"
    base: Path = attrs.field(factory=Path.cwd, converter=lambda p: Path(p).resolve())
    labels: tuple[str, ...] = attrs.field(converter=tuple)

    @labels.default
    def _default_labels(self) -> tuple[str, ...]:
        return tuple(f"steps[{i}] ({_stage_name(s)})" for i, s in enumerate(self.steps, 1))

    def __call__(self, sequence: PoseSequence) -> PoseSequence:
        """Run every step on a sequence."""
        for step in self.steps:
            sequence = step(sequence)
        return sequence

    # -- building -------------------------------------------------------------------
    @classmethod
    def from_yaml(cls, path: str | Path, overrides: Mapping[str, Any] | None = None) -> Pipeline:
        """Read and check a pipeline file.

        Parameters
        ----------
        path
            The YAML file; relative paths in it resolve against its folder.
        overrides
            Values to set before checking, as ``--set`` gives them:
            ``{"steps[1].remap.to": "coco_17", "input.path": "x.nc"}`` (steps are
            numbered from 1; see :mod:`posekit.pipeline.overrides`).

        Raises
        ------
        InvalidPipelineError
            With every problem found, each naming the file, the step and the key.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (folder / "p.yaml").write_text("steps: [{remap: {to: coco_17}}]")
        >>> Pipeline.from_yaml(folder / "p.yaml").labels
        ('steps[1] (remap)',)
        """
        path = Path(path)
        try:
            raw = path.read_bytes()
        except OSError as err:
            raise InvalidPipelineError(
                [PipelineError(path, f"cannot read: {err.strerror}")]
            ) from None
        try:
            data = safe_yaml.load(raw.decode("utf-8"))
        except UnicodeDecodeError as err:
            line = raw[: err.start].count(b"\n") + 1
            raise InvalidPipelineError(
                [PipelineError(path, f"not UTF-8 text: byte {raw[err.start]:#04x} on line {line}")]
            ) from None
        except yaml.YAMLError as err:
            raise InvalidPipelineError([PipelineError(path, f"not valid YAML: {err}")]) from None
        return cls.from_dict(
            data, source=str(path), base=path.resolve().parent, overrides=overrides
        )

    @classmethod
    def from_dict(
        cls,
        data: Any,
        *,
        source: str = "<python>",
        base: Path | None = None,
        overrides: Mapping[str, Any] | None = None,
        registry: Registry | None = None,
    ) -> Pipeline:
        """Build and check a pipeline from its parsed YAML form.

        ``input`` and ``output`` may be left out (then only calling the pipeline
        works, not :meth:`run`). When they are given, the input files must exist,
        have a reader and not be overwritten, and the output folder must be writable.

        Parameters
        ----------
        data
            ``{"input": ..., "steps": [...], "output": ...}``.
        source
            Named in error messages.
        base
            Folder for relative paths; default the working folder.
        overrides
            As in :meth:`from_yaml`.
        registry
            Where names resolve; default the shared registry.

        Raises
        ------
        InvalidPipelineError
            With every problem found.

        Examples
        --------
        >>> Pipeline.from_dict({"steps": ["remap"]})
        Traceback (most recent call last):
        ...
        posekit.core.errors.InvalidPipelineError: <python>: 1 problem
          <python>, steps[1] (remap), key 'to': missing required parameter (str)
        """
        registry = registry or get_registry()
        base = (base or Path.cwd()).resolve()
        errors: list[PipelineError] = []
        if not isinstance(data, dict):
            raise InvalidPipelineError(
                [PipelineError(source, "expected a mapping with keys input, steps, output")]
            )
        if overrides:
            data, override_errors = apply_overrides(data, overrides, source)
            errors += override_errors
        for key in data:
            if key not in _SECTIONS:
                errors.append(PipelineError(source, _unknown_key(key, _SECTIONS), key=key))
        steps, labels = _parse_steps(data.get("steps", []), source, base, registry, errors)
        sections = {
            name: _parse_section(data, name, source, errors) for name in ("input", "output")
        }
        pipeline = cls(
            steps=steps,
            input=sections["input"],
            output=sections["output"],
            source=source,
            base=base,
            labels=labels,
        )
        pipeline._check_steps(errors)
        jobs: list[_Job] = []
        if pipeline.input is not None:
            jobs = pipeline._input_jobs(registry, errors)
        if pipeline.output is not None:
            pipeline._writer(registry, errors)
            pipeline._check_outputs(jobs, errors, pipeline._protected(jobs))
        if errors:
            raise InvalidPipelineError(errors)
        return pipeline

    # -- running --------------------------------------------------------------------
    def run(
        self,
        *,
        progress: bool = True,
        registry: Registry | None = None,
        force: bool = False,
        workers: int | None = None,
        scheduler: str | None = None,
    ) -> RunReport:
        """Process every input file; a file that fails is reported and the rest go on.

        The input, the reader and writer parameters and the output paths are checked
        first (:class:`~posekit.core.errors.InvalidPipelineError` before any work). An input
        whose outputs exist and are newer than it and than the pipeline file is skipped
        (changes made with ``overrides`` are not seen: use ``force``).

        Parameters
        ----------
        progress
            Show a progress bar over files on stderr (only when there is more than one),
            and let stages show theirs (``jumps``: over windows) when the files run in
            this process.
        registry
            Where reader and writer names resolve; default the shared registry.
        force
            Process every file, even those whose outputs are up to date.
        workers
            Run the files in parallel on a local Dask cluster of this many worker
            processes (needs ``posekit[cluster]``).
        scheduler
            Run the files on an existing Dask cluster: its scheduler's address
            (``tcp://host:8786``). Not together with ``workers``.

        Returns
        -------
        RunReport
            Per-file status, outputs and timings, in the order of the input files.

        Raises
        ------
        InvalidPipelineError
            With every problem found, before any work.
        ClusterError
            If Dask is missing, or the cluster cannot be started or reached.

        Examples
        --------
        >>> import tempfile, pathlib, numpy as np
        >>> from posekit.stages.basic import Remap
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> seq = PoseSequence.from_arrays(np.ones((3, 2, 17, 1)), skeleton="coco_17")
        >>> _ = seq.to_netcdf(folder / "a.nc")
        >>> pipeline = Pipeline(
        ...     steps=[Remap(to="mpi_inf_3dhp_28")],
        ...     input=Input(str(folder / "*.nc")),
        ...     output=Output(str(folder / "out" / "{stem}.nc")),
        ... )
        >>> pipeline.run().summary().startswith("1 file: 1 done, 0 failed")
        True
        """
        from posekit.pipeline.batch import Cluster, run_tasks
        from posekit.core.progress import showing_progress

        cluster = None if workers is None and scheduler is None else Cluster(workers, scheduler)
        registry = registry or get_registry()
        errors: list[PipelineError] = []
        if self.input is None:
            errors.append(PipelineError(self.source, "no input to run on", step="input"))
        if self.output is None:
            errors.append(PipelineError(self.source, "no output to write", step="output"))
        self._check_steps(errors)
        jobs = self._input_jobs(registry, errors) if self.input else []
        writer = self._writer(registry, errors) if self.output else None
        protected = self._protected(jobs)
        if self.output is not None:
            self._check_outputs(jobs, errors, protected)
        if errors:
            raise InvalidPipelineError(errors)
        started = time.perf_counter()
        results: dict[Path, FileResult] = {}
        for job in jobs:
            outputs = () if force else self._up_to_date(job)
            if outputs:
                results[job.path] = FileResult(job.path, outputs, None, {}, skipped=True)
        todo = [job for job in jobs if job.path not in results]
        with showing_progress(progress and cluster is None):  # stages' own bars (one file's)
            done = run_tasks(
                functools.partial(self._run_one, writer=writer, protected=protected),
                todo,
                [job.path for job in todo],
                cluster=cluster,
                progress=progress,
            )
        results.update((result.input, result) for result in done)
        return RunReport(tuple(results[job.path] for job in jobs), time.perf_counter() - started)

    def _run_one(
        self, job: _Job, writer: Any, protected: frozenset[Path] = frozenset()
    ) -> FileResult:
        """Read, transform and write one file; any error is caught and recorded.

        The one per-file function of both the plain loop and the Dask workers: its
        arguments (the checked pipeline, the job, the writer) and its result pickle.
        """
        assert self.output is not None
        timings: dict[str, float] = {}
        outputs: list[Path] = []
        where = job.label
        if job.problem is not None or job.read is None:
            return FileResult(job.path, (), f"{where}: {job.problem}", timings)
        try:
            clock = time.perf_counter()
            sequence = job.read(job.path)
            timings[where] = time.perf_counter() - clock
            for where, step in zip(self.labels, self.steps, strict=True):
                clock = time.perf_counter()
                sequence = step(sequence)
                timings[where] = time.perf_counter() - clock
            where = "write"
            clock = time.perf_counter()
            for individual, part in _parts(sequence, self.output.path):
                target = _output_path(self._template(), job.path, individual)
                if target.resolve() in protected:
                    raise PipelineError(
                        self.source, f"{target} is a file this run reads; it is not overwritten"
                    )
                writer.write(part, target)
                outputs.append(target)
            timings[where] = time.perf_counter() - clock
        except Exception as err:  # noqa: BLE001  (one bad file must not stop the others)
            return FileResult(job.path, tuple(outputs), f"{where}: {err}", timings)
        return FileResult(
            job.path,
            tuple(outputs),
            None,
            timings,
            frames=sequence.n_frames,
            individuals=len(sequence.individuals),
            keypoints=sequence.n_keypoints,
            imputed=int(sequence.imputed_flags().sum()),
        )

    def _up_to_date(self, job: _Job) -> tuple[Path, ...]:
        """The outputs of ``job`` if they exist and are all newer than the input file
        and the pipeline file, else ``()``.

        Outputs are published atomically, so an existing one is complete. With
        ``{individual}`` the outputs are the files matching the template.
        """
        template = self._template()
        if "{individual}" in template:
            outputs = tuple(sorted(Path(p) for p in glob.glob(_output_pattern(template, job.path))))
        else:
            outputs = (_output_path(template, job.path, None),)
        pipeline_file = self.base / Path(self.source).name  # from_yaml's base is its folder
        sources = [job.path, *([pipeline_file] if pipeline_file.is_file() else [])]
        try:
            newest = max(p.stat().st_mtime_ns for p in sources)
            if outputs and all(p.stat().st_mtime_ns > newest for p in outputs):
                return outputs
        except FileNotFoundError:  # removed meanwhile: not up to date
            pass
        return ()

    # -- checks ---------------------------------------------------------------------
    def _template(self) -> str:
        """The output path template, absolute (braces in the folder doubled, so they
        are literal)."""
        assert self.output is not None
        base = str(self.base).replace("{", "{{").replace("}", "}}")
        return os.path.join(base, os.path.expanduser(self.output.path))

    def _protected(self, jobs: list[_Job]) -> frozenset[Path]:
        """Every file the run reads, resolved: the inputs, the pipeline file, and the
        existing files that a parameter of the reader, a step or the writer names (with
        a ``.safetensors`` model's ``.json`` record)."""
        files = {job.path.resolve() for job in jobs}
        if self.source != "<python>":
            files.add(Path(self.source).resolve())
        values: list[Any] = []
        for section in (self.input, self.output):
            if section is not None:
                values += list(section.parameters.values())
        for step in self.steps:
            if attrs.has(type(step)):
                values += list(attrs.asdict(step, recurse=False).values())
        for value in values:
            if isinstance(value, str | Path) and str(value):
                path = self.base / os.path.expanduser(str(value))
                try:
                    if path.is_file():
                        files.add(path.resolve())
                        if path.suffix == ".safetensors":
                            files.add(path.with_suffix(".json").resolve())
                except (OSError, ValueError):  # not a usable path: names no file
                    continue
        return frozenset(files)

    def _check_steps(self, errors: list[PipelineError]) -> None:
        """Call each step's ``check()`` if it has one (stages with model files verify
        them there); problems go to ``errors``."""
        for label, step in zip(self.labels, self.steps, strict=True):
            check = getattr(step, "check", None)
            if not callable(check):
                continue
            try:
                check()
            except (PosekitError, OSError) as err:
                key = next((k for k in ("model", "reference") if hasattr(step, k)), None)
                errors.append(PipelineError(self.source, str(err), step=label, key=key))

    def _input_jobs(self, registry: Registry, errors: list[PipelineError]) -> list[_Job]:
        """The files to read, each with its reader; problems go to ``errors``.

        Folders that match are inputs too when a reader reads folders (OpenPose writes
        one JSON file a frame): always with a named reader, else when a reader
        recognises the folder; other folders are passed over.
        """
        assert self.input is not None
        given = os.path.expanduser(self.input.path)
        if given.startswith("~"):
            errors.append(
                PipelineError(
                    self.source, f"unknown user in {brief(given)}", step="input", key="path"
                )
            )
            return []
        # The pipeline's folder is a literal path: its [ ] * ? are not pattern characters.
        base = glob.escape(str(self.base))
        pattern = given if os.path.isabs(given) else os.path.join(base, given)
        matches = sorted(Path(p) for p in glob.glob(pattern, recursive=True))
        if self.input.estimator is not None:
            return self._estimator_jobs(self.input.estimator, matches, registry, errors)
        paths = [p for p in matches if p.is_file() or (p.is_dir() and self._reads_folder(p, registry))]
        if not paths:
            errors.append(
                PipelineError(self.source, f"no file matches {pattern}", step="input", key="path")
            )
        readers: dict[str, Any] = {}
        jobs: list[_Job] = []
        for path in paths:
            try:
                entry = (
                    registry.entry("reader", self.input.reader)
                    if self.input.reader is not None
                    else choose_reader(path, registry)
                )
            except UnknownNameError as err:
                errors.append(PipelineError(self.source, str(err), step="input", key="reader"))
                break
            except PoseFileError as err:  # this file alone fails; the others run
                jobs.append(_Job(path, None, problem=str(err)))
                continue
            if entry.name not in readers:
                readers[entry.name], problems = build(entry.cls, self.input.parameters, self.base)
                for problem in problems:
                    errors.append(
                        PipelineError(
                            self.source,
                            f"{problem.message} (reader {entry.name!r})",
                            step="input",
                            key=problem.key,
                        )
                    )
            if readers[entry.name] is not None:
                jobs.append(_Job(path, readers[entry.name].read))
        return jobs

    def _estimator_jobs(
        self, name: str, matches: list[Path], registry: Registry, errors: list[PipelineError]
    ) -> list[_Job]:
        """The videos (or image folders) an estimator runs on; problems go to ``errors``."""
        assert self.input is not None

        def fail(message: str, key: str | None) -> None:
            errors.append(PipelineError(self.source, message, step="input", key=key))

        try:
            entry = registry.entry("estimator", name)
        except UnknownNameError as err:
            fail(str(err), "estimator")
            return []
        estimator, problems = build(entry.cls, self.input.parameters, self.base)
        for problem in problems:
            fail(f"{problem.message} (estimator {name!r})", problem.key)
        suffixes = tuple(entry.cls.suffixes)
        reads_folders = "" in suffixes
        paths = [p for p in matches if p.is_file() or (p.is_dir() and reads_folders)]
        if not paths:
            fail(f"no file matches {self.base / Path(self.input.path).expanduser()}", "path")
        readable = ", ".join(s for s in suffixes if s)
        if reads_folders:
            readable += " and folders of images"
        jobs: list[_Job] = []
        for path in paths:
            if path.is_file() and path.suffix.lower() not in suffixes:
                fail(f"{path}: the estimator {name!r} reads {readable}", "path")
            elif estimator is not None:
                jobs.append(_Job(path, estimator.estimate, f"estimate ({name})"))
        return jobs

    def _reads_folder(self, folder: Path, registry: Registry) -> bool:
        """Whether a matched folder is an input (see :meth:`_input_jobs`)."""
        assert self.input is not None
        if self.input.reader is not None:
            return True
        try:
            choose_reader(folder, registry)
        except PoseFileError:
            return False
        return True

    def _writer(self, registry: Registry, errors: list[PipelineError]) -> Any:
        """The writer object, or None with the problems added to ``errors``."""
        assert self.output is not None
        try:
            entry = (
                registry.entry("writer", self.output.writer)
                if self.output.writer is not None
                else choose_writer(self.output.path, registry)
            )
        except (UnknownNameError, PoseFileError) as err:
            errors.append(PipelineError(self.source, str(err), step="output", key="writer"))
            return None
        writer, problems = build(entry.cls, self.output.parameters, self.base)
        for problem in problems:
            errors.append(
                PipelineError(self.source, problem.message, step="output", key=problem.key)
            )
        return writer

    def _check_outputs(
        self, jobs: list[_Job], errors: list[PipelineError], protected: frozenset[Path]
    ) -> None:
        """Placeholders known, no two inputs writing one file, no input overwritten, and
        the output folders creatable and writable."""
        assert self.output is not None
        template = self._template()

        def fail(message: str) -> None:
            errors.append(PipelineError(self.source, message, step="output", key="path"))

        problem = _template_problem(self.output.path)
        if problem is not None:
            fail(problem)
            return
        inputs = {job.path.resolve() for job in jobs}
        written: dict[Path, Path] = {}
        for job in jobs:
            target = _output_path(template, job.path, "*").resolve()
            if target in written:
                fail(
                    f"{written[target]} and {job.path} would both write {target}; "
                    "put {stem} in the output path"
                )
                return
            written[target] = job.path
            pattern = _output_pattern(os.path.normpath(template), job.path)
            clobbered = sorted(p for p in protected if fnmatch.fnmatchcase(str(p), pattern))
            if clobbered:
                kind = "the input" if clobbered[0] in inputs else "a file the run reads:"
                fail(f"the output {target} would overwrite {kind} {clobbered[0]}")
                return
            long = [part for part in target.parts if len(os.fsencode(part)) > _NAME_MAX]
            if long:
                fail(f"the output name {brief(long[0])} is longer than {_NAME_MAX} bytes")
                return
            problem = _unwritable(target.parent)
            if problem is not None:
                fail(problem)
                return


# -- helpers ------------------------------------------------------------------------
def _unknown_key(key: Any, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(str(key), known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown key{hint} (known: {', '.join(known)})"


def _stage_name(step: StageLike) -> str:
    """The registered name of a stage object's class, else the class or function name."""
    for entry in get_registry().stages.values():
        if type(step) is entry.cls:
            return entry.name
    return getattr(step, "__name__", type(step).__name__)


def _parse_steps(
    items: Any, source: str, base: Path, registry: Registry, errors: list[PipelineError]
) -> tuple[list[StageLike], list[str]]:
    """Stage objects and labels from the ``steps`` list; problems go to ``errors``."""
    if not isinstance(items, list):
        errors.append(PipelineError(source, "expected a list of steps", key="steps"))
        return [], []
    steps: list[StageLike] = []
    labels: list[str] = []
    for number, item in enumerate(items, 1):
        if isinstance(item, str):
            item = {item: None}
        if not (isinstance(item, dict) and len(item) == 1):
            errors.append(
                PipelineError(
                    source,
                    f"expected 'name: {{parameters}}' or a bare name, got {brief(item)}",
                    step=f"steps[{number}]",
                )
            )
            continue
        [(name, parameters)] = item.items()
        shown = name if isinstance(name, str) and len(name) <= 60 else brief(name)
        label = f"steps[{number}] ({shown})"
        if parameters is None:
            parameters = {}
        if not isinstance(parameters, dict):
            errors.append(
                PipelineError(
                    source, f"expected a mapping of parameters, got {brief(parameters)}", step=label
                )
            )
            continue
        try:
            entry = registry.entry("stage", str(name))
        except UnknownNameError as err:
            errors.append(PipelineError(source, str(err), step=label, key=shown))
            continue
        stage, problems = build(entry.cls, parameters, base)
        for problem in problems:
            errors.append(PipelineError(source, problem.message, step=label, key=problem.key))
        if stage is not None:
            steps.append(stage)
            labels.append(label)
    return steps, labels


def _parse_section(
    data: dict[str, Any], name: str, source: str, errors: list[PipelineError]
) -> Any:
    """``Input`` or ``Output`` from its mapping; None if absent or (with problems in
    ``errors``) malformed."""
    section = data.get(name)
    kind = "reader" if name == "input" else "writer"
    if section is None:
        return None
    if not isinstance(section, dict):
        errors.append(PipelineError(source, f"expected a mapping, got {brief(section)}", step=name))
        return None
    plugin_keys = ("reader", "estimator") if name == "input" else ("writer",)
    parameters = {k: v for k, v in section.items() if k not in ("path", *plugin_keys)}
    path, plugin = section.get("path"), section.get(kind)
    estimator = section.get("estimator") if name == "input" else None
    ok = True
    if estimator is not None and not isinstance(estimator, str):
        errors.append(
            PipelineError(source, "expected an estimator name", step=name, key="estimator")
        )
        ok = False
    if estimator is not None and plugin is not None:
        errors.append(PipelineError(
            source, "give a reader (pose files) or an estimator (videos), not both",
            step=name, key="estimator",
        ))  # fmt: skip
        ok = False
    if not isinstance(path, str) or not path:
        errors.append(PipelineError(source, "expected a path (a string)", step=name, key="path"))
        ok = False
    if plugin is not None and not isinstance(plugin, str):
        errors.append(PipelineError(source, f"expected a {kind} name", step=name, key=kind))
        ok = False
    fps = parameters.get("fps")
    if name == "input" and fps is not None and not is_fps(fps):
        errors.append(
            PipelineError(
                source, f"expected a positive finite number, got {brief(fps)}", step=name, key="fps"
            )
        )
        ok = False
    if not ok:
        return None
    if name == "input":
        return Input(path, plugin, parameters, estimator)
    return Output(path, plugin, parameters)


def _component(value: str) -> str:
    """A template value as one path component: no separators, not ``.``, ``..`` or ``""``.

    Examples
    --------
    >>> _component("../../ESCAPE"), _component(".."), _component("clip 1")
    ('.._.._ESCAPE', '__', 'clip 1')
    """
    value = value.replace("/", "_").replace("\\", "_").replace("\0", "_")
    return value.replace(".", "_") if value.strip(".") == "" else value


def _output_path(template: str, input_path: Path, individual: str | None) -> Path:
    """The output path for one input (and individual)."""
    return Path(
        template.format(
            stem=_component(input_path.stem),
            individual=None if individual is None else _component(individual),
        )
    )


def _output_pattern(template: str, input_path: Path) -> str:
    """A glob pattern of the output paths of one input: ``{individual}`` becomes ``*``,
    everything else is literal."""
    return glob.escape(template).format(
        stem=glob.escape(_component(input_path.stem)), individual="*"
    )


def _template_problem(template: str) -> str | None:
    """Why an output path template is malformed, or None.

    Examples
    --------
    >>> _template_problem("out/{stem}-{individual}.nc") is None
    True
    >>> _template_problem("out/{stem")
    "the output path 'out/{stem' is not a template: expected '}' before end of string"
    >>> _template_problem("{stem:>5000}")
    'placeholders take no format spec or conversion: {stem:>5000}; use {stem} and {individual}'
    """
    if os.path.expanduser(template).startswith("~"):
        return f"unknown user in {brief(template)}"
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError as err:
        return f"the output path {brief(template)} is not a template: {err}"
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in _PLACEHOLDERS:
            return f"unknown placeholder {{{brief(name)[1:-1]}}}; use {{stem}} and {{individual}}"
        if spec or conversion:
            marks = (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            shown = "{" + name + marks + "}"
            return (
                f"placeholders take no format spec or conversion: {brief(shown)[1:-1]}; "
                "use {stem} and {individual}"
            )
    return None


def _parts(sequence: PoseSequence, template: str) -> list[tuple[str | None, PoseSequence]]:
    """The whole sequence, or one sequence per individual if the template says so."""
    if "{individual}" not in template:
        return [(None, sequence)]
    return [(ind, sequence.select(individuals=[ind])) for ind in sequence.individuals]


def _unwritable(folder: Path) -> str | None:
    """Why files cannot be created in ``folder`` (or its yet missing parents), or None."""
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        return f"cannot create the output folder {folder}: {existing} is not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"the output folder {existing} is not writable"
    return None
