"""Image and video files for rendering: PNG, GIF and MP4 out, video frames in.

PNG and GIF are written with Pillow (a dependency of matplotlib); MP4 output and video
input go through imageio-ffmpeg, which brings its own ffmpeg binary. Every output is
written to a temporary file beside the target, then renamed into place
(:mod:`posekit.core.atomic`).
"""

from __future__ import annotations

import importlib
from collections.abc import Generator, Iterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from posekit.core.atomic import atomic_path
from posekit.core.errors import PosekitError

#: Output suffixes and what they hold.
FORMATS: dict[str, str] = {".png": "one frame", ".gif": "an animation", ".mp4": "a video"}
#: The optional-dependency extra that installs everything rendering needs.
EXTRA = "posekit[render]"


class MissingDependencyError(PosekitError):
    """An optional package that rendering needs is not installed."""


def require(module: str, package: str, purpose: str) -> ModuleType:
    """Import an optional module, or fail naming the package and the pip command.

    Raises
    ------
    MissingDependencyError
        If the module cannot be imported.

    Examples
    --------
    >>> require("json", "json", "testing").__name__
    'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(
            f"{purpose} needs the {package!r} package, which is not installed; install it "
            f"with: python -m pip install {package}  (or: python -m pip install '{EXTRA}')"
        ) from None


def output_format(path: str | Path) -> str:
    """The suffix of an output path, checked against :data:`FORMATS`.

    Raises
    ------
    PosekitError
        If the suffix is not one of them.

    Examples
    --------
    >>> output_format("clip.GIF")
    '.gif'
    """
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(f"{s} ({what})" for s, what in FORMATS.items())
        raise PosekitError(f"{path}: cannot render to {suffix or 'no suffix'!r}; use {known}")
    return suffix


def write_frames(frames: Iterable[np.ndarray], path: str | Path, fps: float) -> Path:
    """Write RGB frames (``(h, w, 3)`` uint8, all the same size) to PNG, GIF or MP4.

    A PNG holds the first frame only. Written atomically.

    Examples
    --------
    >>> import tempfile
    >>> frames = [np.full((8, 10, 3), v, np.uint8) for v in (0, 255)]
    >>> path = write_frames(frames, Path(tempfile.mkdtemp()) / "a.gif", fps=10)
    >>> from PIL import Image
    >>> Image.open(path).n_frames, Image.open(path).size
    (2, (10, 8))
    """
    path = Path(path)
    suffix = output_format(path)
    if suffix == ".mp4":
        ffmpeg = require("imageio_ffmpeg", "imageio-ffmpeg", "writing MP4")
        with atomic_path(path) as tmp:
            _write_mp4(ffmpeg, iter(frames), tmp, fps)
        return path
    from PIL import Image

    images = [Image.fromarray(frame) for frame in frames]
    if not images:
        raise PosekitError(f"{path}: no frame to write")
    with atomic_path(path) as tmp:
        if suffix == ".png":
            images[0].save(tmp, format="PNG")
        else:
            # One palette, from a few frames spread over the clip, keeps colours stable.
            sample = images[:: max(1, len(images) // 8)]
            montage = Image.fromarray(np.concatenate([np.asarray(im) for im in sample]))
            palette = montage.quantize(colors=255, method=Image.Quantize.MEDIANCUT)
            frames_p = [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in images]
            # GIF delays are whole centiseconds: round the frame times, not the delays,
            # so 30 fps plays as 30, 40, 30, ... ms and keeps time.
            ticks = np.round(np.arange(len(images) + 1) * 100 / fps)
            delays = [int(10 * d) for d in np.diff(ticks)]
            frames_p[0].save(tmp, format="GIF", save_all=True, append_images=frames_p[1:],
                             duration=delays, loop=0, optimize=False)  # fmt: skip
    return path


def _write_mp4(ffmpeg: ModuleType, frames: Iterator[np.ndarray], path: Path, fps: float) -> None:
    first = next(frames, None)
    if first is None:
        raise PosekitError(f"{path}: no frame to write")
    height, width = first.shape[:2]
    writer = ffmpeg.write_frames(
        str(path), (width, height), fps=fps, codec="libx264", pix_fmt_out="yuv420p",
        macro_block_size=2, output_params=["-f", "mp4"], ffmpeg_log_level="error",
    )  # fmt: skip
    writer.send(None)
    try:
        writer.send(np.ascontiguousarray(first))
        for frame in frames:
            writer.send(np.ascontiguousarray(frame))
    finally:
        writer.close()


class VideoFrames:
    """The frames of a video file, read in order with imageio-ffmpeg.

    Parameters
    ----------
    path
        The video file.

    Raises
    ------
    MissingDependencyError
        If imageio-ffmpeg is not installed.
    PosekitError
        If the file does not exist or ffmpeg cannot read it.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise PosekitError(f"{self.path}: no such video file")
        self._ffmpeg = require("imageio_ffmpeg", "imageio-ffmpeg", "reading a video")
        self.size, self.fps = self._probe()

    def _probe(self) -> tuple[tuple[int, int], float]:
        reader = self._open()
        try:
            meta = next(reader)
        except (RuntimeError, OSError, StopIteration) as err:
            raise PosekitError(f"{self.path}: ffmpeg cannot read this video: {err}") from None
        finally:
            reader.close()
        width, height = meta["size"]
        return (int(width), int(height)), float(meta["fps"])

    def _open(self) -> Generator[Any, None, None]:
        """ffmpeg's reader: it yields a metadata dict, then each frame's bytes."""
        return self._ffmpeg.read_frames(str(self.path), pix_fmt="rgb24")

    def frames(self, start: int) -> Iterator[np.ndarray | None]:
        """Frames from number ``start`` on, then None forever past the video's end."""
        width, height = self.size
        reader = self._open()
        try:
            next(reader)
            for index, raw in enumerate(reader):
                if index >= start:
                    yield np.frombuffer(raw, np.uint8).reshape(height, width, 3)
        finally:
            reader.close()
        while True:
            yield None
