"""Time a JUMPS training step on this machine: steps/s and windows/s, and where a step's
time goes, for torch thread counts, batch sizes, with or without bfloat16 autocast
(``amp_cpu``) and with or without the adversarial (WGAN-GP critic) phase.

Each case builds a :class:`training.train_jumps.Trainer` on the training windows of the
given file (no run folder, nothing written), takes ``--warmup`` steps, then times
``--steps`` steps (wall clock). The breakdown splits one step into the critic update
(with its gradient penalty's double backward) and the generator/encoder update.

Example (about 3 minutes on 2 cores)::

    python -m training.profile_step --windows cache/windows-train-fit-103e62c9add0.npz
"""

from __future__ import annotations

import argparse
import copy
import itertools
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import yaml

from training.build_windows import read_windows
from training.mocap import REPO_ROOT
from training.train_jumps import DEFAULTS, Trainer, merge


def time_steps(trainer: Trainer, steps: int, warmup: int) -> dict[str, float]:
    """Seconds per step, per critic update and per generator/encoder update."""
    for _ in range(warmup):
        trainer.train_step()
    critic = generator = 0.0
    started = time.perf_counter()
    for _ in range(steps):
        if trainer.adversarial():
            clock = time.perf_counter()
            trainer.critic_step(trainer.next_batch())
            critic += time.perf_counter() - clock
        clock = time.perf_counter()
        trainer.generator_step(trainer.next_batch())
        generator += time.perf_counter() - clock
        trainer.step += 1
    total = time.perf_counter() - started
    return {"step_s": total / steps, "critic_s": critic / steps, "generator_s": generator / steps}


def main(argv: Sequence[str] | None = None) -> list[dict[str, object]]:
    parser = argparse.ArgumentParser(
        prog="python -m training.profile_step", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--windows", type=Path, required=True, help="a build_windows file")
    parser.add_argument("--config", type=Path, default=REPO_ROOT / "training/configs/jumps.yaml")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--batches", default="64,256")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument(
        "--amp-cpu", default="false", help="bfloat16 autocast on the CPU: false, true or both"
    )
    args = parser.parse_args(argv)
    windows, _, _ = read_windows(args.windows)
    windows = windows[np.random.default_rng(0).permutation(len(windows))[:20000]]
    base = merge(DEFAULTS, yaml.safe_load(args.config.read_text()))
    base["data"]["val_windows"] = 64
    torch.set_flush_denormal(True)
    rows: list[dict[str, object]] = []
    amp_cases = {"false": (False,), "true": (True,), "both": (False, True)}[args.amp_cpu]
    print("| threads | batch | bf16 | adversarial | steps/s | windows/s | critic s | generator s |")
    print("|---|---|---|---|---|---|---|---|")
    for threads in (int(t) for t in args.threads.split(",")):
        torch.set_num_threads(threads)
        for batch, amp, adversarial in itertools.product(
            (int(b) for b in args.batches.split(",")), amp_cases, (True, False)
        ):
            config = copy.deepcopy(base)
            config["amp_cpu"] = amp
            config["train"]["batch_size"] = batch
            config["train"]["adversarial_from"] = 0 if adversarial else None
            config["num_threads"] = threads
            trainer = Trainer(config, windows, windows[:64])
            times = time_steps(trainer, args.steps, args.warmup)
            row = {
                "threads": threads,
                "batch": batch,
                "bf16": amp,
                "adversarial": adversarial,
                "steps_per_s": 1 / times["step_s"],
                "windows_per_s": batch / times["step_s"],
                **times,
            }
            rows.append(row)
            print(
                f"| {threads} | {batch} | {'yes' if amp else 'no'} | "
                f"{'yes' if adversarial else 'no'} | "
                f"{row['steps_per_s']:.2f} | {row['windows_per_s']:,.0f} | "
                f"{times['critic_s']:.3f} | {times['generator_s']:.3f} |",
                flush=True,
            )
    return rows


if __name__ == "__main__":
    main()
