"""Data-parallel training under ``torchrun``: the process group and its few collectives.

``torchrun`` (``python -m torch.distributed.run``) starts one process per device and
sets ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK`` (and the rendezvous address) in each
one's environment. :meth:`Distributed.from_env` reads them; without them it describes
a single process, and every method below is then the identity (no process group, no
wrapping, no communication), so single-process training is unchanged.

What :mod:`training.train_jumps` does with it (``docs/distributed-training.md``):

- :meth:`Distributed.start` joins the process group: NCCL when training on CUDA (one
  GPU per process, ``cuda:LOCAL_RANK``), gloo on CPU.
- :meth:`Distributed.wrap` wraps G, D and E in ``DistributedDataParallel``: gradients
  are averaged over the processes in the backward pass, so every replica applies the
  same update and the weights stay identical.
- Each process takes its own contiguous share of every global batch
  (:meth:`Distributed.shard`); the global batch is the config's ``batch_size``.
- :meth:`Distributed.average_batchnorm_stats` averages the generator's BatchNorm
  running statistics after every step (the replicas' buffers stay identical too).
- :meth:`Distributed.mean` averages the logged losses and the step time over the
  processes; :meth:`Distributed.any` makes a stop decision (time budget) collective.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping

import attrs
import numpy as np
import torch
from torch import nn


@attrs.frozen
class Distributed:
    """This process's place among the training processes.

    Parameters
    ----------
    world
        Number of processes (``WORLD_SIZE``); 1 without ``torchrun``.
    rank
        This process's index among them (``RANK``); rank 0 writes every output.
    local_rank
        Its index on this machine (``LOCAL_RANK``): the GPU it uses.
    enabled
        True under ``torchrun`` (a process group is joined, even for one process).

    Examples
    --------
    >>> single = Distributed()
    >>> single.is_main, single.any(False), single.mean({"loss": 2.0})
    (True, False, {'loss': 2.0})
    >>> Distributed.from_env({"WORLD_SIZE": "4", "RANK": "2", "LOCAL_RANK": "0"})
    Distributed(world=4, rank=2, local_rank=0, enabled=True)
    """

    world: int = 1
    rank: int = 0
    local_rank: int = 0
    enabled: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Distributed:
        """The processes ``torchrun`` started (``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``).

        Raises
        ------
        ValueError
            If ``WORLD_SIZE`` is set and ``RANK`` or ``LOCAL_RANK`` is missing or invalid.
        """
        env = os.environ if environ is None else environ
        if "WORLD_SIZE" not in env:
            return cls()
        try:
            world, rank, local = (int(env[k]) for k in ("WORLD_SIZE", "RANK", "LOCAL_RANK"))
        except (KeyError, ValueError) as err:
            raise ValueError(
                f"WORLD_SIZE is set, so RANK and LOCAL_RANK must be integers too ({err}); "
                "start distributed training with torchrun"
            ) from None
        if not 0 <= rank < world:
            raise ValueError(f"RANK {rank} is outside 0..{world - 1} (WORLD_SIZE {world})")
        return cls(world=world, rank=rank, local_rank=local, enabled=True)

    @property
    def is_main(self) -> bool:
        """True on rank 0, the process that validates and writes the run's files."""
        return self.rank == 0

    def device(self, name: str) -> torch.device:
        """The device of this process: ``cuda:LOCAL_RANK`` for any CUDA device under
        torchrun (one GPU per process)."""
        if self.enabled and name.split(":")[0] == "cuda":
            return torch.device("cuda", self.local_rank)
        return torch.device(name)

    def start(self, device: str) -> None:
        """Join the process group (NCCL for ``"cuda"``, else gloo); no-op in one process."""
        if not self.enabled:
            return
        import torch.distributed as dist

        if device.startswith("cuda"):
            torch.cuda.set_device(self.device("cuda"))
            dist.init_process_group("nccl", device_id=self.device("cuda"))
        else:
            dist.init_process_group("gloo")

    def stop(self) -> None:
        """Leave the process group (if joined)."""
        import torch.distributed as dist

        if self.enabled and dist.is_initialized():
            dist.destroy_process_group()

    def seed(self, seed: int, *extra: int) -> int:
        """A seed for this rank's random streams: ``seed`` on rank 0 without ``extra``
        (as in one process), else derived from ``(seed, rank, *extra)``."""
        if self.rank == 0 and not extra:
            return seed
        return int(np.random.SeedSequence([seed, self.rank, *extra]).generate_state(1)[0])

    def wrap(self, module: nn.Module) -> nn.Module:
        """``module`` in ``DistributedDataParallel`` (the module itself in one process).

        The wrapper broadcasts rank 0's weights and buffers when it is built; buffers
        are not broadcast again before every forward pass (BatchNorm's running
        statistics are averaged after every step instead, :meth:`average_batchnorm_stats`).
        """
        if not self.enabled:
            return module
        from torch.nn.parallel import DistributedDataParallel

        device = next(module.parameters()).device
        ids = [device] if device.type == "cuda" else None
        return DistributedDataParallel(module, device_ids=ids, forward_sync_buffers=False)

    def shard(self, indices: np.ndarray) -> np.ndarray:
        """This rank's contiguous share of a global batch's ``indices``.

        Examples
        --------
        >>> Distributed(world=2, rank=1, enabled=True).shard(np.arange(6))
        array([3, 4, 5])
        """
        if self.world == 1:
            return indices
        if len(indices) % self.world:
            raise ValueError(f"a batch of {len(indices)} cannot be split evenly over "
                             f"{self.world} processes; make train.batch_size a multiple of it")
        size = len(indices) // self.world
        return indices[self.rank * size : (self.rank + 1) * size]

    def _tensor(self, values: list[float]) -> torch.Tensor:
        device = torch.device("cuda", torch.cuda.current_device()) if (
            torch.distributed.get_backend() == "nccl") else torch.device("cpu")
        return torch.tensor(values, dtype=torch.float64, device=device)

    def any(self, flag: bool) -> bool:
        """True if ``flag`` is True on any process (the same answer on all of them)."""
        if not self.enabled:
            return bool(flag)
        t = self._tensor([float(flag)])
        torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
        return bool(t.item())

    def mean(self, values: dict[str, float]) -> dict[str, float]:
        """Each value averaged over the processes (the same on all of them)."""
        if not self.enabled:
            return values
        t = self._tensor(list(values.values()))
        torch.distributed.all_reduce(t)
        return dict(zip(values, (t / self.world).tolist()))

    def barrier(self) -> None:
        """Wait until every process gets here (rank 0 validating or writing a checkpoint)."""
        if self.enabled:
            torch.distributed.barrier()

    @torch.no_grad()
    def average_batchnorm_stats(self, module: nn.Module) -> None:
        """Average the running mean and variance of ``module``'s BatchNorm layers.

        Each process normalizes with its own share of the batch; the running
        statistics (used in eval mode: validation, inference) become the mean of the
        processes' estimates, the same on every replica.
        """
        if not self.enabled:
            return
        buffers = [b for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
                   for b in (m.running_mean, m.running_var) if b is not None]
        if not buffers:
            return
        flat = torch.cat([b.reshape(-1) for b in buffers])
        torch.distributed.all_reduce(flat)
        flat /= self.world
        for b, new in zip(buffers, torch.split(flat, [b.numel() for b in buffers])):
            b.copy_(new.view_as(b))

    def gather_digests(self, digest: str) -> list[str]:
        """Every rank's ``digest`` (rank order); ``[digest]`` in one process."""
        if not self.enabled:
            return [digest]
        out: list = [None] * self.world
        torch.distributed.all_gather_object(out, digest)
        return out


def state_digest(tensors: Mapping[str, torch.Tensor]) -> str:
    """SHA-256 of named tensors (sorted by name; names, dtypes, shapes and bytes).

    Used to check that the replicas hold identical weights and buffers; the digest of
    a checkpoint's tensors equals that of the networks it was saved from.

    Examples
    --------
    >>> a = {"w": torch.ones(2), "b": torch.zeros(1)}
    >>> state_digest(a) == state_digest({"b": torch.zeros(1), "w": torch.ones(2)})
    True
    >>> state_digest(a) == state_digest({"w": torch.ones(2), "b": torch.ones(1)})
    False
    """
    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()
