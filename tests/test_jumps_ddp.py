"""JUMPS training under torchrun: two CPU processes (gloo) keep identical replicas.

The training script is launched as a user would (``python -m torch.distributed.run
--nproc_per_node 2 --standalone -m training.train_jumps``) on tiny synthetic window
caches. Rank 0 prints every replica's weight digest when it ends; the digests must be
equal and equal to that of the weights rank 0 saved. A second launch resumes the run.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from safetensors.torch import load_file
from test_jumps_training import synthetic_windows

from training.distributed import Distributed, state_digest

ROOT = Path(__file__).resolve().parents[1]


def torchrun(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
               "--standalone", "-m", "training.train_jumps", *args]
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def summary(stdout: str) -> dict:
    """The JSON line rank 0 prints at the end (exactly one: rank 1 prints nothing)."""
    lines = [line for line in stdout.splitlines() if line.startswith('{"stopped"')]
    assert len(lines) == 1, stdout
    return json.loads(lines[0])


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("ddp")
    np.savez(folder / "windows-train-x.npz", windows=synthetic_windows(64))
    np.savez(folder / "windows-val-x.npz", windows=synthetic_windows(16, seed=1))
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump({
        "name": "ddp", "device": "cpu", "num_threads": 1, "progress": False,
        "baseline": False, "runs_dir": str(folder / "runs"),
        "data": {"train": str(folder / "windows-train-*.npz"),
                 "val": str(folder / "windows-val-*.npz"), "val_windows": 16},
        "train": {"batch_size": 8, "steps": 3, "lambda_s_warmup": 2, "lr_schedule": "cosine"},
        "log_every": 1, "val_every": 2, "checkpoint_every": 2,
    }))
    return path


def test_two_processes_keep_identical_replicas_and_resume(config):
    run_dir = config.parent / "runs" / "ddp"
    first = summary(torchrun("--config", str(config), cwd=config.parent).stdout)
    assert first["step"] == 3 and first["stopped"] == "steps"
    digests = first["replica_sha256"]
    assert len(digests) == 2 and digests[0] == digests[1]
    saved = load_file(str(run_dir / "state.safetensors"))
    weights = {k[len("model."):]: v for k, v in saved.items() if k.startswith("model.")}
    assert state_digest(weights) == digests[0]
    # Resuming under torchrun goes on from the state rank 0 wrote.
    second = summary(torchrun("--resume", str(run_dir), "--steps", "5", cwd=config.parent).stdout)
    assert second["step"] == 5
    assert len(set(second["replica_sha256"])) == 1 and second["replica_sha256"] != digests
    # Rank 0 alone writes the logs: one row per step, no duplicates.
    rows = (run_dir / "losses.csv").read_text().strip().splitlines()
    assert [int(r.split(",")[0]) for r in rows[1:]] == [1, 2, 3, 4, 5]
    for name in ("val.csv", "best.safetensors", "last.safetensors", "losses.png", "samples.png"):
        assert (run_dir / name).is_file(), name


def test_batch_shards():
    ranks = [Distributed(world=4, rank=r, enabled=True) for r in range(4)]
    batch = np.arange(8) * 10
    assert np.array_equal(np.concatenate([d.shard(batch) for d in ranks]), batch)
    with pytest.raises(ValueError, match="multiple of it"):
        ranks[0].shard(np.arange(6))
    with pytest.raises(ValueError, match="RANK 4 is outside"):
        Distributed.from_env({"WORLD_SIZE": "4", "RANK": "4", "LOCAL_RANK": "0"})
    assert Distributed.from_env({}) == Distributed()
