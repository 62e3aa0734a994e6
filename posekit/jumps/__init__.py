"""JUMPS: joint upsampling and inpainting of 2D pose sequences with a GAN and an encoder.

- :mod:`posekit.jumps.settings`: the inference settings and presets, each default once;
- :mod:`posekit.jumps.upsample`: upsampling one sequence (windows, batches, merging,
  attaching, blending with a completion), what the ``jumps`` stage runs;
- :mod:`posekit.jumps.inpaint`: latent-code inpainting of one batch of windows;
- :mod:`posekit.jumps.grid`, :mod:`posekit.jumps.normalize`,
  :mod:`posekit.jumps.windowing`: the grid representation, window normalisation and
  window strategies;
- :mod:`posekit.jumps.networks`: the generator, critic and encoder;
- :mod:`posekit.jumps.encoding`: the encoder's input normalization (partial windows);
- :mod:`posekit.jumps.attach`: generated joints attached to the measured ones;
- :mod:`posekit.jumps.losses`: MPJPE/MPJVE (torch) and the WGAN-GP gradient penalty;
- :mod:`posekit.jumps.checkpoint`: saving and loading weights (safetensors, hashed) and
  :func:`load_model` for the shipped pretrained model.

The submodules import torch; this package does not until one of them is used.
"""

from __future__ import annotations

from typing import Any

__all__ = ["load_model"]


def __getattr__(name: str) -> Any:
    if name == "load_model":
        from posekit.jumps.checkpoint import load_model

        return load_model
    raise AttributeError(f"module 'posekit.jumps' has no attribute {name!r}")
