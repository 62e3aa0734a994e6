"""The ``render`` stage: draw the sequence into a PNG, GIF or MP4, pass it on unchanged.

matplotlib is imported only when the stage runs, so listing or checking pipelines
stays fast.
"""

from __future__ import annotations

from pathlib import Path

import attrs

from posekit.core.errors import PosekitError
from posekit.core.sequence import PoseSequence
from posekit.plugins.hookspecs import hookimpl
from posekit.plugins.registry import Registry
from posekit.render.media import output_format
from posekit.render.options import TimeRange, check_time
from posekit.stages.provenance import note


def _time(instance: object, attribute: attrs.Attribute, value: int | str | None) -> None:
    try:
        check_time(value)
    except PosekitError as err:
        raise ValueError(f"{attribute.name}: {err}") from None


def _format(instance: object, attribute: attrs.Attribute, value: Path) -> None:
    try:
        output_format(value)
    except PosekitError as err:
        raise ValueError(str(err)) from None


@attrs.frozen
class Render:
    """Draw the sequence into a PNG, GIF or MP4 file (``render: {out: out/{stem}.gif}``).

    The sequence passes through unchanged (one log entry naming the file is added). Its
    panel is titled with the stages it went through.
    Bones follow the skeleton, left and right (as the person sees it) differ in colour,
    imputed joints are hollow; see ``posekit render --help``.

    Parameters
    ----------
    out
        The file to write: ``.png`` (first frame), ``.gif`` or ``.mp4``. ``{stem}`` is
        replaced by the stem of the sequence's ``source_file`` attr: the file its data
        was first read from (readers of pose-estimator files set it; a netCDF file
        keeps the one it was written with).
    compare
        A pose file drawn to the left, e.g. the pipeline's input; may hold ``{stem}``.
    video
        The source video to draw on; may hold ``{stem}``.
    start, end
        Frames ``[start, end)``: frame numbers, or seconds as ``"2.5s"``; default all.
    height
        Height of each panel in pixels.
    joint_names
        Label the joints with their names.
    fps
        Frame rate of the output; default the sequence's (else the video's, else 30).
    min_confidence
        Joints of a lower confidence are not drawn; default all are.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> from posekit.stages.provenance import apply_stage
    >>> seq = PoseSequence.from_arrays(np.ones((4, 2, 17, 1)), skeleton="coco_17",
    ...                                source_file="clip.json")
    >>> render = Render(out=pathlib.Path(tempfile.mkdtemp()) / "{stem}.png", height=64)
    >>> from posekit.stages.provenance import apply_stage
    >>> out = apply_stage(render, seq)
    >>> pathlib.Path(out.log[-1]["parameters"]["written"]).name
    'clip.png'
    """

    out: Path = attrs.field(validator=_format)
    compare: Path | None = None
    video: Path | None = None
    start: int | str | None = attrs.field(default=None, validator=_time)
    end: int | str | None = attrs.field(default=None, validator=_time)
    height: int = attrs.field(default=360, validator=attrs.validators.ge(64))
    joint_names: bool = False
    fps: float | None = None
    min_confidence: float | None = None

    def __call__(self, sequence: PoseSequence) -> PoseSequence:
        from posekit.io.api import read
        from posekit.render import Style, render

        source = sequence.dataset.attrs.get("source_file")
        stem = Path(source).stem if source else None

        def filled(path: Path) -> Path:
            if "{stem}" not in str(path):
                return path
            if stem is None:
                raise PosekitError(
                    f"render: {path} uses {{stem}} but the sequence has no 'source_file' attr"
                )
            return Path(str(path).replace("{stem}", stem))

        compare = filled(self.compare) if self.compare is not None else None
        steps = ", ".join(entry["stage"] for entry in sequence.log) or "no step"
        here = f"{stem or 'sequence'} after {steps}"
        written = render(
            sequence,
            filled(self.out),
            compare=read(compare) if compare is not None else None,
            video=filled(self.video) if self.video is not None else None,
            time=TimeRange(self.start, self.end),
            style=Style(height=self.height, joint_names=self.joint_names),
            fps=self.fps,
            titles=[here] if compare is None else [compare.name, here],
            min_confidence=self.min_confidence,
            progress=False,
        )
        note(written=str(written))
        return sequence


@hookimpl
def posekit_register_stages(registry: Registry) -> None:
    """Register the render stage."""
    registry.add_stage("render", Render)
