"""Registers posekit's own skeleton files (the ``skeletons/`` folder of the source tree)."""

from __future__ import annotations

import importlib.resources

from posekit.plugins.hookspecs import hookimpl
from posekit.plugins.registry import Registry


@hookimpl
def posekit_register_skeletons(registry: Registry) -> None:
    """Add the built-in skeleton folder."""
    registry.add_skeleton_folder(importlib.resources.files("posekit.skeletons"))
