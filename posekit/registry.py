"""The plugin registry: skeletons, readers, writers and stages by name.

posekit's own plugins (:data:`BUILTIN_PLUGINS`) are registered first, through the same
hooks as third parties, then the modules of the entry-point group ``posekit``.
Skeleton folders also come from the data-only entry-point group ``posekit.skeletons``:
its value names a package whose ``*.toml`` files are read, never executed. A plugin that
fails to load is recorded in :attr:`Registry.failures` and reported with its name and
the error; everything else keeps working.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import importlib.resources
import warnings
from collections.abc import Callable
from importlib.resources.abc import Traversable
from typing import Any

import attrs
import pluggy

from posekit import hookspecs
from posekit.errors import PosekitError
from posekit.skeleton import Skeleton, load_skeleton

#: posekit's own plugin modules, registered before any third-party plugin.
BUILTIN_PLUGINS: tuple[str, ...] = (
    "posekit.builtin_skeletons",
    "posekit.io.netcdf",
    "posekit.io.asf_amc",
    "posekit.io.bvh",
    "posekit.io.alphapose",
    "posekit.io.openpose",
    "posekit.io.mmpose",
    "posekit.io.coco",
    "posekit.io.dlc",
    "posekit.io.csv",
    "posekit.io.sleap",
    "posekit.io.trc",
    "posekit.stages.basic",
    "posekit.stages.align",
    "posekit.stages.jumps",
    "posekit.windowing",
    "posekit.stages.evaluate",
    "posekit.stages.render",
    "posekit.baselines",
)

ENTRY_POINT_GROUP = "posekit"
SKELETON_ENTRY_POINT_GROUP = "posekit.skeletons"
_HOOKS = ("skeletons", "readers", "writers", "stages", "windowings")


class UnknownNameError(PosekitError, KeyError):
    """A skeleton, reader, writer or stage name that nothing registered."""

    def __str__(self) -> str:
        return str(self.args[0])


@attrs.frozen
class Entry:
    """A registered reader, writer or stage: its class and where it came from."""

    name: str
    kind: str
    cls: type
    origin: str

    @property
    def summary(self) -> str:
        """First line of the class docstring."""
        return (self.cls.__doc__ or "").strip().splitlines()[0] if self.cls.__doc__ else ""


@attrs.frozen
class PluginFailure:
    """A plugin that could not be loaded."""

    name: str
    error: str


@attrs.define
class Registry:
    """Everything plugins registered. Get the shared one with :func:`get_registry`.

    Examples
    --------
    >>> registry = get_registry()
    >>> "remap" in registry.stages and "netcdf" in registry.readers
    True
    """

    readers: dict[str, Entry] = attrs.field(factory=dict)
    writers: dict[str, Entry] = attrs.field(factory=dict)
    stages: dict[str, Entry] = attrs.field(factory=dict)
    windowings: dict[str, Entry] = attrs.field(factory=dict)
    skeleton_files: dict[str, tuple[Traversable, str]] = attrs.field(factory=dict)
    failures: list[PluginFailure] = attrs.field(factory=list)
    origin: str = "posekit"
    _skeletons: dict[str, Skeleton] = attrs.field(factory=dict, repr=False)

    def add_skeleton_folder(self, folder: Traversable) -> None:
        """Register every ``*.toml`` skeleton file of a folder under its file stem."""
        for item in sorted(folder.iterdir(), key=lambda t: t.name):
            if item.name.endswith(".toml"):
                self.skeleton_files[item.name[: -len(".toml")]] = (item, self.origin)

    def add_reader(self, name: str, cls: type) -> None:
        """Register a reader class (see :class:`posekit.protocols.Reader`)."""
        self.readers[name] = Entry(name, "reader", cls, self.origin)

    def add_writer(self, name: str, cls: type) -> None:
        """Register a writer class (see :class:`posekit.protocols.Writer`)."""
        self.writers[name] = Entry(name, "writer", cls, self.origin)

    def add_stage(self, name: str, cls: type) -> None:
        """Register a stage class (see :class:`posekit.protocols.Stage`)."""
        self.stages[name] = Entry(name, "stage", cls, self.origin)

    def add_windowing(self, name: str, cls: type) -> None:
        """Register a window strategy (see :class:`posekit.windowing.WindowStrategy`)."""
        self.windowings[name] = Entry(name, "windowing", cls, self.origin)

    def skeleton(self, name: str) -> Skeleton:
        """Load (once) and return a registered skeleton.

        Raises
        ------
        UnknownNameError
            If no skeleton of that name is registered.
        SkeletonFileError
            If its file is broken.
        """
        if name not in self._skeletons:
            if name not in self.skeleton_files:
                raise UnknownNameError(
                    unknown_name_message("skeleton", name, self.skeleton_files)
                )
            traversable, _ = self.skeleton_files[name]
            with importlib.resources.as_file(traversable) as path:
                self._skeletons[name] = load_skeleton(path)
        return self._skeletons[name]

    def entry(self, kind: str, name: str) -> Entry:
        """A registered reader, writer or stage by kind and name."""
        table: dict[str, Entry] = getattr(self, f"{kind}s")
        if name not in table:
            raise UnknownNameError(unknown_name_message(kind, name, table))
        return table[name]


def unknown_name_message(kind: str, name: str, known: Any) -> str:
    """``unknown stage 'jump'; did you mean 'jumps'? known: ...``."""
    import difflib

    names = sorted(known)
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown {kind} {name!r}{hint} (known: {', '.join(names)})"


def _call_hooks(
    manager: pluggy.PluginManager, registry: Registry, origins: dict[str, str]
) -> None:
    for hook_name in _HOOKS:
        caller = getattr(manager.hook, f"posekit_register_{hook_name}")
        # get_hookimpls() lists implementations in registration order: built-ins
        # first, so a third-party plugin may replace a built-in of the same name.
        for impl in caller.get_hookimpls():
            registry.origin = origins[impl.plugin_name]
            try:
                impl.function(registry=registry)
            except Exception as err:  # noqa: BLE001  (a broken plugin must not break posekit)
                _record_failure(registry, registry.origin, err)


def _record_failure(registry: Registry, name: str, err: BaseException) -> None:
    failure = PluginFailure(name, f"{type(err).__name__}: {err}")
    registry.failures.append(failure)
    warnings.warn(
        f"posekit plugin {name!r} failed to load and is skipped: {failure.error}",
        stacklevel=3,
    )


def _origin_of(entry_point: importlib.metadata.EntryPoint) -> str:
    dist = entry_point.dist
    return f"{dist.name} {dist.version}" if dist is not None else entry_point.name


def build_registry(*, entry_points: bool = True) -> Registry:
    """Build a fresh registry: built-ins, then entry points (if asked).

    Most code wants the shared :func:`get_registry` instead.
    """
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    registry = Registry()
    origins: dict[str, str] = {}
    for module_name in BUILTIN_PLUGINS:
        manager.register(importlib.import_module(module_name), name=module_name)
        origins[module_name] = "posekit"
    if entry_points:
        for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            origin = _origin_of(entry_point)
            try:
                name = manager.register(entry_point.load(), name=f"{origin}:{entry_point.name}")
            except Exception as err:  # noqa: BLE001  (any import error of a plugin)
                _record_failure(registry, origin, err)
            else:
                origins[name] = origin
    _call_hooks(manager, registry, origins)
    if entry_points:
        for entry_point in importlib.metadata.entry_points(group=SKELETON_ENTRY_POINT_GROUP):
            registry.origin = _origin_of(entry_point)
            try:
                registry.add_skeleton_folder(importlib.resources.files(entry_point.value))
            except Exception as err:  # noqa: BLE001  (a missing or broken data package)
                _record_failure(registry, registry.origin, err)
    registry.origin = "posekit"
    return registry


@functools.cache
def get_registry() -> Registry:
    """The registry shared by the whole process, built on first use."""
    return build_registry()


def get_skeleton(name: str) -> Skeleton:
    """A registered skeleton by name.

    Examples
    --------
    >>> get_skeleton("coco_17").joint_names[:3]
    ('nose', 'left_eye', 'right_eye')
    """
    return get_registry().skeleton(name)


def get_stage(name: str) -> Callable[..., Any]:
    """The class of a registered stage by name.

    Examples
    --------
    >>> remap = get_stage("remap")(to="mpi_inf_3dhp_28")
    """
    return get_registry().entry("stage", name).cls
