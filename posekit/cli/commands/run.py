"""``posekit run``: run a pipeline file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def run(
    pipeline: Annotated[Path, typer.Argument(help="The pipeline file (YAML).")],
    overrides: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            help="Override a value of the file (repeatable): input.KEY, output.KEY or "
            "steps[N].NAME.PARAMETER, steps numbered from 1; the value is read as YAML.",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Redo files whose outputs are up to date.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            metavar="N",
            help="Run the files in parallel on a local Dask cluster of N worker processes.",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            metavar="ADDRESS",
            help="Run the files on an existing Dask cluster (tcp://host:8786).",
        ),
    ] = None,
) -> None:
    """Run a pipeline on every input file and write the outputs.

    The whole pipeline is checked first; every problem is listed (exit status 2).
    A file whose outputs are newer than it and than the pipeline file is skipped
    (--force redoes it). A file that fails is reported and the others still complete;
    the exit status is 1 if any file failed. The last line sums up.

    --workers and --scheduler run each file as a task on Dask (pip install
    "posekit[cluster]"); a cluster that cannot be started or reached is exit status 2.

    \b
    Example:
      posekit run pipeline.yaml --set 'input.path=clips/*.nc' --set 'steps[1].remap.to=coco_17'
      posekit run pipeline.yaml --workers 2
    """
    from posekit.core.errors import ClusterError, InvalidPipelineError
    from posekit.pipeline.overrides import parse_assignment
    from posekit.pipeline.run import Pipeline

    try:
        values = dict(parse_assignment(text) for text in overrides or [])
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="--set") from None
    if workers is not None and scheduler is not None:
        raise typer.BadParameter(
            "--workers starts a local cluster, --scheduler uses an existing one: give one",
            param_hint="--workers",
        )
    try:
        report = Pipeline.from_yaml(pipeline, values).run(
            progress=not quiet, force=force, workers=workers, scheduler=scheduler
        )
    except (InvalidPipelineError, ClusterError) as err:
        typer.echo(str(err), err=True)
        raise typer.Exit(2) from None
    for result in report.files:
        if result.ok:
            typer.echo(result.summary())
        else:
            typer.echo(f"failed: {result.input}: {result.error}", err=True)
    typer.echo(report.summary())
    if not report.ok:
        raise typer.Exit(1)
