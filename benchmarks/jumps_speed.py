"""Speed of the ``jumps`` stage: input frames per second and peak memory.

Runs the stage on one long 2D sequence (the 12 joints of the upsampling condition
observed) at each preset, three times, and prints the median frames per second, the
device, the CPU core count and the process's peak memory.

Example::

    python benchmarks/jumps_speed.py --frames 3000 --presets paper,fast
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import time

import numpy as np
import torch

from posekit.registry import get_skeleton
from posekit.sequence import PoseSequence
from posekit.stages.jumps import Jumps

UPSAMPLE_JOINTS = (
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip


def long_sequence(n_frames: int, model: str | None, seed: int = 0) -> PoseSequence:
    """A plausible long sequence: generator samples, in pixels, 12 joints observed."""
    from posekit.jumps.checkpoint import load_model

    generator = load_model(model).G
    n_windows = -(-n_frames // 24)
    with torch.no_grad():
        z = torch.randn(n_windows, generator.latent, generator=torch.Generator().manual_seed(seed))
        poses = generator.positions(z).reshape(-1, 28, 2)[:n_frames].double().numpy()
    positions = poses * 100.0 + np.array([960.0, 540.0])
    hidden = np.setdiff1d(np.arange(28), get_skeleton("mpi_inf_3dhp_28").indices(UPSAMPLE_JOINTS))
    positions[:, hidden] = np.nan
    return PoseSequence.from_arrays(
        positions.transpose(0, 2, 1)[..., None], skeleton="mpi_inf_3dhp_28", fps=30
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=3000)
    parser.add_argument("--presets", default="paper,fast")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--model", default=None, help="checkpoint (default: the shipped model)")
    args = parser.parse_args()

    sequence = long_sequence(args.frames, args.model)
    device = "cuda" if args.device == "auto" and torch.cuda.is_available() else args.device
    device = "cpu" if device == "auto" else device
    name = torch.cuda.get_device_name() if device == "cuda" else platform.processor() or "CPU"
    print(f"device {device} ({name}), {os.cpu_count()} CPU cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; {args.frames} frames")
    for preset in args.presets.split(","):
        stage = Jumps(model=args.model, preset=preset, device=device)
        seconds = []
        for _ in range(args.runs):
            started = time.perf_counter()
            stage(sequence)
            seconds.append(time.perf_counter() - started)
        median = statistics.median(seconds)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{preset:6s} {args.frames / median:8.1f} frames/s  (median of {args.runs}: "
              f"{median:.1f} s; runs {', '.join(f'{s:.1f}' for s in seconds)}); "
              f"peak memory so far {peak_mb:.0f} MB; settings {stage.resolved()}")


if __name__ == "__main__":
    main()
