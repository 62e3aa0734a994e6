"""Make the video of the MediaPipe example: scikit-image's astronaut() photograph
moving and zooming over a plain background.

Writes ``mediapipe/astronaut.mp4`` beside this script (or into the folder given as
the first argument): 40 frames at 20 fps, 320x240 pixels. Each frame pastes the
photograph, scaled by :func:`scale_at`, with its top-left corner at
:func:`offset_at`, so where each landmark should be is known frame by frame.
Needs scikit-image (in posekit's dev extra) and imageio-ffmpeg (``posekit[render]``).

Usage::

    python examples/make_mediapipe_example.py [FOLDER]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

from posekit.render.media import write_frames

FPS = 20
FRAMES = 40
SIZE = (320, 240)  # width, height
BACKGROUND = (40, 44, 52)


def scale_at(frame: int) -> float:
    """Scale of the 512-pixel photograph in ``frame``: 0.36 to 0.44 and back."""
    return 0.40 + 0.04 * np.sin(2 * np.pi * frame / FRAMES)


def offset_at(frame: int) -> tuple[float, float]:
    """Top-left corner of the photograph in ``frame``: left to right, a little down."""
    return 10.0 + 100.0 * frame / (FRAMES - 1), 20.0 + 10.0 * frame / (FRAMES - 1)


def frame_image(photo: np.ndarray, frame: int) -> np.ndarray:
    """One RGB frame: the photograph scaled and pasted at its offset."""
    scale = scale_at(frame)
    side = round(photo.shape[0] * scale)
    pasted = Image.fromarray(photo).resize((side, side), Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", SIZE, BACKGROUND)
    canvas.paste(pasted, tuple(round(v) for v in offset_at(frame)))
    return np.asarray(canvas)


def main(folder: Path) -> Path:
    """Write the video; return its path."""
    from skimage.data import astronaut

    photo = astronaut()
    folder.mkdir(parents=True, exist_ok=True)
    frames = (frame_image(photo, frame) for frame in range(FRAMES))
    return write_frames(frames, folder / "astronaut.mp4", fps=FPS)


if __name__ == "__main__":
    here = Path(__file__).resolve().parent / "mediapipe"
    written = main(Path(sys.argv[1]) if len(sys.argv) > 1 else here)
    print(f"wrote {written} ({written.stat().st_size / 1e3:.0f} kB)")
