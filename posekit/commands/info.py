"""``posekit info``: what a pose file holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def info(
    file: Annotated[Path, typer.Argument(help="A pose file any registered reader reads.")],
    reader: Annotated[
        str | None, typer.Option(help="Reader name; default: chosen by suffix and content.")
    ] = None,
) -> None:
    """Show what a pose file holds: skeleton, frames, fps, individuals, the share of
    keypoints observed and imputed, and the provenance log.

    \b
    Example:
      posekit info out/clip.nc
    """
    from posekit.errors import PosekitError
    from posekit.io.choose import choose_reader
    from posekit.io.tracking import ids_origin
    from posekit.registry import get_registry

    try:
        entry = get_registry().entry("reader", reader) if reader else choose_reader(file)
        sequence = entry.cls().read(file)
    except (PosekitError, OSError, TypeError, ValueError) as err:
        typer.echo(str(err), err=True)
        raise typer.Exit(1) from None
    duration = f" ({sequence.n_frames / sequence.fps:.2f} s)" if sequence.fps else ""
    lines = {
        "file": str(file),
        "reader": entry.name,
        "skeleton": sequence.skeleton or "unknown",
        "frames": f"{sequence.n_frames}{duration}",
        "fps": f"{sequence.fps:g}" if sequence.fps else "unknown",
        "space": f"{sequence.n_space}D",
        "keypoints": str(sequence.n_keypoints),
        "individuals": f"{len(sequence.individuals)}: {', '.join(sequence.individuals)}",
    }
    for key, value in lines.items():
        typer.echo(f"{key:<12} {value}")
    if origin := ids_origin(sequence):
        typer.echo(f"{'ids':<12} {origin}")
    observed, imputed = sequence.observed(), sequence.imputed_flags()
    typer.echo(f"{'observed':<12} {_percent(observed)} of keypoints")
    typer.echo(f"{'imputed':<12} {_percent(imputed)} of keypoints")
    for index, individual in enumerate(sequence.individuals):
        typer.echo(
            f"  {individual}: observed {_percent(observed[index])}, "
            f"imputed {_percent(imputed[index])}"
        )
    log = sequence.log
    typer.echo(f"{'log':<12} {len(log)} entr{'y' if len(log) == 1 else 'ies'}")
    for item in log:
        parameters = json.dumps(item.get("parameters", {}))
        typer.echo(f"  {item.get('time', '?')}  {item.get('stage', '?')}  {parameters}")


def _percent(flags) -> str:  # type: ignore[no-untyped-def]
    return f"{100.0 * flags.mean():.1f} %" if flags.size else "n/a"
