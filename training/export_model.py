"""Export a training run's best checkpoint as the model shipped inside posekit.

The weights are stored in float16 (half the size; they are loaded into float32
networks), with the run's record (config, data, steps, validation figures, training
time and device) and a new SHA-256.

Example::

    python -m training.export_model --run runs/jumps_cmu
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from posekit.jumps.checkpoint import load_networks, save_checkpoint
from training.mocap import REPO_ROOT

SHIPPED = REPO_ROOT / "posekit" / "models" / "jumps_cmu.safetensors"
#: Entries that save_checkpoint writes anew for the exported file.
_REWRITTEN = ("format", "format_version", "networks", "weights_file", "sha256")


def export(run: Path, out: Path = SHIPPED, checkpoint: str = "best") -> Path:
    """Write ``run/<checkpoint>.safetensors`` as float16 to ``out``; returns its JSON."""
    source = run / f"{checkpoint}.safetensors"
    networks, record = load_networks(source, device="cpu")
    metadata = {k: v for k, v in record.items() if k not in _REWRITTEN}
    metadata["exported"] = {"from": str(source.relative_to(REPO_ROOT) if source.is_absolute()
                                        and source.is_relative_to(REPO_ROOT) else source),
                            "source_sha256": record["sha256"], "dtype": "float16"}
    return save_checkpoint(out, {name: net.half() for name, net in networks.items()}, metadata)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, required=True, help="a training run folder")
    parser.add_argument("--checkpoint", default="best", help="best (default) or another name")
    parser.add_argument("--out", type=Path, default=SHIPPED)
    args = parser.parse_args(argv)
    meta = export(args.run, args.out, args.checkpoint)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB) and {meta}")


if __name__ == "__main__":
    main()
