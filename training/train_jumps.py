"""Train the JUMPS networks (generator G, critic D, encoder E) on cached 2D windows.

Usage (from the repository root)::

    python -m training.train_jumps --config training/configs/jumps.yaml
    python -m training.train_jumps --resume runs/jumps_cmu            # go on from its state
    python -m training.train_jumps --config ... --no-encoder          # the "w/o ENC." ablation
    python -m training.train_jumps --config ... --max-minutes 85      # stop cleanly in time

Losses (paper eqs. 1-2 and the reading notes' reconstruction of eqs. 3-9):

- critic: WGAN-GP, ``D(G(z)) - D(x) + λ_gp (|∇D(x̂)| - 1)^2`` with ``x̂`` on the segments
  between real and generated grids (λ_gp = 10), ``n_critic`` critic steps per
  generator step;
- generator + encoder: ``λ_m L_G + λ_p MPJPE(x, G(E(x̃))) + λ_s MPJVE(x, G(E(x̃)))
  + λ_z |z - E(G(z))|_1`` (200, 100, 2, 1).

**ours** (documented in the model card):

- ``x̃`` is ``x`` with a random visibility mask per sample (fully visible; the 12-joint
  ``upsample`` layout; 12 joints with occlusion bursts and Gaussian noise of 0.05 x head
  size; random joint and frame dropout with bursts). The encoder reads it normalized
  from its observed joints only (:func:`posekit.jumps.encoding.encoder_input`), as it
  will at inference.
- The reconstruction ``G(E(x̃))`` is compared to ``x`` after, in EACH FRAME, the
  similarity (Procrustes: translation, scale, rotation) that best maps its frame onto
  the OBSERVED joints of that frame of ``x̃`` (``posekit.ops.procrustes.align`` on
  ``(B, F, 28, 2)`` fits one transform per frame); the errors run over all 28 joints.
  Inference must align the same way (per frame). (The reading notes suggested one
  transform per window; per frame is what the shipped model was trained with.)
- The generator is run on ``[z; E(x̃)]`` in one batch, in the critic's step too, so its
  BatchNorm statistics always mix both; the codes ``E(x̃)`` are matched to ``N(0, I)``
  by their batch moments (``lambda_prior``), else ``G(z)`` collapses.
- Mirror augmentation on the fly (left/right swapped, x negated), probability 0.5.
- The critic uses LayerNorm, not BatchNorm (WGAN-GP's penalty is per sample).
- ``model.linear_path``: G and E start as the probabilistic PCA of the training windows
  and its posterior mean (:mod:`training.linear_code`); their convolutions start at
  zero and learn what the linear code misses.

Outputs in ``runs/<name>/``: ``config.yaml``, ``losses.csv``, ``val.csv``, ``losses.png``,
``samples.png``, ``best.safetensors`` (+ ``.json``, best validation added-joint AUC),
``last.safetensors`` (+ ``.json``), ``state.safetensors`` + ``state.json`` (optimizers,
step, random states: what ``--resume`` needs), ``stdout.log`` if redirected there.

Under ``torchrun`` the networks train data-parallel (:mod:`training.distributed`,
``docs/distributed-training.md``): each process takes its share of every batch and
rank 0 alone validates and writes these outputs::

    torchrun --nproc_per_node 8 -m training.train_jumps --config training/configs/jumps.yaml
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import math
import os
import platform
import sys
import time
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from posekit.core.atomic import atomic_path
from posekit.jumps.checkpoint import code_version, resolve_device, save_checkpoint
from posekit.jumps.encoding import encoder_input, mirror_positions
from posekit.jumps.grid import from_grid, to_grid
from posekit.jumps.losses import gradient_penalty, interpolates, mpjpe, mpjve
from posekit.jumps.networks import ARCHITECTURE, build_networks, parameter_counts
from posekit.ops.metrics import AUC_THRESHOLDS, head_size, normalized_errors, pckh
from posekit.ops.procrustes import align
from posekit.plugins.registry import get_skeleton
from training.build_eval import occlusion_mask
from training.build_windows import read_windows
from training.distributed import Distributed, state_digest
from training.linear_code import LinearCode

REPO_ROOT = Path(__file__).resolve().parents[1]
SKELETON = get_skeleton("mpi_inf_3dhp_28")
NAMES = list(SKELETON.joint_names)
HEAD_TOP, NECK = NAMES.index("head_top"), NAMES.index("neck")
#: EVALUATION.md's 12 input joints: shoulders, elbows, wrists, hips, knees, ankles.
INPUT_JOINTS = [
    NAMES.index(f"{side}_{part}")
    for part in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")
    for side in ("left", "right")
]
ADDED_JOINTS = [j for j in range(len(NAMES)) if j not in INPUT_JOINTS]
MASK_KINDS = ("full", "upsample", "hpe", "dropout")

DEFAULTS: dict[str, Any] = {
    "name": "jumps",
    "seed": 0,
    "device": "auto",
    "amp": True,
    "amp_cpu": False,
    "num_threads": 2,
    "runs_dir": "runs",
    "data": {"train": "cache/windows-train-????????????.npz", "val": "cache/windows-val-*.npz",
             "val_windows": 4096},
    "model": dict(ARCHITECTURE),
    "train": {
        "encoder": True,
        "batch_size": 256,
        "steps": 100000,
        "n_critic": 1,
        "adversarial_from": 0,
        "prior_fraction": 1.0,
        "lr": 1.0e-4,
        "betas": [0.5, 0.999],
        "betas_ge": None,
        "eps": 1.0e-8,
        "lr_ge": None,
        "lr_schedule": "constant",
        "lr_final": 0.05,
        "lambda_gp": 10.0,
        "drift": 0.001,
        "lambda_p": 200.0,
        "lambda_s": 100.0,
        "lambda_s_warmup": 0,
        "lambda_z": 2.0,
        "lambda_m": 1.0,
        "lambda_prior": 10.0,
        "mirror": 0.5,
    },
    "masks": {
        "full": 0.15,
        "upsample": 0.35,
        "hpe": 0.25,
        "dropout": 0.25,
        "noise": 0.05,
        "burst_rate": 0.02,
        "burst_max": 20,
        "dropout_joint_max": 0.5,
        "dropout_frame": 0.05,
        "min_observed_joints": 3,
    },
    "log_every": 25,
    "val_every": 250,
    "checkpoint_every": 500,
    "progress": True,
}


def set_option(config: dict, item: str) -> None:
    """Apply one ``--set SECTION.KEY=VALUE`` to ``config`` (the value read as YAML); the
    key must exist, so a misspelt one is an error rather than a setting nobody reads.

    >>> config = {"train": {"lr": 5e-4}, "name": "jumps_cmu"}
    >>> set_option(config, "train.lr=1.5e-4"); config["train"]["lr"]
    0.00015
    >>> set_option(config, "train.lrr=1")
    Traceback (most recent call last):
    ...
    ValueError: --set train.lrr=1: no setting 'lrr' in 'train' (known: lr)
    """
    key, sep, value = item.partition("=")
    *sections, name = key.split(".")
    if not sep or not name:
        raise ValueError(f"--set {item}: expected SECTION.KEY=VALUE")
    target = config
    for depth, section in enumerate(sections):
        if section not in target or not isinstance(target[section], dict):
            raise ValueError(f"--set {item}: no section {'.'.join(sections[:depth + 1])!r}")
        target = target[section]
    if name not in target:
        where = f" in {'.'.join(sections)!r}" if sections else ""
        raise ValueError(f"--set {item}: no setting {name!r}{where} (known: {', '.join(target)})")
    target[name] = yaml.safe_load(value)


def merge(base: dict, update: dict | None) -> dict:
    """Recursive dict merge (``update`` wins)."""
    out = dict(base)
    for key, value in (update or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


# --------------------------------------------------------------------------- data


def resolve_data(pattern: str) -> Path:
    """A cache file, or the newest file matching a glob (relative to the repository)."""
    path = Path(pattern)
    if not path.is_absolute():
        path = REPO_ROOT / path
    matches = sorted(glob.glob(str(path)), key=os.path.getmtime)
    if not matches:
        raise FileNotFoundError(f"no window cache matches {pattern!r}; build it with "
                                "python -m training.build_windows")
    return Path(matches[-1])


def load_windows(path: Path) -> tuple[np.ndarray, dict]:
    """``windows`` (N, 24, 28, 2) float32 and a description of the file."""
    windows, settings, held = read_windows(path)
    info = {"file": path.name, "windows": len(windows), "dropped_nonfinite": held - len(windows),
            "settings": settings}
    return windows, info


def sample_visibility(rng: np.random.Generator, x: np.ndarray, cfg: dict,
                      kinds: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random partial observations of clean windows ``x`` (B, F, J, 2).

    Returns ``x̃`` (noisy where the kind is ``hpe``; missing joints are NaN), the mask
    (B, F, J) and the kind index of each sample (into :data:`MASK_KINDS`).
    """
    b, f, j, _ = x.shape
    if kinds is None:
        p = np.array([cfg[k] for k in MASK_KINDS], dtype=float)
        kinds = rng.choice(len(MASK_KINDS), size=b, p=p / p.sum())
    mask = np.ones((b, f, j), dtype=bool)
    twelve = np.zeros(j, dtype=bool)
    twelve[INPUT_JOINTS] = True
    bursts = occlusion_mask(
        rng, (b, f, j), cfg["burst_rate"], (1, cfg["burst_max"]), lead_in=False
    )
    is_up, is_hpe, is_drop = kinds == 1, kinds == 2, kinds == 3
    mask[is_up | is_hpe] &= twelve
    mask[is_hpe] &= ~bursts[is_hpe]
    # Dropout: each joint gone for the whole window with prob q ~ U[0, max], bursts, and
    # whole frames gone with prob dropout_frame.
    q = rng.uniform(0.0, cfg["dropout_joint_max"], size=(b, 1))
    joint_gone = rng.random((b, j)) < q
    frame_gone = rng.random((b, f)) < cfg["dropout_frame"]
    drop = ~joint_gone[:, None, :] & ~bursts & ~frame_gone[:, :, None]
    mask[is_drop] &= drop[is_drop]
    # Too few observed joints to fit anything: fall back to the upsample layout.
    seen = mask.any(axis=1).sum(axis=1)
    poor = seen < cfg["min_observed_joints"]
    mask[poor] = twelve
    noisy = x.copy()
    if is_hpe.any():
        head = head_size(x[is_hpe], HEAD_TOP, NECK)  # (n, F)
        sigma = cfg["noise"] * head[..., None, None]
        noisy[is_hpe] += (rng.standard_normal(noisy[is_hpe].shape) * sigma).astype(x.dtype)
    noisy[~mask] = np.nan
    return noisy, mask, kinds


