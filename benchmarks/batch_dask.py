"""Batch runs: files per minute of the plain loop and of Dask local clusters.

Cuts the shipped AlphaPose example (``examples/cmu_02_05``, 464 frames) into ``--files``
overlapping clips of ``--frames`` frames in a temporary folder and runs the fast-preset
pipeline (alphapose -> remap -> jumps fast -> netcdf) on them with the plain loop, with
torch at each ``--plain-threads`` count (Dask gives each worker process one thread,
``OMP_NUM_THREADS=1``, so 1 compares like with like), and on a local Dask cluster of each
``--workers`` count. For each it prints the wall time (cluster start included), files
per minute, the time spent inside the per-file function (summed over files) and the
overhead per file: the time of every worker (wall time times workers; the plain loop is
one) not spent inside the per-file function, divided by the files. Dask's overhead per
file is a cluster's overhead less the first plain loop's. The plain loops run after one
untimed file (torch imported, model loaded), as the second of many files would; a Dask
worker imports torch and loads the model inside its first file. Then the machine: CPU
model, cores, load average (how busy other processes keep it).

Example::

    python benchmarks/batch_dask.py --files 200 --workers 1,2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import torch
import yaml

from posekit.pipeline.batch import Cluster
from posekit.pipeline.run import Pipeline

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "cmu_02_05" / "alphapose-results.json"


def write_clips(folder: Path, files: int, frames: int) -> None:
    """``files`` AlphaPose files of ``frames`` frames each, cut from the example at
    spread-out starts and renumbered from frame 0."""
    records = json.loads(EXAMPLE.read_text())
    by_frame: dict[int, list[dict]] = {}
    for record in records:
        by_frame.setdefault(int(Path(record["image_id"]).stem), []).append(record)
    last_start = max(by_frame) + 1 - frames
    folder.mkdir(parents=True)
    for number in range(files):
        start = (number * 53) % (last_start + 1)
        clip = [
            {**record, "image_id": f"{frame - start}.jpg"}
            for frame in range(start, start + frames)
            for record in by_frame.get(frame, [])
        ]
        (folder / f"clip_{number:03d}.json").write_text(json.dumps(clip))


def machine() -> str:
    """CPU model, cores, load average and Python of this machine."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip()
            for line in cpuinfo.read_text().splitlines()
            if line.startswith("model name")
        ]
        model = names[0] if names else model
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"{model}, {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), "
        f"load average {load} (1, 5, 15 min), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def measure(pipeline: Pipeline, workers: int | None) -> tuple[float, float]:
    """The wall time of a run and the time spent inside the per-file function (summed)."""
    started = time.perf_counter()
    report = pipeline.run(progress=False, force=True, workers=workers)
    wall = time.perf_counter() - started
    if not report.ok:
        raise SystemExit(f"{len(report.failed)} files failed: {report.failed[0].error}")
    return wall, sum(sum(result.timings.values()) for result in report.files)


def cluster_start(workers: int) -> float:
    """Seconds to start and close a local cluster of ``workers`` processes."""
    started = time.perf_counter()
    with Cluster(workers=workers).client():
        pass
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--frames", type=int, default=120, help="frames per file (30 fps)")
    parser.add_argument("--workers", default="1,2", help="local cluster sizes to time")
    parser.add_argument("--plain-threads", default="1", help="torch threads of plain loops")
    args = parser.parse_args()

    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_clips(root / "clips", args.files, args.frames)
        pipeline_file = root / "pipeline.yaml"
        pipeline_file.write_text(
            yaml.safe_dump(
                {
                    "input": {"reader": "alphapose", "path": "clips/*.json", "fps": 30},
                    "steps": [{"remap": {"to": "mpi_inf_3dhp_28"}}, {"jumps": {"preset": "fast"}}],
                    "output": {"writer": "netcdf", "path": "out/{stem}.nc"},
                }
            )
        )
        pipeline = Pipeline.from_yaml(pipeline_file)
        print(
            f"{args.files} AlphaPose files of {args.frames} frames, "
            "alphapose -> remap -> jumps (preset fast) -> netcdf"
        )
        started = time.perf_counter()
        Pipeline.from_yaml(pipeline_file, {"input.path": "clips/clip_000.json"}).run(
            progress=False, force=True
        )
        print(
            f"warm-up of this process (torch import, model load, one file): "
            f"{time.perf_counter() - started:.1f} s"
        )
        plain: list[float] = []  # overhead per file of each plain loop
        runs = [(int(t), None) for t in args.plain_threads.split(",")]
        runs += [(None, int(w)) for w in args.workers.split(",")]
        for threads, workers in runs:
            if threads is not None:
                torch.set_num_threads(threads)
            wall, inside = measure(pipeline, workers)
            overhead = (wall * (workers or 1) - inside) / args.files
            name = (
                f"plain loop, torch {threads} thread(s)"
                if workers is None
                else f"dask, {workers} local worker(s)"
            )
            line = (
                f"{name:30s} {60 * args.files / wall:7.1f} files/min  wall {wall:7.1f} s  "
                f"in the per-file function {inside:7.1f} s  "
                f"overhead {1000 * overhead:6.1f} ms/file"
            )
            if workers is None:
                plain.append(overhead)
            else:
                line += (
                    f"  (Dask's {1000 * (overhead - plain[0]):+.1f} ms/file; "
                    f"cluster start and close {cluster_start(workers):.1f} s)"
                )
            print(line, flush=True)
    print(f"load average after: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
