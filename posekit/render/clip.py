"""Render a pose sequence to a PNG frame, a GIF or an MP4: the function behind
``posekit render`` and the ``render`` stage."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from posekit.core.errors import PosekitError
from posekit.core.sequence import PoseSequence
from posekit.ops.confidence import drop_low_confidence
from posekit.render.options import Style, TimeRange

#: Frame rate of the output when neither the caller, the sequence nor the video gives one.
DEFAULT_FPS = 30.0


def describe(sequence: PoseSequence, name: str) -> str:
    """A panel title: the name, then the skeleton, the joints present in any frame (when
    not all) and the share of drawn joint values that are imputed (when any).

    Examples
    --------
    >>> import numpy as np
    >>> seq = PoseSequence.from_arrays(np.zeros((2, 2, 17, 1)), skeleton="coco_17")
    >>> describe(seq, "a.nc")
    'a.nc\\ncoco_17'
    """
    observed = sequence.observed()
    present = int(observed.any(axis=(0, 1)).sum())
    parts = [sequence.skeleton or "no skeleton"]
    if present < sequence.n_keypoints:
        parts.append(f"{present} of {sequence.n_keypoints} joints")
    imputed = sequence.imputed_flags() & observed
    if imputed.any():
        parts.append(f"{100 * imputed.sum() / observed.sum():.0f} % imputed")
    text = ", ".join(parts)
    if len(name) > 30:
        name = f"{name[:13]}…{name[-16:]}"
    return f"{name}\n{text}"


def _name(sequence: PoseSequence) -> str:
    source = sequence.dataset.attrs.get("source_file")
    return Path(source).name if source else "sequence"


def render(
    sequence: PoseSequence,
    out: str | Path,
    *,
    compare: PoseSequence | None = None,
    video: str | Path | None = None,
    time: TimeRange | None = None,
    style: Style | None = None,
    fps: float | None = None,
    titles: Sequence[str] | None = None,
    min_confidence: float | None = None,
    progress: bool = True,
) -> Path:
    """Draw a sequence (and optionally another beside it, or over a video) into a file.

    Parameters
    ----------
    sequence
        A 2D sequence; its skeleton gives the bones.
    out
        ``.png`` (the first frame of the range), ``.gif`` or ``.mp4``. Written
        atomically; it must not be the sequence's input, the compared file or the video.
    compare
        A second sequence drawn to the left of ``sequence`` (e.g. the input of a
        stage, with ``sequence`` its output); frames are matched by number.
    video
        The source video; its frames are drawn behind the skeletons (frame ``n`` of
        the video behind frame ``n`` of the sequence).
    time
        The frames to draw; default all.
    style
        Panel height and joint labels; default :class:`Style`'s defaults.
    fps
        Frame rate of the output and of seconds in ``time``; default the sequence's,
        else the video's, else 30.
    titles
        A name per panel, left to right (the compared file first); default the file
        names in the sequences' ``source_file`` attrs.
    min_confidence
        Joints of a lower confidence are not drawn (as the ``confidence_filter``
        stage does); None: every joint with a position is drawn.
    progress
        Show a progress bar for clips of more than 50 frames.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    PosekitError
        If ``out`` is an input, the time range is empty, a sequence is 3D, or an
        optional package is missing (:class:`~posekit.render.media.MissingDependencyError`).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> seq = PoseSequence.from_arrays(
    ...     np.random.default_rng(0).normal(size=(12, 2, 17, 1)), skeleton="coco_17", fps=30)
    >>> path = render(seq, Path(tempfile.mkdtemp()) / "clip.gif", style=Style(height=120),
    ...               time=TimeRange("0.1s", 9), progress=False)
    >>> from PIL import Image
    >>> Image.open(path).n_frames
    6
    """
    from tqdm import tqdm

    from posekit.render.media import VideoFrames, output_format, require, write_frames

    require("matplotlib", "matplotlib", "rendering")
    from posekit.render.draw import FrameRenderer

    out = Path(out)
    suffix = output_format(out)
    _refuse_inputs(out, sequence, compare, video)
    frames_in = VideoFrames(video) if video is not None else None
    fps = fps or sequence.fps or (frames_in.fps if frames_in else None)
    frames = (time or TimeRange()).frames(sequence.n_frames, fps)
    if suffix == ".png":
        frames = frames[:1]
    panels = [sequence] if compare is None else [compare, sequence]
    if min_confidence is not None:
        panels = [drop_low_confidence(s, min_confidence) for s in panels]
    renderer = FrameRenderer(
        [s.select(frames=slice(frames.start, frames.stop)) for s in panels],
        [describe(s, t) for s, t in zip(panels, titles or map(_name, panels), strict=True)],
        style or Style(),
        video_size=frames_in.size if frames_in else None,
    )
    backgrounds = frames_in.frames(frames.start) if frames_in else None

    def drawn():
        for index in tqdm(range(len(frames)), unit="frame", desc=f"render {out.name}",
                          disable=not progress or len(frames) <= 50):  # fmt: skip
            yield renderer.frame(index, next(backgrounds) if backgrounds else None)

    try:
        return write_frames(drawn(), out, fps or DEFAULT_FPS)
    finally:
        renderer.close()


def _refuse_inputs(
    out: Path, sequence: PoseSequence, compare: PoseSequence | None, video: str | Path | None
) -> None:
    inputs = [s.dataset.attrs.get("source_file") for s in (sequence, compare) if s is not None]
    for path in [*inputs, video]:
        if path and Path(path).resolve() == out.resolve():
            raise PosekitError(
                f"{out}: this is an input of the rendering; write to another path "
                "(inputs are never overwritten)"
            )