def mirror_batch(rng: np.random.Generator, x: np.ndarray, probability: float) -> np.ndarray:
    """Mirror (swap left/right, negate x) each window with the given probability."""
    if probability <= 0:
        return x
    flip = rng.random(len(x)) < probability
    if flip.any():
        x = x.copy()
        x[flip] = mirror_positions(x[flip])
    return x


def symmetric_mean_pose(windows: np.ndarray) -> np.ndarray:
    """Dataset mean pose (28, 2), made left/right symmetric (mirror augmentation).

    Not :func:`posekit.baselines.mean_pose.mean_pose`, which centres each frame first:
    this is the mean in the windows' normalized frame, which the encoder's
    normalization fits (:func:`posekit.jumps.encoding.fit_encoder_transform`).
    """
    m = windows.reshape(-1, windows.shape[2], 2).astype(np.float64).mean(axis=0)
    return ((m + mirror_positions(m)) / 2).astype(np.float32)


# ------------------------------------------------------------------------ baseline


def ridge_baseline(train: np.ndarray, val_x: np.ndarray, alpha: float = 1e-4,
                   max_frames: int = 200_000, seed: int = 0) -> dict[str, float]:
    """posekit's per-frame ridge baseline fitted on the training frames, from the 12
    input joints to all 28 (reference only).

    :class:`posekit.baselines.ridge.FrameGaussian` fitted on (at most ``max_frames``,
    drawn at random) frames of ``train``, with the penalty of the shipped ``ridge``
    model; the scale is estimated per frame. Returns added-joint PCKh@0.5 and AUC on
    ``val_x``.
    """
    from posekit.baselines.ridge import FrameGaussian

    rng = np.random.default_rng(seed)
    frames = train.reshape(-1, 28, 2)
    frames = frames[rng.choice(len(frames), size=min(max_frames, len(frames)), replace=False)]
    model = FrameGaussian.fit(frames, alpha)
    v = val_x.reshape(-1, 28, 2).astype(np.float64)
    given = np.zeros(v.shape[:2], dtype=bool)
    given[:, INPUT_JOINTS] = True
    pred = model.predict(v, given, scale_window=1)
    errors = normalized_errors(pred, v, head_size(v, HEAD_TOP, NECK))[..., ADDED_JOINTS]
    return {"pckh@0.5": float(pckh(errors, [0.5])[0]), "auc": float(np.mean(pckh(errors, AUC_THRESHOLDS)))}


# ------------------------------------------------------------------------- trainer


def code_moments_loss(codes: torch.Tensor) -> torch.Tensor:
    """Moment matching of a batch of codes to the prior N(0, I) (**ours**).

    ``mean_i(mu_i^2) + mean_ij((C - I)_ij^2)`` with ``mu`` and ``C`` the batch mean and
    covariance. Measured: without it the encoder's codes occupy a small part of the
    latent space, the generator decodes only that part, and ``G(z)`` for ``z ~ N(0, I)``
    collapses to one pose (the paper expects the backward loss to do this matching;
    within a CPU-hour it does not).
    """
    mu = codes.mean(dim=0)
    centred = codes - mu
    cov = centred.T @ centred / max(1, codes.shape[0] - 1)
    eye = torch.eye(codes.shape[1], device=codes.device, dtype=codes.dtype)
    return mu.pow(2).mean() + (cov - eye).pow(2).mean()


