"""Pipelines: read pose files, run stages on each, write the results.

The pipeline file's schema (``input``, ``steps``, ``output`` and the output path
template) is described in :mod:`posekit.pipeline.config`.

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

import functools
import glob
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from posekit.core.errors import InvalidPipelineError, PipelineError
from posekit.core.progress import showing_progress
from posekit.core.sequence import PoseSequence
from posekit.pipeline.batch import Cluster, run_tasks
from posekit.pipeline.config import (
    Input,
    Output,
    StageLike,
    output_path,
    output_pattern,
    output_template,
    parse_pipeline,
    read_pipeline_file,
)
from posekit.pipeline.plan import Job, Plan, check_run
from posekit.pipeline.report import FileResult, RunReport
from posekit.plugins.registry import Registry, get_registry, registry_in_use
from posekit.stages.provenance import apply_stage

if TYPE_CHECKING:
    from posekit.plugins.protocols import Writer


def _steps(steps: Iterable[StageLike]) -> tuple[StageLike, ...]:
    return tuple(steps)


def _labels(labels: Iterable[str]) -> tuple[str, ...]:
    return tuple(labels)


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
    plan
        The checked inputs, readers, writer and protected files (:mod:`posekit.pipeline.plan`),
        made once by :meth:`from_dict`; :meth:`run` checks the pipeline itself when None.
        The inputs are the files that matched when the pipeline was built.

    Examples
    --------
    >>> import numpy as np
    >>> from posekit.stages.basic import ConfidenceFilter, Remap
    >>> pipeline = Pipeline(steps=[ConfidenceFilter(threshold=0.5), Remap(to="mpi_inf_3dhp_28")])
    >>> seq = PoseSequence.from_arrays(np.ones((4, 2, 17, 1)), skeleton="coco_17")
    >>> pipeline(seq).n_keypoints
    28
    """

    steps: tuple[StageLike, ...] = attrs.field(factory=tuple, converter=_steps)
    input: Input | None = None
    output: Output | None = None
    source: str = "<python>"
    base: Path = attrs.field(factory=Path.cwd, converter=lambda p: Path(p).resolve())
    labels: tuple[str, ...] = attrs.field(converter=_labels)
    plan: Plan | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)

    @labels.default
    def _default_labels(self) -> tuple[str, ...]:
        return tuple(
            f"steps[{i}] ({get_registry().stage_name(s)})" for i, s in enumerate(self.steps, 1)
        )

    def __call__(self, sequence: PoseSequence) -> PoseSequence:
        """Run every step on a sequence, each adding its provenance entry
        (:func:`~posekit.stages.provenance.apply_stage`)."""
        for step in self.steps:
            sequence = apply_stage(step, sequence)
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
        data = read_pipeline_file(path)
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
        with registry_in_use(registry):  # stages resolve their names against it
            parsed = parse_pipeline(data, source, base, registry, errors, overrides)
            pipeline = cls(
                steps=parsed.steps,
                input=parsed.input,
                output=parsed.output,
                source=source,
                base=base,
                labels=parsed.labels,
            )
            plan = check_run(pipeline, registry, errors)
        if errors:
            raise InvalidPipelineError(errors)
        return attrs.evolve(pipeline, plan=plan)

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
        cluster = None if workers is None and scheduler is None else Cluster(workers, scheduler)
        plan = self.plan if registry is None else None
        errors: list[PipelineError] = []
        if self.input is None:
            errors.append(PipelineError(self.source, "no input to run on", step="input"))
        if self.output is None:
            errors.append(PipelineError(self.source, "no output to write", step="output"))
        if plan is None:
            registry = registry or get_registry()
            with registry_in_use(registry):
                plan = check_run(self, registry, errors)
        if errors:
            raise InvalidPipelineError(errors)
        jobs, writer, protected = plan.jobs, plan.writer, plan.protected
        assert writer is not None  # no output, or one that cannot be written, is an error
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
        self, job: Job, writer: Writer, protected: frozenset[Path] = frozenset()
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
                sequence = apply_stage(step, sequence)
                timings[where] = time.perf_counter() - clock
            where = "write"
            clock = time.perf_counter()
            for individual, part in _parts(sequence, self.output.path):
                target = output_path(
                    output_template(self.base, self.output.path), job.path, individual
                )
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

    def _up_to_date(self, job: Job) -> tuple[Path, ...]:
        """The outputs of ``job`` if they exist and are all newer than the input file
        and the pipeline file, else ``()``.

        Outputs are published atomically, so an existing one is complete. With
        ``{individual}`` the outputs are the files matching the template.
        """
        assert self.output is not None
        template = output_template(self.base, self.output.path)
        if "{individual}" in template:
            outputs = tuple(sorted(Path(p) for p in glob.glob(output_pattern(template, job.path))))
        else:
            outputs = (output_path(template, job.path, None),)
        pipeline_file = self.base / Path(self.source).name  # from_yaml's base is its folder
        sources = [job.path, *([pipeline_file] if pipeline_file.is_file() else [])]
        try:
            newest = max(p.stat().st_mtime_ns for p in sources)
            if outputs and all(p.stat().st_mtime_ns > newest for p in outputs):
                return outputs
        except FileNotFoundError:  # removed meanwhile: not up to date
            pass
        return ()


def _parts(sequence: PoseSequence, template: str) -> list[tuple[str | None, PoseSequence]]:
    """The whole sequence, or one sequence per individual if the template says so."""
    if "{individual}" not in template:
        return [(None, sequence)]
    return [(ind, sequence.select(individuals=[ind])) for ind in sequence.individuals]
