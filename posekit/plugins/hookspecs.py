"""Hook specifications: how posekit and third parties add skeletons, readers, writers,
stages, estimators and window strategies.

A plugin is a module (or object) with functions marked ``@hookimpl`` that receive the
:class:`~posekit.plugins.registry.Registry` and call its ``add_*`` methods. posekit's own
readers, writers and stages are registered through these same hooks.

Examples
--------
A third-party module registered under the entry-point group ``posekit``::

    from posekit.plugins.hookspecs import hookimpl

    @hookimpl
    def posekit_register_readers(registry):
        registry.add_reader("myformat", MyFormatReader)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from posekit.plugins.registry import Registry

PROJECT = "posekit"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def posekit_register_skeletons(registry: Registry) -> None:
    """Add folders of skeleton files with ``registry.add_skeleton_folder(folder)``."""


@hookspec
def posekit_register_readers(registry: Registry) -> None:
    """Add readers with ``registry.add_reader(name, reader_class)``."""


@hookspec
def posekit_register_writers(registry: Registry) -> None:
    """Add writers with ``registry.add_writer(name, writer_class)``."""


@hookspec
def posekit_register_stages(registry: Registry) -> None:
    """Add stages with ``registry.add_stage(name, stage_class)``."""


@hookspec
def posekit_register_estimators(registry: Registry) -> None:
    """Add pose estimators (video or image folder to PoseSequence) with
    ``registry.add_estimator(name, estimator_class)``."""


@hookspec
def posekit_register_windowings(registry: Registry) -> None:
    """Add window strategies (how a sequence is cut into windows and the results merged)
    with ``registry.add_windowing(name, strategy_class)``."""
