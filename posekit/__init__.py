"""posekit: post-processing of human pose sequences.

``import posekit`` is cheap: :class:`~posekit.pipeline.run.Pipeline` is imported on first
use (``posekit.Pipeline``).

Examples
--------
>>> import posekit
>>> posekit.Pipeline.__module__
'posekit.pipeline.run'
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["Pipeline", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "Pipeline":
        from posekit.pipeline.run import Pipeline

        return Pipeline
    raise AttributeError(f"module 'posekit' has no attribute {name!r}")
