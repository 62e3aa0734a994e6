"""Videos and image folders for the tests, made from scikit-image's astronaut() image
(a photograph of a person, shipped inside scikit-image)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from posekit.render.media import write_frames

#: Frame size of the test videos (width, height).
SIZE = (320, 240)


def astronaut() -> np.ndarray:
    """The 512x512 RGB photograph."""
    data = __import__("pytest").importorskip("skimage.data", reason="needs scikit-image")
    return data.astronaut()


def placed(photo: np.ndarray, scale: float, offset: tuple[int, int]) -> np.ndarray:
    """A frame of :data:`SIZE`: ``photo`` scaled by ``scale``, its top-left corner at
    ``offset``, on a plain dark background."""
    side = round(photo.shape[0] * scale)
    canvas = Image.new("RGB", SIZE, (40, 44, 52))
    canvas.paste(Image.fromarray(photo).resize((side, side), Image.Resampling.LANCZOS), offset)
    return np.asarray(canvas)


def moving_astronaut(path: Path, scales: np.ndarray, offsets: np.ndarray, fps: float) -> Path:
    """An MP4 whose frame ``t`` is the photograph at ``scales[t]`` and ``offsets[t]``."""
    frames = (placed(astronaut(), s, (int(x), int(y))) for s, (x, y) in zip(scales, offsets))
    return write_frames(frames, path, fps=fps)


def empty_video(path: Path, n_frames: int, fps: float) -> Path:
    """An MP4 of smooth colour gradients and noise: no person anywhere."""
    rng = np.random.default_rng(0)
    width, height = SIZE
    ramp = np.linspace(0, 255, width)[None, :, None] * np.ones((height, 1, 3))
    frames = (
        np.clip(ramp * (0.5 + 0.5 * np.sin(t / 5)) + rng.normal(0, 8, ramp.shape), 0, 255).astype(
            np.uint8
        )
        for t in range(n_frames)
    )
    return write_frames(frames, path, fps=fps)
