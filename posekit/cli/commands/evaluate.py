"""``posekit evaluate``: score predictions against ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def evaluate(
    pred: Annotated[Path, typer.Argument(help="Prediction file, or folder of them.")],
    ref: Annotated[Path, typer.Argument(help="Ground-truth file, or folder (matched by file stem).")],
    json_file: Annotated[
        Path | None, typer.Option("--json", metavar="FILE", help="Write the metrics as JSON.")
    ] = None,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", metavar="FILE", help="Write group and joint rows as CSV.")
    ] = None,
    plots: Annotated[
        Path | None,
        typer.Option("--plots", metavar="DIR", help="Write PCKh curves and per-joint bars as PNG."),
    ] = None,
    given: Annotated[
        str | None,
        typer.Option(
            metavar="JOINTS",
            help="Joints the input gave, comma-separated, or 'upsample' for the 12 of the "
            "upsampling condition. Default: from --input, else the joints the prediction "
            "measured (finite, not imputed) in at least one frame.",
        ),
    ] = None,
    input: Annotated[
        Path | None,
        typer.Option(
            "--input",
            metavar="INPUT",
            help="The input file or folder the predictions came from (matched by stem); "
            "its observed joints are the 'given' group.",
        ),
    ] = None,
    thresholds: Annotated[
        str, typer.Option(metavar="T,T,...", help="PCKh thresholds in head units.")
    ] = "0.1,0.5,1.0",
    joints: Annotated[
        bool, typer.Option("--joints/--no-joints", help="Print the per-joint rows too.")
    ] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Score predictions against ground truth: PCKh, AUC, mean error and jitter for all,
    added and given joints, and per joint (EVALUATION.md's protocol).

    Folders are matched by file stem; a file present on one side only is reported by
    name and makes the exit status 1 (the matched files are still scored). Errors
    that stop the evaluation also exit with 1.

    \b
    Example:
      posekit evaluate out/ eval/test/truth/ --input eval/test/upsample/ --json scores.json --plots plots/
    """
    from posekit.core.errors import PosekitError
    from posekit.evaluation.files import evaluate_files
    from posekit.evaluation.plots import plot_result
    from posekit.evaluation.scoring import parse_joints

    if given is not None and input is not None:
        raise typer.BadParameter("give either --given or --input, not both", param_hint="--given")
    try:
        values = tuple(float(t) for t in thresholds.split(",") if t.strip())
    except ValueError:
        raise typer.BadParameter(f"not numbers: {thresholds!r}", param_hint="--thresholds") from None
    try:
        result = evaluate_files(
            pred,
            ref,
            given=parse_joints(given) if given is not None else None,
            input=input,
            thresholds=values,
            progress=not quiet,
        )
    except (PosekitError, OSError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    typer.echo(result.table(joints=joints))
    written = []
    if json_file is not None:
        written.append(result.write_json(json_file))
    if csv_file is not None:
        written.append(result.write_csv(csv_file))
    if plots is not None:
        written.extend(plot_result(result, plots))
    for path in written:
        typer.echo(f"wrote {path}")
    for name in result.missing["pred"]:
        typer.echo(f"missing prediction: {name} (in {ref} but not in {pred})", err=True)
    for name in result.missing["ref"]:
        typer.echo(f"missing reference: {name} (in {pred} but not in {ref})", err=True)
    clips = len(result.clips)
    typer.echo(f"{clips} clip{'s' if clips != 1 else ''} evaluated"
               + ("" if result.complete else
                  f"; {len(result.missing['pred'])} prediction(s) and "
                  f"{len(result.missing['ref'])} reference(s) missing"))
    if not result.complete:
        raise typer.Exit(1)
