"""The frames of a video file or of a folder of images, one at a time.

Videos are decoded by the ffmpeg that imageio-ffmpeg brings, as a stream: one frame in
memory at a time, whatever the video's length. Folders of images are read with Pillow,
in natural name order (``frame2.png`` before ``frame10.png``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import attrs
import numpy as np

from posekit.core.errors import PoseFileError

#: Image files a folder may hold (other files are ignored).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


@attrs.frozen
class FrameSource:
    """Frames to estimate poses on.

    Parameters
    ----------
    path
        The video file or the folder of images.
    fps
        Frames per second: the video's own rate, None for images.
    size
        ``(width, height)`` in pixels of every frame.
    """

    path: Path
    fps: float | None
    size: tuple[int, int]

    def frames(self) -> Iterator[np.ndarray]:
        """The frames in order, each an RGB ``(height, width, 3)`` uint8 array.

        Raises
        ------
        PoseFileError
            If a frame cannot be decoded, or an image has another size than the first.
        """
        if self.path.is_dir():
            yield from _images(self.path, self.size)
        else:
            yield from _video(self.path, self.size)


def open_frames(path: Path) -> FrameSource:
    """The frame source of a video file or a folder of images, checked cheaply (the
    video's header, the first image).

    Raises
    ------
    PoseFileError
        If the path does not exist, ffmpeg cannot read the video, or the folder holds
        no image.

    Examples
    --------
    >>> import tempfile
    >>> from PIL import Image
    >>> folder = Path(tempfile.mkdtemp())
    >>> for i in (2, 10):
    ...     Image.new("RGB", (8, 6)).save(folder / f"frame{i}.png")
    >>> source = open_frames(folder)
    >>> source.size, [frame.shape for frame in source.frames()]
    ((8, 6), [(6, 8, 3), (6, 8, 3)])
    """
    path = Path(path)
    if path.is_dir():
        files = image_files(path)
        if not files:
            raise PoseFileError(
                path, f"no image in this folder (expected {', '.join(IMAGE_SUFFIXES)} files)"
            )
        return FrameSource(path, None, _image(files[0]).shape[1::-1])
    if not path.is_file():
        raise PoseFileError(path, "no such video file or image folder")
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
    try:
        meta = next(reader)
    except (RuntimeError, OSError, StopIteration) as err:
        raise PoseFileError(path, f"ffmpeg cannot read this video: {err}") from None
    finally:
        reader.close()
    width, height = meta["size"]
    fps = meta.get("fps")
    return FrameSource(path, float(fps) if fps else None, (int(width), int(height)))


def image_files(folder: Path) -> list[Path]:
    """The images of a folder in natural name order.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in ("b10.png", "b2.png", "notes.txt"):
    ...     _ = (folder / name).write_bytes(b"")
    >>> [p.name for p in image_files(folder)]
    ['b2.png', 'b10.png']
    """
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    return sorted(files, key=_natural_key)


def _natural_key(path: Path) -> list[int | str]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def _image(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except (OSError, UnidentifiedImageError) as err:
        raise PoseFileError(path, f"cannot read this image: {err}") from None


def _images(folder: Path, size: tuple[int, int]) -> Iterator[np.ndarray]:
    for path in image_files(folder):
        frame = _image(path)
        if frame.shape[1::-1] != size:
            raise PoseFileError(
                path,
                f"image of {frame.shape[1]}x{frame.shape[0]} pixels; the first is {size[0]}x{size[1]}",
            )
        yield frame


def _video(path: Path, size: tuple[int, int]) -> Iterator[np.ndarray]:
    import imageio_ffmpeg

    width, height = size
    reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
    try:
        next(reader)  # the metadata
        for raw in reader:
            yield np.frombuffer(raw, np.uint8).reshape(height, width, 3)
    except RuntimeError as err:
        raise PoseFileError(path, f"ffmpeg failed while decoding: {err}") from None
    finally:
        reader.close()
