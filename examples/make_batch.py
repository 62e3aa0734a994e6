"""Make the batch example: four short CMU test-split clips as AlphaPose result files.

Each clip is made as ``examples/make_example.py`` makes its clip (the evaluation
protocol's camera, the 12 body joints of COCO-17 with noise and occlusion bursts) and
written to ``batch/clips/cmu_<clip>.json``, its ground truth to
``batch/truth/cmu_<clip>.nc``.

Needs the CMU data in ``../shared/mocap`` (``--mocap``); the outputs are committed, so
users never run this. The data used in this project was obtained from
mocap.cs.cmu.edu; the database was created with funding from NSF EIA-0196217.

Example::

    PYTHONPATH=. python examples/make_batch.py   # from the repository root
"""

from __future__ import annotations

import argparse
from pathlib import Path

from make_example import alphapose_example, truth_sequence, write_json

from training.mocap import default_mocap_root

#: Short clips of three test subjects: walking, running, jumping.
CLIPS = ("02_03", "09_01", "09_05", "16_35")
FOLDER = Path(__file__).resolve().parent / "batch"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mocap", type=Path, default=default_mocap_root())
    args = parser.parse_args()

    for clip in CLIPS:
        records, truth = alphapose_example(clip, args.mocap)
        write_json(FOLDER / "clips" / f"cmu_{clip}.json", records)
        truth_sequence(truth, clip, args.mocap, "examples/make_batch.py").to_netcdf(
            FOLDER / "truth" / f"cmu_{clip}.nc"
        )
        print(f"wrote cmu_{clip}: {len(truth)} frames")


if __name__ == "__main__":
    main()
