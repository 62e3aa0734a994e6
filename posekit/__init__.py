"""posekit: post-processing of human pose sequences.

The front door: read a file, apply stages, write the result, or run a pipeline.
``import posekit`` is cheap: everything below is imported on first use.

- :func:`read` and :func:`write`: one pose file (:mod:`posekit.io.api`);
- :class:`Pipeline`: stages in order, from Python or a YAML file
  (:mod:`posekit.pipeline.run`);
- the built-in stages :class:`Remap`, :class:`Select`, :class:`ConfidenceFilter`,
  :class:`Align`, :class:`Jumps`, :class:`Evaluate`, :class:`Render`, and
  :func:`apply_stage`, which applies one and writes its provenance entry;
- :class:`PoseSequence`, the data model (:mod:`posekit.core.sequence`).

Examples
--------
>>> import tempfile, pathlib, numpy as np
>>> import posekit
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> seq = posekit.PoseSequence.from_arrays(np.ones((4, 2, 17, 1)), skeleton="coco_17", fps=30)
>>> path = posekit.write(seq, folder / "walk.nc")
>>> walk = posekit.read(path)
>>> out = posekit.Pipeline(steps=[posekit.Remap(to="mpi_inf_3dhp_28")])(walk)
>>> out.n_keypoints, [entry["stage"] for entry in out.log]
(28, ['remap'])
>>> posekit.apply_stage(posekit.Select(start=1), walk).n_frames
3
>>> posekit.Pipeline.__module__
'posekit.pipeline.run'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names of _LAZY, for type checkers
    from posekit.core.sequence import PoseSequence
    from posekit.io.api import read, write
    from posekit.pipeline.run import Pipeline
    from posekit.stages.align import Align
    from posekit.stages.basic import ConfidenceFilter, Remap, Select
    from posekit.stages.evaluate import Evaluate
    from posekit.stages.jumps import Jumps
    from posekit.stages.provenance import apply_stage
    from posekit.stages.render import Render

__version__ = "0.1.0"

#: Public name -> the module that defines it (imported on first use).
_LAZY = {
    "read": "posekit.io.api",
    "write": "posekit.io.api",
    "Pipeline": "posekit.pipeline.run",
    "PoseSequence": "posekit.core.sequence",
    "apply_stage": "posekit.stages.provenance",
    "Remap": "posekit.stages.basic",
    "Select": "posekit.stages.basic",
    "ConfidenceFilter": "posekit.stages.basic",
    "Align": "posekit.stages.align",
    "Jumps": "posekit.stages.jumps",
    "Evaluate": "posekit.stages.evaluate",
    "Render": "posekit.stages.render",
}
__all__ = [
    "Align",
    "ConfidenceFilter",
    "Evaluate",
    "Jumps",
    "Pipeline",
    "PoseSequence",
    "Remap",
    "Render",
    "Select",
    "__version__",
    "apply_stage",
    "read",
    "write",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'posekit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