class Trainer:
    """State and steps of one training run (used by :func:`main` and the tests)."""

    def __init__(self, config: dict, train_windows: np.ndarray, val_windows: np.ndarray,
                 run_dir: Path | None = None, data_info: dict | None = None,
                 dist: Distributed | None = None):
        self.config = config
        self.tcfg = config["train"]
        self.use_encoder = bool(self.tcfg["encoder"])
        self.dist = dist or Distributed()
        self.dist.shard(np.arange(int(self.tcfg["batch_size"])))  # fails early if uneven
        self.device = self.dist.device(resolve_device(config["device"]))
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.data_info = data_info or {}
        self.train_windows = train_windows
        seed = int(config["seed"])
        torch.manual_seed(seed)
        self.rng = np.random.default_rng(self.dist.seed(seed))
        self.seed = seed

        self.mean_pose = symmetric_mean_pose(train_windows)
        names = ("G", "D", "E") if self.use_encoder else ("G", "D")
        self.nets = build_networks(config["model"], torch.from_numpy(self.mean_pose), names)
        for net in self.nets.values():
            net.to(self.device).train()
        self.G, self.D = self.nets["G"], self.nets["D"]
        self.E = self.nets.get("E")
        if config.get("init_from"):
            self._load_weights(Path(config["init_from"]))
        elif self.config["model"].get("linear_path"):
            self._init_linear_path()
        elif self.E is not None:
            self._standardize_encoder()
        # Under torchrun: the same initial weights everywhere (rank 0's, broadcast by
        # DDP), then each rank's own random stream (latents, masks, interpolates).
        self.ddp = {name: self.dist.wrap(net) for name, net in self.nets.items()}
        if self.dist.rank:
            torch.manual_seed(self.dist.seed(seed))
        betas = tuple(self.tcfg["betas"])
        eps = float(self.tcfg["eps"])
        lr = float(self.tcfg["lr"])
        lr_ge = float(self.tcfg["lr_ge"] or lr)
        ge_params = list(self.G.parameters()) + (list(self.E.parameters()) if self.E else [])
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=lr, betas=betas, eps=eps)
        betas_ge = tuple(self.tcfg.get("betas_ge") or betas)
        self.opt_ge = torch.optim.Adam(ge_params, lr=lr_ge, betas=betas_ge, eps=eps)
        self.base_lr = {"opt_d": lr, "opt_ge": lr_ge}
        self.budget_s: float | None = None  # training-time budget (--max-minutes), if any

        cuda = self.device.type == "cuda"
        # amp_cpu (ours): bfloat16 autocast on a CPU, 1.2-1.6x the steps/s there (docs/training.md).
        cpu_bf16 = bool(config.get("amp_cpu", False)) and not cuda
        self.amp = (bool(config["amp"]) and cuda) or cpu_bf16
        bf16 = cpu_bf16 or (self.amp and torch.cuda.is_bf16_supported())
        self.amp_dtype = torch.bfloat16 if bf16 else torch.float16
        scaler_on = self.amp and not bf16
        self.scaler_d = torch.amp.GradScaler("cuda", enabled=scaler_on)
        self.scaler_ge = torch.amp.GradScaler("cuda", enabled=scaler_on)

        self.step = 0
        self.epoch = 0
        self.cursor = 0
        self.train_time = 0.0
        self.best_auc = -math.inf
        self.best_val: dict = {}
        self.history: list[dict] = []
        self._perm = self._permutation(0)
        self._prepare_val(val_windows)

    def _load_weights(self, path: Path) -> None:
        """Start from a checkpoint's weights (the shipped model, say), so a model can
        go on improving over several runs without its optimizer state; the
        architecture must be the configured one."""
        from posekit.jumps.checkpoint import load_networks

        networks, record = load_networks(path)
        arch = {**ARCHITECTURE, **record.get("architecture", {})}
        if arch != {**ARCHITECTURE, **self.config["model"]}:
            raise SystemExit(f"--init-from {path}: its architecture {record.get('architecture')} "
                             f"differs from the configuration's {self.config['model']}")
        for name, net in self.nets.items():
            if name in networks:
                net.load_state_dict({k: v.float() for k, v in networks[name].state_dict().items()})

    @torch.no_grad()
    def _standardize_encoder(self, n: int = 1024) -> None:
        """Data-dependent init (**ours**): rescale E's last layer so that its codes of
        training inputs have zero mean and unit variance per dimension, like the prior.

        The generator runs once on ``[z; E(x̃)]``; if E's codes started much smaller than
        ``z`` (as they do at default init), BatchNorm would normalize them away and the
        autoencoder would stall for hundreds of steps.
        """
        rng = np.random.default_rng(self.seed + 1)
        x = self.train_windows[rng.choice(len(self.train_windows), min(n, len(self.train_windows)),
                                          replace=False)]
        x_tilde, mask, _ = sample_visibility(rng, x, self.config["masks"])
        grid, _ = encoder_input(self._tensor(x_tilde), self._tensor(mask), self.E.mean_pose)
        codes = self.E(grid)
        mean, std = codes.mean(dim=0), codes.std(dim=0).clamp(min=1e-6)
        last = self.E.head[-1]
        last.weight.div_(std[:, None])
        last.bias.sub_(mean).div_(std)

    @torch.no_grad()
    def _init_linear_path(self, n: int = 20_000) -> None:
        """Data-dependent init of the linear path (**ours**, :mod:`training.linear_code`).

        The principal components of ``n`` training windows and their mirror images, in
        the encoder's frame (each whole window fitted to the mean pose), as many as the
        latent has numbers: G's linear map becomes their probabilistic PCA, E's the
        posterior mean of its code. The last layers of both networks' convolutions start
        at zero, so ``G(E(x))`` starts as the linear code and the convolutions learn the rest.
        """
        rng = np.random.default_rng(self.seed + 1)
        pick = rng.choice(len(self.train_windows), min(n, len(self.train_windows)), replace=False)
        x = self.train_windows[np.sort(pick)]
        x = self._tensor(np.concatenate([x, mirror_positions(x)]))
        grid, _ = encoder_input(x, torch.ones(x.shape[:-1], dtype=torch.bool, device=x.device),
                                torch.from_numpy(self.mean_pose).to(self.device))
        code = LinearCode.fit(from_grid(grid[:, :4]).cpu().numpy(), self.G.latent)
        weight, bias = (torch.from_numpy(a).float() for a in code.decoder())
        offset = torch.from_numpy(self.mean_pose).expand(*x.shape[1:]).reshape(-1)  # G's own mean
        self.G.linear.weight.copy_(weight)
        self.G.linear.bias.copy_(bias - offset)
        self.G.net[-1].weight.zero_()
        self.G.net[-1].bias.zero_()
        if self.E is not None:
            self.E.linear.weight.copy_(weight)
            self.E.linear.mean.copy_(bias)
            self.E.linear.noise.fill_(code.residual)
            self.E.head[-1].weight.zero_()
            self.E.head[-1].bias.zero_()

    # ---------------------------------------------------------------- plumbing
    def _autocast(self):
        if self.amp:
            return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)
        return nullcontext()

    def _permutation(self, epoch: int) -> np.ndarray:
        return np.random.default_rng([self.seed, epoch]).permutation(len(self.train_windows))

    def next_batch(self) -> np.ndarray:
        """The next batch of training windows (epoch permutations; mirror augmented)."""
        b = int(self.tcfg["batch_size"])
        if self.cursor + b > len(self._perm):
            self.epoch += 1
            self.cursor = 0
            self._perm = self._permutation(self.epoch)
        idx = self.dist.shard(np.sort(self._perm[self.cursor : self.cursor + b]))
        self.cursor += b
        return mirror_batch(self.rng, self.train_windows[idx], float(self.tcfg["mirror"]))

    def _tensor(self, a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a)).to(self.device)

    def latent(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.G.latent, device=self.device)

    # ------------------------------------------------------------------- steps
    def critic_step(self, x: np.ndarray) -> dict[str, float]:
        """One WGAN-GP critic update on real windows ``x``."""
        for p in self.D.parameters():
            p.requires_grad_(True)
        critic = self.ddp["D"]
        real = to_grid(self._tensor(x))
        with torch.no_grad(), self._autocast():
            fake = to_grid(self.generate(self.latent(len(x)), x).float())
        with self._autocast():
            real_scores = critic(real).float()
            d_real = real_scores.mean()
            d_real_sq = real_scores.pow(2).mean()
            d_fake = critic(fake).float().mean()
            gp = gradient_penalty(critic, interpolates(real, fake), self.scaler_d.get_scale()
                                  if self.scaler_d.is_enabled() else 1.0)
            # drift: ProGAN's small penalty on D(x)^2 keeps the scores near 0 (WGAN-GP
            # leaves their offset free to wander) (**ours**).
            drift = d_real_sq
            loss = d_fake - d_real + float(self.tcfg["lambda_gp"]) * gp + float(
                self.tcfg.get("drift", 0.0)) * drift
        self.opt_d.zero_grad(set_to_none=True)
        self.scaler_d.scale(loss).backward()
        self.scaler_d.step(self.opt_d)
        self.scaler_d.update()
        return {"loss_d": loss.item(), "wasserstein": (d_real - d_fake).item(), "gp": gp.item()}

    def generate(self, z: torch.Tensor, x_np: np.ndarray) -> torch.Tensor:
        """``G(z)`` computed as in :meth:`generator_step`: in one BatchNorm batch with the
        codes ``E(x̃)`` of (randomly masked) windows ``x_np`` (**ours**). The critic then
        judges exactly the samples the generator is trained to improve, and the running
        statistics used in eval mode describe the same mixture."""
        if self.E is None:
            return from_grid(self.ddp["G"](z))
        x_tilde, mask, _ = sample_visibility(self.rng, x_np, self.config["masks"])
        grid, _ = encoder_input(self._tensor(x_tilde), self._tensor(mask), self.E.mean_pose)
        return from_grid(self.ddp["G"](torch.cat([z, self.ddp["E"](grid).to(z.dtype)])))[: len(z)]

    def reconstruction(self, x: torch.Tensor, x_tilde: torch.Tensor, mask: torch.Tensor,
                       recon: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """MPJPE and MPJVE of ``recon`` aligned (one similarity per frame) onto the observed
        joints of ``x̃``, vs ``x``."""
        aligned, _ = align(recon.float(), torch.nan_to_num(x_tilde), mask)
        return mpjpe(aligned, x), mpjve(aligned, x), aligned

    def generator_step(self, x_np: np.ndarray,
                       visibility: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, float]:
        """One update of G (and E): adversarial + reconstruction + latent cycle.

        ``visibility`` = ``(x̃, mask)`` to use instead of a random one.
        """
        t = self.tcfg
        # The critic is frozen here and called unwrapped: no gradient of its own to
        # average (its DDP wrapper would wait for one); G's flows through it.
        for p in self.D.parameters():
            p.requires_grad_(False)
        gen, enc = self.ddp["G"], self.ddp.get("E")
        b = len(x_np)
        # Prior samples for the adversarial and latent-cycle terms: a fraction of the
        # batch (**ours**; 1 is the paper's one per window).
        n_prior = max(1, round(b * float(t.get("prior_fraction", 1.0))))
        z = self.latent(n_prior)
        out: dict[str, float] = {}
        with self._autocast():
            if self.E is not None:
                if visibility is None:
                    visibility = sample_visibility(self.rng, x_np, self.config["masks"])[:2]
                x_tilde_np, mask_np = visibility
                x = self._tensor(x_np)
                x_tilde, mask = self._tensor(x_tilde_np), self._tensor(mask_np)
                grid, _ = encoder_input(x_tilde, mask, self.E.mean_pose)
                z_enc = enc(grid).float()
                both = from_grid(gen(torch.cat([z, z_enc]))).float()
                fake, recon = both[:n_prior], both[n_prior:]
                l_p, l_s, _ = self.reconstruction(x, x_tilde, mask, recon)
                cyc_grid, _ = encoder_input(fake, torch.ones(fake.shape[:-1], dtype=torch.bool,
                                                             device=self.device), self.E.mean_pose)
                l_z = (z - enc(cyc_grid).float()).abs().mean()
                l_prior = code_moments_loss(z_enc)
            else:
                fake = from_grid(gen(z)).float()
                l_p = l_s = l_z = l_prior = torch.zeros((), device=self.device)
            if self.adversarial():
                l_g = -self.D(to_grid(fake)).float().mean()
            else:
                l_g = torch.zeros((), device=self.device)
            loss = (float(t["lambda_m"]) * l_g + float(t["lambda_p"]) * l_p
                    + self.lambda_s() * l_s + float(t["lambda_z"]) * l_z
                    + float(t.get("lambda_prior", 0.0)) * l_prior)
        self.opt_ge.zero_grad(set_to_none=True)
        self.scaler_ge.scale(loss).backward()
        self.scaler_ge.step(self.opt_ge)
        self.scaler_ge.update()
        out.update(loss_ge=loss.item(), loss_g=l_g.item(), mpjpe=l_p.item(), mpjve=l_s.item(),
                   latent_l1=l_z.item(), prior=l_prior.item())
        return out

    def adversarial(self) -> bool:
        """Whether the critic trains and G is scored by it at this step.

        ``adversarial_from`` (**ours**): the step from which the WGAN-GP terms run; before
        it, G and E train as a regularised autoencoder (reconstruction, latent cycle and
        the codes' moments), which costs a fraction of a WGAN-GP step (no critic, no
        double backward). ``null`` never trains adversarially; 0 is the paper's.
        """
        start = self.tcfg.get("adversarial_from", 0)
        return start is not None and self.step >= int(start)

    def lambda_s(self) -> float:
        """λ_s, ramped up linearly from 0 over ``lambda_s_warmup`` steps (**ours**).

        Measured: with the full MPJVE weight from the start, the autoencoder sits for
        hundreds of steps on a static mean pose (MPJVE's per-joint L1-type gradient
        favours zero velocity while positions are still unknown); without it positions
        are learnt at once, and the velocity term then refines them.
        """
        warmup = int(self.tcfg.get("lambda_s_warmup") or 0)
        ramp = min(1.0, self.step / warmup) if warmup > 0 else 1.0
        return float(self.tcfg["lambda_s"]) * ramp

    def progress(self) -> float:
        """Fraction of the run done: of the time budget if one is set, else of the steps."""
        if self.budget_s:
            return min(1.0, self.train_time / self.budget_s)
        return min(1.0, self.step / max(1, int(self.tcfg["steps"])))

    def lr_factor(self) -> float:
        """``constant``: 1; ``cosine``: from 1 down to ``lr_final`` along :meth:`progress`
        (**ours**: a CPU run is short, so the rate is annealed over its time budget)."""
        if self.tcfg.get("lr_schedule", "constant") != "cosine":
            return 1.0
        final = float(self.tcfg["lr_final"])
        return final + (1.0 - final) * 0.5 * (1.0 + math.cos(math.pi * self.progress()))

    def train_step(self) -> dict[str, float]:
        """``n_critic`` critic updates then one generator/encoder update."""
        factor = self.lr_factor()
        for name, opt in (("opt_d", self.opt_d), ("opt_ge", self.opt_ge)):
            for group in opt.param_groups:
                group["lr"] = self.base_lr[name] * factor
        logs: dict[str, float] = {"loss_d": 0.0, "wasserstein": 0.0, "gp": 0.0}
        for _ in range(int(self.tcfg["n_critic"]) if self.adversarial() else 0):
            logs = self.critic_step(self.next_batch())
        logs.update(self.generator_step(self.next_batch()))
        logs["lr"] = self.base_lr["opt_ge"] * factor
        self.dist.average_batchnorm_stats(self.G)
        self.step += 1
        return logs

    # -------------------------------------------------------------- validation
    def _prepare_val(self, val_windows: np.ndarray) -> None:
        n = int(self.config["data"]["val_windows"])
        rng = np.random.default_rng(12345)
        if len(val_windows) > n:
            val_windows = val_windows[np.sort(rng.choice(len(val_windows), n, replace=False))]
        self.val_x = val_windows
        cfg = self.config["masks"]
        k = len(val_windows)
        self.val_inputs = {
            "upsample": sample_visibility(rng, val_windows, cfg, np.full(k, 1))[:2],
            "hpe": sample_visibility(rng, val_windows, cfg, np.full(k, 2))[:2],
        }
        self.val_head = head_size(val_windows, HEAD_TOP, NECK)

    @torch.no_grad()
    def predict(self, x_tilde: np.ndarray, mask: np.ndarray, chunk: int = 1024) -> np.ndarray:
        """``G(E(x̃))`` aligned frame by frame onto the observed joints of ``x̃`` (eval
        mode), numpy."""
        if self.E is None:
            return self._predict_without_encoder(x_tilde, mask)
        self.G.eval()
        self.E.eval()
        try:
            preds = []
            for i in range(0, len(x_tilde), chunk):
                xt = self._tensor(x_tilde[i : i + chunk])
                m = self._tensor(mask[i : i + chunk])
                with self._autocast():
                    z = self.E.encode(xt, m).float()
                    recon = self.G.positions(z).float()
                aligned, _ = align(recon, torch.nan_to_num(xt), m)
                preds.append(aligned.cpu().numpy())
            return np.concatenate(preds)
        finally:
            self.G.train()
            self.E.train()

    def _predict_without_encoder(self, x_tilde, mask, iterations: int = 60, n: int = 512):
        """Without an encoder: a short latent fit (Adam) from z = 0 (monitoring only)."""
        self.G.eval()
        try:
            xt = self._tensor(x_tilde[:n])
            m = self._tensor(mask[:n])
            target = torch.nan_to_num(xt)
            z = torch.zeros(len(xt), self.G.latent, device=self.device, requires_grad=True)
            opt = torch.optim.Adam([z], lr=0.1, betas=(0.8, 0.999))
            for _ in range(iterations):
                with torch.enable_grad():
                    aligned, _ = align(self.G.positions(z).float(), target, m)
                    loss = 10 * mpjpe(aligned, target, m) + 5 * mpjve(aligned, target, m)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
            with torch.no_grad():
                aligned, _ = align(self.G.positions(z).float(), target, m)
            full = np.full(x_tilde.shape, np.nan, dtype=np.float32)
            full[:n] = aligned.cpu().numpy()
            return full
        finally:
            self.G.train()

    @torch.no_grad()
    def critic_gap(self, n: int = 1024) -> float:
        """``mean D(x_val) - mean D(G(z))`` in eval mode: the critic's Wasserstein estimate
        on held-out windows (a health check of the generator's samples)."""
        self.G.eval()
        try:
            gen = torch.Generator().manual_seed(99)
            z = torch.randn(n, self.G.latent, generator=gen).to(self.device)
            fake = self.D.score_positions(self.G.positions(z).float()).mean()
            real = self.D.score_positions(self._tensor(self.val_x[:n])).mean()
            return float(real - fake)
        finally:
            self.G.train()

    def validate(self) -> dict[str, float]:
        """Reconstruction error and added-joint PCKh/AUC of ``G(E(x̃))`` on val windows."""
        out: dict[str, float] = {"step": self.step, "val_wasserstein": self.critic_gap()}
        for cond, (x_tilde, mask) in self.val_inputs.items():
            pred = self.predict(x_tilde, mask)
            keep = np.isfinite(pred).all(axis=(1, 2, 3))
            gt, p, head = self.val_x[keep], pred[keep], self.val_head[keep]
            errors = normalized_errors(p, gt, head)[..., ADDED_JOINTS]
            curve = pckh(errors, AUC_THRESHOLDS)
            out[f"{cond}_auc"] = float(np.mean(curve))
            out[f"{cond}_pckh@0.1"] = float(curve[10])
            out[f"{cond}_pckh@0.5"] = float(curve[50])
            out[f"{cond}_pckh@1"] = float(curve[100])
            out[f"{cond}_mpjpe"] = float(np.linalg.norm(p - gt, axis=-1).mean())
            out[f"{cond}_mpjpe_added"] = float(np.linalg.norm(p - gt, axis=-1)[..., ADDED_JOINTS].mean())
        return out

    # ------------------------------------------------------------ checkpoints
    def metadata(self, validation: dict | None = None) -> dict:
        return {
            "architecture": dict(self.config["model"]),
            "parameter_counts": parameter_counts(self.nets),
            "config": self.config,
            "data": self.data_info,
            "steps": self.step,
            "epochs": self.step * int(self.tcfg["batch_size"]) * (int(self.tcfg["n_critic"]) + 1)
            / max(1, len(self.train_windows)),
            "code_version": code_version(),
            "validation": validation or {},
            "training": {
                "time_s": round(self.train_time, 1),
                "device": describe_device(self.device),
                "steps_per_s": round(self.step / self.train_time, 4) if self.train_time else None,
                "encoder": self.use_encoder,
            },
        }

    def save_model(self, path: Path, validation: dict | None = None) -> None:
        save_checkpoint(path, self.nets, self.metadata(validation))

    def save_state(self, run_dir: Path) -> None:
        """Everything ``--resume`` needs: weights, optimizers, counters, random states."""
        from safetensors.torch import save_file

        tensors: dict[str, torch.Tensor] = {}
        for name, net in self.nets.items():
            for k, v in net.state_dict().items():
                tensors[f"model.{name}.{k}"] = v.detach().cpu().contiguous().clone()
        groups = {}
        for oname, opt in (("opt_d", self.opt_d), ("opt_ge", self.opt_ge)):
            sd = opt.state_dict()
            for idx, st in sd["state"].items():
                for k, v in st.items():
                    tensors[f"{oname}.{idx}.{k}"] = torch.as_tensor(v).detach().cpu().contiguous().clone()
            groups[oname] = sd["param_groups"]
        tensors["rng.torch"] = torch.get_rng_state().clone()
        if self.device.type == "cuda":
            tensors["rng.cuda"] = torch.cuda.get_rng_state(self.device).clone()
        state = {
            "step": self.step, "epoch": self.epoch, "cursor": self.cursor,
            "train_time": self.train_time, "best_auc": self.best_auc, "best_val": self.best_val,
            "budget_s": self.budget_s, "data_info": self.data_info,
            "numpy_rng": self.rng.bit_generator.state, "param_groups": groups,
            "scalers": {"d": self.scaler_d.state_dict(), "ge": self.scaler_ge.state_dict()},
        }
        # Both written before either is renamed into place.
        with (
            atomic_path(run_dir / "state.safetensors") as weights,
            atomic_path(run_dir / "state.json") as counters,
        ):
            save_file(tensors, str(weights))
            counters.write_text(json.dumps(state, indent=1))

    def load_state(self, run_dir: Path) -> None:
        from safetensors.torch import load_file

        tensors = load_file(str(run_dir / "state.safetensors"))
        state = json.loads((run_dir / "state.json").read_text())
        for name, net in self.nets.items():
            prefix = f"model.{name}."
            net.load_state_dict({k[len(prefix):]: v for k, v in tensors.items()
                                 if k.startswith(prefix)}, strict=True)
        for oname, opt in (("opt_d", self.opt_d), ("opt_ge", self.opt_ge)):
            st: dict[int, dict[str, torch.Tensor]] = {}
            for k, v in tensors.items():
                if k.startswith(oname + "."):
                    _, idx, key = k.split(".", 2)
                    st.setdefault(int(idx), {})[key] = v
            opt.load_state_dict({"state": st, "param_groups": state["param_groups"][oname]})
        # The config wins over the saved hyper-parameters (a resumed run may change them).
        betas = tuple(self.tcfg["betas"])
        for opt, b in ((self.opt_d, betas), (self.opt_ge, tuple(self.tcfg.get("betas_ge") or betas))):
            for group in opt.param_groups:
                group["betas"] = b
        torch.set_rng_state(tensors["rng.torch"])
        if "rng.cuda" in tensors and self.device.type == "cuda":
            torch.cuda.set_rng_state(tensors["rng.cuda"], self.device)
        self.rng.bit_generator.state = state["numpy_rng"]
        self.step, self.epoch, self.cursor = state["step"], state["epoch"], state["cursor"]
        self.train_time, self.best_auc = state["train_time"], state["best_auc"]
        self.best_val = state["best_val"]
        self.budget_s = state.get("budget_s")
        for key, value in (state.get("data_info") or {}).items():
            self.data_info.setdefault(key, value)
        self.scaler_d.load_state_dict(state["scalers"]["d"])
        self.scaler_ge.load_state_dict(state["scalers"]["ge"])
        self._perm = self._permutation(self.epoch)
        if self.dist.rank:  # the saved streams are rank 0's; the others derive theirs
            self.rng = np.random.default_rng(self.dist.seed(self.seed, self.step))
            torch.manual_seed(self.dist.seed(self.seed, self.step))

    def digest(self) -> str:
        """SHA-256 of the networks' weights and buffers (:func:`state_digest`), as the
        ``model.*`` tensors of ``state.safetensors`` hold them."""
        return state_digest({f"{name}.{k}": v for name, net in self.nets.items()
                             for k, v in net.state_dict().items()})


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    return f"cpu: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, " \
           f"{os.cpu_count()} cores visible"


# --------------------------------------------------------------------- logging


LOSS_FIELDS = ["step", "time_s", "loss_d", "wasserstein", "gp", "loss_ge", "loss_g", "mpjpe",
               "mpjve", "latent_l1", "prior", "threads", "lr"]


def _append_csv(path: Path, fields: list[str], row: dict) -> None:
    new = not path.exists()
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})


