"""Time reading a one-hour AlphaPose file: 108 000 frames (30 fps) of 2 tracked people.

Generates ``alphapose-results.json`` (Halpe-26 keypoints, ``idx`` track ids, as
AlphaPose writes with tracking on) in a temporary folder, reads it three times with
:class:`posekit.io.alphapose.AlphaPoseReader` and prints the median read time and the
machine.

Usage::

    python benchmarks/read_alphapose.py [--frames 108000] [--persons 2] [--keypoints 26]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from posekit.io.alphapose import AlphaPoseReader


def write_file(path: Path, frames: int, persons: int, keypoints: int, seed: int = 0) -> None:
    """Write a synthetic AlphaPose results file with smooth random tracks."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, 1.0, (persons, frames, keypoints, 2)).cumsum(axis=1)
    xy = 300.0 + 100.0 * np.arange(persons)[:, None, None, None] + steps
    score = rng.uniform(0.05, 1.0, (persons, frames, keypoints, 1))
    values = np.round(np.concatenate([xy, score], axis=-1), 3)
    records = [
        {
            "image_id": f"{frame}.jpg",
            "category_id": 1,
            "keypoints": values[person, frame].ravel().tolist(),
            "score": 2.5,
            "box": [100.0, 100.0, 200.0, 400.0],
            "idx": [[float(person + 1)]],
        }
        for frame in range(frames)
        for person in range(persons)
    ]
    path.write_text(json.dumps(records))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=108_000)
    parser.add_argument("--persons", type=int, default=2)
    parser.add_argument("--keypoints", type=int, default=26, choices=(17, 26, 133, 136))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "alphapose-results.json"
        write_file(path, args.frames, args.persons, args.keypoints)
        size_mb = path.stat().st_size / 1e6
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            sequence = AlphaPoseReader(fps=30).read(path)
            times.append(time.perf_counter() - start)
    print(
        f"read {args.frames} frames x {args.persons} persons x {args.keypoints} keypoints "
        f"({size_mb:.0f} MB) -> {sequence!r}"
    )
    print(
        f"read time: median {statistics.median(times):.2f} s of {args.repeats} ({', '.join(f'{t:.2f}' for t in times)})"
    )
    print(
        f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, numpy {np.__version__}"
    )


if __name__ == "__main__":
    main()
