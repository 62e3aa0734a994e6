"""posekit's own skeleton files by name, read without the plugin registry.

The skeletons shipped in the wheel (the data package ``posekit.skeletons``) are data:
reading one imports no plugin module. The data model uses this catalogue when it is
given the name of a built-in skeleton; a skeleton that a plugin adds is resolved
against the registry at the edge (pipeline building, stage construction,
:func:`posekit.read`) and handed in as a :class:`~posekit.core.skeleton.Skeleton`.
"""

from __future__ import annotations

import functools
import importlib.resources

from posekit.core.errors import UnknownNameError, unknown_name_message
from posekit.core.skeleton import HUB_SKELETON, Skeleton, load_skeleton

#: The data package that holds the built-in skeleton files (``NAME.toml``).
PACKAGE = "posekit.skeletons"

__all__ = ["HUB_SKELETON", "PACKAGE", "builtin_skeleton", "builtin_skeleton_names"]


@functools.cache
def builtin_skeleton_names() -> tuple[str, ...]:
    """Names of the skeleton files shipped with posekit, sorted.

    Examples
    --------
    >>> "coco_17" in builtin_skeleton_names()
    True
    """
    folder = importlib.resources.files(PACKAGE)
    return tuple(
        sorted(
            item.name[: -len(".toml")] for item in folder.iterdir() if item.name.endswith(".toml")
        )
    )


@functools.cache
def builtin_skeleton(name: str) -> Skeleton:
    """A skeleton shipped with posekit, loaded once.

    Raises
    ------
    UnknownNameError
        If posekit ships no skeleton of that name (a plugin's skeleton comes from
        :meth:`posekit.plugins.registry.Registry.skeleton`).

    Examples
    --------
    >>> builtin_skeleton("coco_17").joint_names[:3]
    ('nose', 'left_eye', 'right_eye')
    >>> builtin_skeleton(HUB_SKELETON).n_joints
    28
    """
    if name not in builtin_skeleton_names():
        message = unknown_name_message("skeleton", name, builtin_skeleton_names())
        raise UnknownNameError(
            f"{message}; a plugin's skeleton is passed as a Skeleton object "
            "(posekit.plugins.registry.get_skeleton(name))"
        )
    with importlib.resources.as_file(importlib.resources.files(PACKAGE) / f"{name}.toml") as path:
        return load_skeleton(path)
