"""Cache each source's prediction of every eval clip, so per-joint combinations of
sources can be scored without running the sources again.

For one split and condition, writes ``<out>/<split>-<condition>.npz`` with, per clip,
the input, the truth and the positions ``(I, T, 28, 2)`` predicted by each source:

``ridge``, ``ridge_window``
    The baselines.
``generator``
    The ``jumps`` stage with posekit's defaults but every added joint generated
    (``completion_weights: {}``).
``defaults``
    The ``jumps`` stage with posekit's defaults.
``generator_ridge``
    As ``generator``, with the previous release's completion: the per-frame ridge
    (``completion: ridge``), whose linearly filled gaps are left to JUMPS
    (``gap_weight: 0``).
``generator_encoder``
    As ``generator``, with the paper's start (``completion: null``: the encoder sees
    the measured joints only).

Example::

    python -m training.source_cache --split val --condition upsample --out /tmp/fidelity
    python -m training.source_cache --split val --condition upsample --out /tmp/fidelity \
        --sources generator_encoder --model runs/jumps_linear/best.safetensors --label linear
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from training.mocap import REPO_ROOT

SOURCES: tuple[str, ...] = ("ridge", "ridge_window", "generator", "defaults", "generator_ridge",
                            "generator_encoder")


def cache_sources(folder: Path, condition: str, sources: Sequence[str] = SOURCES,
                  limit: int | None = None, model: str | None = None,
                  label: str | None = None) -> dict[str, np.ndarray]:
    """``{"<clip>/<source>": positions}`` plus ``<clip>/input`` and ``<clip>/truth``
    (``model``: the JUMPS checkpoint, default the shipped one; with ``label``, every
    source is stored as ``<source>@<label>``, so two models can share a cache)."""
    from posekit.core.sequence import PoseSequence
    from posekit.plugins.registry import get_stage

    stages = {
        "ridge": get_stage("ridge")(),
        "ridge_window": get_stage("ridge_window")(),
        "generator": get_stage("jumps")(model=model, completion_weights={}),
        "defaults": get_stage("jumps")(model=model),
        "generator_ridge": get_stage("jumps")(model=model, completion="ridge", gap_weight=0.0,
                                              completion_weights={}),
        "generator_encoder": get_stage("jumps")(model=model, completion=None),
    }
    out: dict[str, np.ndarray] = {}
    for file in sorted((folder / condition).glob("*.nc"))[:limit]:
        given = PoseSequence.read_netcdf(file)
        truth = PoseSequence.read_netcdf(folder / "truth" / file.name)
        out[f"{file.stem}/input"] = given.positions()
        out[f"{file.stem}/truth"] = truth.positions()
        for name in sources:
            key = f"{name}@{label}" if label else name
            out[f"{file.stem}/{key}"] = stages[name](given).positions()
    return out


def main(argv: Sequence[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(prog="python -m training.source_cache",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="val")
    parser.add_argument("--condition", default="upsample", choices=["upsample", "hpe"])
    parser.add_argument("--eval", type=Path, default=REPO_ROOT / "eval")
    parser.add_argument("--sources", default=",".join(SOURCES))
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--model", default=None, help="JUMPS checkpoint (default: the shipped one)")
    parser.add_argument("--label", default=None,
                        help="store the sources as SOURCE@LABEL (another model beside the shipped one)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    arrays = cache_sources(args.eval / args.split, args.condition, args.sources.split(","),
                           args.limit, args.model, args.label)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{args.split}-{args.condition}.npz"
    if path.exists():  # add to (or replace in) what is cached already
        with np.load(path) as data:
            arrays = {**{key: data[key] for key in data.files}, **arrays}
    np.savez_compressed(path, **arrays)
    print(path)
    return path


if __name__ == "__main__":
    main()
