"""``posekit render``: draw a pose file as a PNG frame, a GIF or an MP4."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def render(
    file: Annotated[Path, typer.Argument(help="A pose file any registered reader reads.")],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="FILE",
            help="clip.gif, clip.mp4 or frame.png (the first frame of the range). "
            "Default: FILE with the suffix .gif.",
        ),
    ] = None,
    compare: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="Another pose file (e.g. the input) drawn to the left."),
    ] = None,
    video: Annotated[
        Path | None,
        typer.Option(metavar="VIDEO", help="The source video: draw the skeletons on its frames."),
    ] = None,
    start: Annotated[
        str | None, typer.Option(help="First frame: a frame number (45) or seconds (1.5s).")
    ] = None,
    end: Annotated[
        str | None, typer.Option(help="End (excluded): a frame number or seconds.")
    ] = None,
    height: Annotated[int, typer.Option(min=64, help="Height of each panel in pixels.")] = 360,
    joint_names: Annotated[
        bool, typer.Option("--joint-names", help="Label the joints with their names.")
    ] = False,
    fps: Annotated[
        float | None,
        typer.Option(help="Frame rate of the output (and of seconds); default the file's."),
    ] = None,
    min_confidence: Annotated[
        float | None,
        typer.Option(metavar="C", help="Do not draw joints of a lower confidence."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Draw a pose file: bones from its skeleton, left side blue and right side red (as
    the person sees it), measured joints filled and imputed joints hollow (their bones
    dashed), every individual.

    MP4 output and --video need the optional package imageio-ffmpeg
    (pip install 'posekit[render]'). The output is written atomically and never over
    an input.

    \b
    Example:
      posekit render out/clip.nc --out clip.gif --compare clip/alphapose-results.json
      posekit render out/clip.nc --out clip.mp4 --video clip.mp4 --start 2s --end 6s
    """
    from posekit.core.errors import PosekitError
    from posekit.io.api import read
    from posekit.render import Style, TimeRange
    from posekit.render import render as render_file

    target = out if out is not None else file.with_suffix(".gif")
    try:
        written = render_file(
            read(file),
            target,
            compare=read(compare) if compare is not None else None,
            video=video,
            time=TimeRange(start, end),
            style=Style(height=height, joint_names=joint_names),
            fps=fps,
            titles=[p.name for p in (compare, file) if p is not None],
            min_confidence=min_confidence,
            progress=not quiet,
        )
    except (PosekitError, OSError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"wrote {written}")