def _truncate_csv(path: Path, step: int) -> None:
    """Drop rows after ``step`` (a resumed run rewrites them)."""
    if not path.exists():
        return
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
        fields = list(rows[0].keys()) if rows else None
    if fields is None:
        return
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(r for r in rows if int(float(r["step"])) <= step)


def _read_csv(path: Path) -> dict[str, np.ndarray]:
    if not path.exists():
        return {}
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        return {}
    return {k: np.array([float(r[k]) if r[k] not in ("", None) else np.nan for r in rows])
            for k in rows[0]}


def plot_curves(run_dir: Path, out: Path | None = None) -> Path:
    """losses.png: critic, reconstruction, latent cycle and validation curves."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    losses = _read_csv(run_dir / "losses.csv")
    val = _read_csv(run_dir / "val.csv")
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    if losses:
        s = losses["step"]
        ax = axes[0, 0]
        ax.plot(s, losses["wasserstein"], label="W distance D(x) - D(G(z))")
        ax.plot(s, losses["gp"], label="gradient penalty")
        ax.plot(s, losses["loss_g"], label="L_G = -D(G(z))", alpha=0.6)
        ax.set_title("adversarial")
        ax.legend(fontsize=8)
        ax = axes[0, 1]
        ax.plot(s, losses["mpjpe"], label="MPJPE (train, masked input)")
        ax.plot(s, losses["mpjve"], label="MPJVE (train)")
        ax.plot(s, losses["latent_l1"], label="|z - E(G(z))|_1")
        ax.set_yscale("log")
        ax.set_title("reconstruction (normalized units)")
        ax.legend(fontsize=8)
    if val:
        s = val["step"]
        ax = axes[1, 0]
        for cond in ("upsample", "hpe"):
            if f"{cond}_auc" in val:
                ax.plot(s, val[f"{cond}_auc"], marker=".", label=f"{cond}: AUC (added joints)")
                ax.plot(s, val[f"{cond}_pckh@0.5"], ls="--", label=f"{cond}: PCKh@0.5")
        ax.set_title("validation, G(E(x̃)) on the 16 added joints")
        ax.set_xlabel("step")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        ax = axes[1, 1]
        for cond in ("upsample", "hpe"):
            if f"{cond}_mpjpe" in val:
                ax.plot(s, val[f"{cond}_mpjpe"], marker=".", label=f"{cond}: MPJPE all joints")
                ax.plot(s, val[f"{cond}_mpjpe_added"], ls="--", label=f"{cond}: MPJPE added")
        ax.set_title("validation MPJPE (normalized units: torso = 1)")
        ax.set_xlabel("step")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    out = out or run_dir / "losses.png"
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def plot_validation(run_dir: Path, out: Path | None = None, reference: float | None = None,
                    title: str = "") -> Path:
    """val.png: added-joint AUC and PCKh@0.5 of ``G(E(x̃))`` against steps and time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    val = _read_csv(run_dir / "val.csv")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    if val:
        for ax, xkey, xlabel in ((axes[0], "step", "step"), (axes[1], "time_s", "training time (min)")):
            xs = val[xkey] / (60.0 if xkey == "time_s" else 1.0)
            for cond, color in (("upsample", "tab:blue"), ("hpe", "tab:orange")):
                ax.plot(xs, val[f"{cond}_auc"], marker=".", color=color, label=f"{cond}: AUC")
                ax.plot(xs, val[f"{cond}_pckh@0.5"], ls="--", color=color, label=f"{cond}: PCKh@0.5")
            if reference is not None:
                ax.axhline(reference, color="k", ls=":", label=f"per-frame ridge, upsample AUC ({reference:.3f})")
            ax.set_xlabel(xlabel)
            ax.set_ylim(0, 1)
            ax.grid(alpha=0.3)
        axes[0].set_ylabel("val, 16 added joints")
        axes[0].legend(fontsize=8, loc="lower right")
    fig.suptitle(title or "validation: encoder path G(E(x̃)), aligned per frame on the observed joints",
                 fontsize=10)
    fig.tight_layout()
    out = out or run_dir / "val.png"
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def plot_samples(trainer: Trainer, out: Path, n: int = 6) -> Path:
    """Stick figures: frames of G(z) samples (top) and val reconstructions (bottom)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parents = SKELETON.parents
    gen = torch.Generator().manual_seed(7)
    trainer.G.eval()
    with torch.no_grad():
        z = torch.randn(n, trainer.G.latent, generator=gen).to(trainer.device)
        samples = trainer.G.positions(z).float().cpu().numpy()
    trainer.G.train()
    x_tilde, mask = trainer.val_inputs["upsample"]
    recon = trainer.predict(x_tilde[:n], mask[:n])
    fig, axes = plt.subplots(2, n, figsize=(2.2 * n, 5))
    for i in range(n):
        for row, (poses, title) in enumerate(((samples[i], f"G(z) #{i}"),
                                              (recon[i], f"val #{i}: G(E(x̃))"))):
            ax = axes[row, i]
            for f, alpha in zip((0, 8, 16, 23), (0.25, 0.45, 0.7, 1.0)):
                shift = np.array([f * 0.08, 0.0])
                if row == 1:
                    gt = trainer.val_x[i, f] + shift
                    for j, p in enumerate(parents):
                        if p >= 0:
                            ax.plot(*np.stack([gt[j], gt[p]]).T, color="0.6", lw=1, alpha=alpha)
                pose = poses[f] + shift
                for j, p in enumerate(parents):
                    if p >= 0:
                        color = "tab:red" if "left" in NAMES[j] else (
                            "tab:blue" if "right" in NAMES[j] else "k")
                        ax.plot(*np.stack([pose[j], pose[p]]).T, color=color, lw=1.2, alpha=alpha)
            ax.set_aspect("equal")
            ax.invert_yaxis()
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(title, fontsize=8)
    fig.suptitle("top: generator samples (frames 0, 8, 16, 23, shifted right); bottom: "
                 "upsampling from the 12 joints (grey: ground truth)", fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


# ------------------------------------------------------------------------ main


class ThreadTuner:
    """``num_threads: auto``: keep whichever torch thread count steps fastest.

    On a shared CPU, two intra-op threads are fast when the cores are free and several
    times slower than one thread when other processes compete for them (threads wait
    for each other at every operation). Every ``every_s`` seconds of training the other
    count is tried for ``window`` steps; the one with the lower median step time is
    kept. (**ours**; it changes the order of floating-point reductions, so runs with
    ``auto`` are not bit reproducible; a fixed count is.)
    """

    def __init__(self, options: Sequence[int] = (1, 2), window: int = 12,
                 every_s: float = 90.0, first: int = 15):
        self.options = list(options)
        self.current = self.options[-1]
        self.window, self.every_s = window, every_s
        self.times: dict[int, list[float]] = {n: [] for n in self.options}
        self.countdown = first
        self.elapsed = 0.0
        self.probing: int | None = None
        self._probe_steps = 0
        torch.set_num_threads(self.current)

    def record(self, seconds: float) -> None:
        threads = torch.get_num_threads()
        history = self.times[threads]
        history.append(seconds)
        del history[: -self.window]
        if self.probing is not None:
            self._probe_steps += 1
            if self._probe_steps >= self.window:
                best = min(self.options, key=lambda n: float(np.median(self.times[n]))
                           if self.times[n] else math.inf)
                self.current, self.probing = best, None
                torch.set_num_threads(best)
                self.elapsed = 0.0
            return
        self.countdown -= 1
        self.elapsed += seconds
        if self.countdown <= 0 and self.elapsed >= self.every_s:
            self.probing = next(n for n in self.options if n != self.current)
            self.times[self.probing] = []
            self._probe_steps = 0
            torch.set_num_threads(self.probing)


def run(config: dict, run_dir: Path, resume: bool = False, max_minutes: float | None = None,
        train_windows: np.ndarray | None = None, val_windows: np.ndarray | None = None,
        data_info: dict | None = None, dist: Distributed | None = None) -> Trainer:
    """Train (or go on training) into ``run_dir``; returns the trainer.

    Under torchrun (``dist``), every process trains its share of each batch and rank 0
    alone prints, validates and writes the run's files.
    """
    dist = dist or Distributed()
    is_main = dist.is_main
    say = print if is_main else (lambda *args, **kwargs: None)
    tuner = None
    if config["num_threads"] == "auto":
        tuner = ThreadTuner()
    else:
        torch.set_num_threads(int(config["num_threads"]))
    if train_windows is None:
        train_path = resolve_data(config["data"]["train"])
        val_path = resolve_data(config["data"]["val"])
        train_windows, train_info = load_windows(train_path)
        val_windows, val_info = load_windows(val_path)
        data_info = {"train": train_info, "val": val_info}
        say(f"train: {train_path.name} ({len(train_windows)} windows); "
            f"val: {val_path.name} ({len(val_windows)} windows)", flush=True)
    run_dir.mkdir(parents=True, exist_ok=True)
    trainer = Trainer(config, train_windows, val_windows, run_dir, data_info, dist)
    counts = parameter_counts(trainer.nets)
    say("parameters: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()), flush=True)
    say(f"device: {describe_device(trainer.device)}; amp: "
        f"{trainer.amp_dtype if trainer.amp else 'off'}", flush=True)
    if dist.enabled:
        say(f"distributed: {dist.world} processes, {int(config['train']['batch_size']) // dist.world}"
            f" windows each per batch of {config['train']['batch_size']}", flush=True)
    if resume:
        trainer.load_state(run_dir)
        if is_main:
            for name in ("losses.csv", "val.csv"):
                _truncate_csv(run_dir / name, trainer.step)
        say(f"resumed at step {trainer.step} (epoch {trainer.epoch})", flush=True)
    elif is_main:
        for name in ("losses.csv", "val.csv"):
            (run_dir / name).unlink(missing_ok=True)
        (run_dir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        if trainer.use_encoder and config.get("baseline", True):
            base = ridge_baseline(train_windows, trainer.val_x)
            trainer.data_info["val_ridge_baseline_upsample"] = base
            print(f"reference: per-frame ridge on val (upsample, added joints): "
                  f"PCKh@0.5 {base['pckh@0.5']:.4f}, AUC {base['auc']:.4f}", flush=True)

    total = int(config["train"]["steps"])
    deadline = None if max_minutes is None else time.monotonic() + 60.0 * max_minutes
    if max_minutes is not None:
        # The learning-rate schedule spans this invocation's budget (on top of the
        # training time already done when resuming).
        trainer.budget_s = trainer.train_time + 60.0 * max_minutes
    log_every, val_every = int(config["log_every"]), int(config["val_every"])
    ckpt_every = int(config["checkpoint_every"])
    sums: dict[str, float] = {}
    count = 0
    bar = None
    if config.get("progress", True) and is_main:
        from tqdm import tqdm

        bar = tqdm(total=total, initial=trainer.step, dynamic_ncols=True, mininterval=5,
                   file=sys.stdout)
    val_fields = None
    last_val_step = -1

    def do_validate():
        nonlocal val_fields, last_val_step
        v = trainer.validate()
        v["time_s"] = round(trainer.train_time, 1)
        val_fields = val_fields or ["step", "time_s"] + [k for k in v if k not in ("step", "time_s")]
        _append_csv(run_dir / "val.csv", val_fields, v)
        last_val_step = trainer.step
        if v["upsample_auc"] > trainer.best_auc:
            trainer.best_auc = v["upsample_auc"]
            trainer.best_val = v
            trainer.save_model(run_dir / "best.safetensors", v)
        msg = (f"[val step {trainer.step}] upsample AUC {v['upsample_auc']:.4f} "
               f"PCKh@0.5 {v['upsample_pckh@0.5']:.4f} MPJPE {v['upsample_mpjpe']:.4f} | hpe AUC "
               f"{v['hpe_auc']:.4f} | best {trainer.best_auc:.4f}")
        (bar.write if bar else print)(msg)
        sys.stdout.flush()
        return v

    stop_reason = "steps"
    t_last = time.monotonic()
    while trainer.step < total:
        if deadline is not None and dist.any(time.monotonic() >= deadline):
            stop_reason = "max-minutes"
            break
        logs = trainer.train_step()
        now = time.monotonic()
        if tuner is not None:
            tuner.record(now - t_last)
        logs["threads"] = float(torch.get_num_threads())
        logs["seconds"] = now - t_last
        t_last = now
        # Averaged over the processes: every rank logs, times (and so anneals the
        # learning rate) and stops alike.
        logs = dist.mean(logs)
        trainer.train_time += logs.pop("seconds")
        if not all(math.isfinite(v) for v in logs.values()):
            stop_reason = f"non-finite loss at step {trainer.step}: {logs}"
            say(stop_reason, flush=True)
            break
        for k, v in logs.items():
            sums[k] = sums.get(k, 0.0) + v
        count += 1
        if bar:
            bar.update(1)
        if trainer.step % log_every == 0:
            row = {k: v / count for k, v in sums.items()}
            row.update(step=trainer.step, time_s=round(trainer.train_time, 1))
            if is_main:
                _append_csv(run_dir / "losses.csv", LOSS_FIELDS, row)
            if bar:
                bar.set_postfix_str(f"W {row['wasserstein']:.3f} gp {row['gp']:.3f} "
                                    f"mpjpe {row['mpjpe']:.4f} z {row['latent_l1']:.3f}")
            sums, count = {}, 0
        if trainer.step % val_every == 0:
            if is_main:
                do_validate()
            dist.barrier()
            t_last = time.monotonic()
        if trainer.step % ckpt_every == 0:
            if is_main:
                trainer.save_state(run_dir)
            dist.barrier()
            t_last = time.monotonic()
    if bar:
        bar.close()
    digests = dist.gather_digests(trainer.digest()) if dist.enabled else []
    if is_main:
        _finish(trainer, run_dir, do_validate() if last_val_step != trainer.step
                else trainer.best_val, stop_reason, digests)
    # Every process leaves the group together, after rank 0's last files: a rank that
    # tore down gloo while rank 0 still worked was seen to abort (SIGABRT) under load.
    dist.barrier()
    return trainer


def _finish(trainer: Trainer, run_dir: Path, final: dict[str, float], stop_reason: str,
            digests: list[str]) -> None:
    """Rank 0's end of a run: last state and model, plots and the one-line JSON summary."""
    trainer.save_state(run_dir)
    trainer.save_model(run_dir / "last.safetensors", final)
    plot_curves(run_dir)
    ridge = trainer.data_info.get("val_ridge_baseline_upsample", {}).get("auc")
    plot_validation(run_dir, reference=ridge)
    plot_samples(trainer, run_dir / "samples.png")
    summary: dict[str, object] = {
        "stopped": stop_reason, "step": trainer.step,
        "train_time_s": round(trainer.train_time, 1),
        "steps_per_s": round(trainer.step / max(trainer.train_time, 1e-9), 3),
        "best_upsample_auc": trainer.best_auc}
    if digests:  # distributed: each replica's weights and buffers, all equal
        summary["replica_sha256"] = digests
    print(json.dumps(summary), flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=REPO_ROOT / "training/configs/jumps.yaml")
    parser.add_argument("--resume", type=Path, metavar="RUN_DIR",
                        help="go on from RUN_DIR/state.safetensors with RUN_DIR/config.yaml")
    parser.add_argument("--no-encoder", action="store_true", help="train the GAN alone")
    parser.add_argument("--max-minutes", type=float, default=None,
                        help="stop cleanly (with a checkpoint) after this many minutes")
    parser.add_argument("--name", help="run name (default: the config's)")
    parser.add_argument("--steps", type=int, help="override train.steps")
    parser.add_argument("--batch-size", type=int, help="override train.batch_size")
    parser.add_argument("--init-from", type=Path, metavar="CHECKPOINT",
                        help="start a new run from these weights (e.g. the shipped model, "
                             "posekit/models/jumps_cmu.safetensors) instead of a random init")
    parser.add_argument("--set", dest="options", action="append", default=[],
                        metavar="SECTION.KEY=VALUE",
                        help="override a setting of the config (a YAML value), e.g. "
                             "--set train.lr=1.5e-4; repeatable")
    args = parser.parse_args(argv)
    if args.resume:
        run_dir = args.resume
        config = merge(DEFAULTS, yaml.safe_load((run_dir / "config.yaml").read_text()))
    else:
        config = merge(DEFAULTS, yaml.safe_load(args.config.read_text()))
        if args.no_encoder:
            config["train"]["encoder"] = False
        if args.name:
            config["name"] = args.name
        run_dir = REPO_ROOT / config["runs_dir"] / config["name"]
    if args.init_from:
        config["init_from"] = str(args.init_from)
    if args.steps:
        config["train"]["steps"] = args.steps
    if args.batch_size:
        config["train"]["batch_size"] = args.batch_size
    for item in args.options:
        try:
            set_option(config, item)
        except ValueError as error:
            parser.error(str(error))
    dist = Distributed.from_env()  # torchrun's processes, else this one alone
    # Denormals slow CPU convolutions up to 10x; the setting is global, so restore it.
    torch.set_flush_denormal(True)
    try:
        dist.start(resolve_device(config["device"]))
        run(config, run_dir, resume=bool(args.resume), max_minutes=args.max_minutes, dist=dist)
    finally:
        dist.stop()
        torch.set_flush_denormal(False)


if __name__ == "__main__":
    main()
