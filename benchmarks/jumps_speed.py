"""Speed and memory of ``remap`` -> ``jumps`` on estimator-like AlphaPose files.

The input is the project's own example, long: CMU test clip 02_05 projected by the
evaluation camera (:func:`examples.make_example.projected_truth`), played forwards and
backwards until it lasts the requested minutes (so the motion has no seams), then seen
by the simulated estimator of :mod:`training.build_eval` (noise of 0.05 head sizes,
occlusion bursts written as low-confidence guesses). The three-person variant shifts and
time-rolls the same motion per person (AlphaPose track ids ``idx``). Files are made once
and kept in ``--work``.

Each case runs in child processes, as a user runs it:

- end to end: ``python -m posekit run pipeline.yaml -q --force`` (read, ``remap``, the
  stage, write netCDF);
- the stage alone: a child that reads and remaps the same file, runs the stage once on
  two seconds of it (loading the model, once per process), then times the stage;

and reports frames per second (input frames x people / seconds) of both (and per CPU
second of the stage: steadier than wall time on a busy machine), the peak resident
memory of the end-to-end child (``ru_maxrss`` from ``os.wait4``) and of the stage alone
(the high-water mark reset when it starts, Linux only), and, for ``jumps``, the
objective evaluations the windows actually took (from the stage's provenance log).
``--threads`` sets the children's torch threads (one can beat two on a busy machine).

Default run (a few minutes on 2 CPU cores): the ``fast`` preset and ``ridge_window`` on
the 1- and 10-minute files, the ``paper`` preset on the 1-minute file; ``--hour`` adds
the 60-minute files (one and three people). Example::

    python benchmarks/jumps_speed.py                      # from the repository root
    python benchmarks/jumps_speed.py --hour --model runs/new/jumps.safetensors
    python benchmarks/jumps_speed.py --minutes 10 --methods fast --runs 3
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's posekit, training and examples
CLIP = "02_05"
FPS = 30
#: Methods: a ``jumps`` preset name or a baseline stage.
BASELINES = ("ridge", "ridge_window")


def looped_truth(truth: np.ndarray, n_frames: int, roll: int = 0) -> np.ndarray:
    """``(n_frames, J, 2)``: ``truth`` played forwards then backwards, repeatedly.

    Examples
    --------
    >>> looped_truth(np.arange(3)[:, None, None], 7)[:, 0, 0].tolist()
    [0, 1, 2, 2, 1, 0, 0]
    """
    period = np.concatenate([truth, truth[::-1]])
    index = (np.arange(n_frames) + roll) % len(period)
    return period[index]


def make_input(path: Path, minutes: float, people: int, mocap: Path) -> int:
    """Write an AlphaPose file of ``minutes`` of ``people`` tracked people; its frames."""
    from examples.make_example import SEED, projected_truth, write_json
    from training.build_eval import alphapose_records, make_conditions

    truth = projected_truth(CLIP, mocap)
    n_frames = round(minutes * 60 * FPS)
    records = []
    for person in range(people):
        long = looped_truth(truth, n_frames, roll=person * len(truth) // max(people, 1))
        long = long + np.array([250.0 * (person - (people - 1) / 2), 0.0])
        name = f"{CLIP}_{minutes}min_{person}"
        conditions = make_conditions(name, long, SEED + person)
        for record in alphapose_records(
            name, long, conditions["hpe_noisy"], conditions["hpe_occluded"], SEED + person
        ):
            record["idx"] = person
            records.append(record)
    records.sort(key=lambda r: (int(r["image_id"].split(".")[0]), r["idx"]))
    write_json(path, records)
    return n_frames


def pipeline_file(folder: Path, data: Path, method: str, model: str | None, device: str) -> Path:
    """A pipeline of ``remap`` then ``method`` (a ``jumps`` preset or a baseline)."""
    if method in BASELINES:
        step = {method: {}}
    else:
        step = {"jumps": {"preset": method, "device": device}}
        if model is not None:
            step["jumps"]["model"] = str(Path(model).resolve())
    pipeline = {
        "input": {"reader": "alphapose", "path": str(data), "fps": FPS},
        "steps": [{"remap": {"to": "mpi_inf_3dhp_28"}}, step],
        "output": {"writer": "netcdf", "path": str(folder / "out" / f"{method}.nc")},
    }
    path = folder / f"{method}.yaml"
    path.write_text(json.dumps(pipeline))  # JSON is YAML
    return path


def run_child(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run a child process; its wall seconds, peak RSS (MB) and stdout."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=err, text=True, env=env)
        # wait4 gives this child's own rusage (RUSAGE_CHILDREN would be the peak of all).
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = code = os.waitstatus_to_exitcode(status)  # reaped: tell Popen
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if code:
        raise SystemExit(f"{' '.join(command)} failed ({code}):\n{stderr[-3000:]}")
    return seconds, usage.ru_maxrss / 1024, stdout


def stage_alone(path: Path) -> None:
    """Child mode: read and remap the pipeline's input, time its last step, print JSON."""
    from posekit.io.alphapose import AlphaPoseReader
    from posekit.pipeline.run import Pipeline
    from posekit.stages.provenance import apply_stage

    pipeline = Pipeline.from_yaml(path)
    sequence = AlphaPoseReader(fps=FPS).read(json.loads(path.read_text())["input"]["path"])
    *before, stage = pipeline.steps
    for step in before:
        sequence = step(sequence)
    stage(sequence.select(frames=slice(0, 48)))  # loads the model(s) once, as a process does
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # Linux: the peak RSS restarts from here
    started, cpu = time.perf_counter(), time.process_time()
    result = apply_stage(stage, sequence)  # the log entry says what the run did
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    run = result.log[-1]["parameters"].get("run", {})
    peak = re.search(r"VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text())
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "run": run,
                      "stage_peak_mb": int(peak.group(1)) / 1024}))


@dataclasses.dataclass
class Case:
    """One benchmark case: a method on an input file, with its measurements."""

    minutes: float
    people: int
    method: str
    frames: int = 0
    results: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    run: dict = dataclasses.field(default_factory=dict)

    def add(self, name: str, value: float) -> None:
        self.results.setdefault(name, []).append(value)

    def median(self, name: str) -> float:
        return statistics.median(self.results[name])

    def row(self) -> str:
        work = self.frames * self.people
        iterations = (f"{self.run['mean_iterations']:.1f} / {self.run['max_iterations']}"
                      if self.run else "-")
        return (f"| {self.minutes:g} min x {self.people} | {self.method} | "
                f"{work / self.median('e2e_s'):,.0f} | {self.median('e2e_s'):.1f} | "
                f"{self.median('e2e_mb'):.0f} | {work / self.median('stage_s'):,.0f} | "
                f"{work / self.median('stage_cpu_s'):,.0f} | {self.median('stage_mb'):.0f} | "
                f"{iterations} |")


def measure(case: Case, pipeline: Path, env: dict[str, str]) -> None:
    """One run of both children of ``case``."""
    seconds, peak, _ = run_child(
        [sys.executable, "-m", "posekit", "run", str(pipeline), "-q", "--force"], env
    )
    case.add("e2e_s", seconds)
    case.add("e2e_mb", peak)
    _, _, stdout = run_child(
        [sys.executable, str(Path(__file__).resolve()), "--stage-alone", str(pipeline)], env
    )
    report = json.loads(stdout.strip().splitlines()[-1])
    case.add("stage_s", report["seconds"])
    case.add("stage_cpu_s", report["cpu_seconds"])
    case.add("stage_mb", report["stage_peak_mb"])
    case.run = report["run"]


def machine(env: dict[str, str]) -> str:
    """The machine, in one line (with the load average: busy machines give slow figures)."""
    import torch

    threads = env.get("OMP_NUM_THREADS") or torch.get_num_threads()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
            f"{device}, torch {torch.__version__} ({threads} threads), load average {load}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", default="1,10", help="file lengths (one person)")
    parser.add_argument("--hour", action="store_true",
                        help="also the 60-minute files, of one and of three people")
    parser.add_argument("--methods", default="fast,paper,ridge_window",
                        help="jumps presets and baseline stages (ridge, ridge_window)")
    parser.add_argument("--paper-minutes", type=float, default=1.0,
                        help="run the paper preset only on files up to this long (it is "
                             "~100x slower)")
    parser.add_argument("--runs", type=int, default=1, help="runs per case (median)")
    parser.add_argument("--model", default=None, help="checkpoint (default: the shipped one)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--threads", type=int, default=None,
                        help="OMP_NUM_THREADS of the children (default: torch's choice)")
    parser.add_argument("--work", type=Path,
                        default=Path(tempfile.gettempdir()) / "posekit-jumps-speed",
                        help="folder for the input files (made once) and outputs")
    parser.add_argument("--mocap", type=Path, default=None, help="CMU data (default: shared)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--stage-alone", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage_alone is not None:
        stage_alone(args.stage_alone)
        return

    from training.mocap import default_mocap_root

    mocap = args.mocap or default_mocap_root()
    files = [(float(m), 1) for m in args.minutes.split(",") if m]
    if args.hour:
        files += [(60.0, 1), (60.0, 3)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if args.threads is not None:
        env["OMP_NUM_THREADS"] = str(args.threads)
    args.work.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine(env)}")
    print("frames/s count every person's frames; e2e = `python -m posekit run` (read, "
          "remap, stage, write), its peak = the child's max RSS; stage = the stage alone in "
          "a child that has read and remapped the file, its peak = the RSS high-water mark "
          "from the stage's start (the reader's peak is not in it); iterations = mean / max "
          "objective evaluations per window\n")
    print("| file | method | e2e frames/s | e2e s | e2e peak MB | stage frames/s | "
          "stage frames/CPU-s | stage peak MB | iterations |")
    print("|---|---|---|---|---|---|---|---|---|")
    cases = []
    for minutes, people in files:
        data = args.work / f"alphapose_{minutes:g}min_{people}p.json"
        if not data.exists():
            make_input(data, minutes, people, mocap)
        frames = round(minutes * 60 * FPS)
        for method in args.methods.split(","):
            if method == "paper" and minutes > args.paper_minutes:
                continue
            folder = args.work / f"{minutes:g}min_{people}p"
            folder.mkdir(exist_ok=True)
            pipeline = pipeline_file(folder, data, method, args.model, args.device)
            case = Case(minutes, people, method, frames)
            for _ in range(args.runs):
                measure(case, pipeline, env)
            cases.append(case)
            print(case.row(), flush=True)
    print(f"\nmachine at the end: {machine(env)}")
    fast = [c for c in cases if c.method == "fast" and c.people == 1]
    if len(fast) > 1:
        print("fast preset, stage frames/s by length (flat = linear cost): " + ", ".join(
            f"{c.minutes:g} min {c.frames / c.median('stage_s'):,.0f}" for c in fast))
    if args.json is not None:
        args.json.write_text(json.dumps([dataclasses.asdict(c) for c in cases], indent=1))


if __name__ == "__main__":
    main()
