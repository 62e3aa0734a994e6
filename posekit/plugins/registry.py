"""The plugin registry: skeletons, readers, writers, stages and estimators by name.

posekit's own plugins (:data:`BUILTIN_PLUGINS`) are registered first, through the same
hooks as third parties, then the modules of the entry-point group ``posekit``.
Skeleton folders also come from the data-only entry-point group ``posekit.skeletons``:
its value names a package whose ``*.toml`` files are read, never executed. A plugin that
fails to load is recorded in :attr:`Registry.failures` and reported with its name and
the error; everything else keeps working.

Each class is checked when it registers (:func:`posekit.plugins.contracts.contract_problem`):
one that does not fit its kind is refused with :class:`PluginContractError`, naming the
plugin, its entry point and what is wrong, and the plugin is recorded as failed. A name
that is already registered is refused too, unless the plugin passes ``replace=True``;
a replacement is logged (logger ``posekit.plugins.registry``).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import importlib
import importlib.metadata
import importlib.resources
import logging
import warnings
from collections.abc import Callable, Iterator
from importlib.resources.abc import Traversable
from typing import Any

import attrs
import pluggy

from posekit.core.errors import PosekitError, UnknownNameError, unknown_name_message
from posekit.core.skeleton import Skeleton, load_skeleton
from posekit.plugins import hookspecs
from posekit.plugins.contracts import contract_problem

#: posekit's own plugin modules, registered before any third-party plugin.
BUILTIN_PLUGINS: tuple[str, ...] = (
    "posekit.plugins.builtin_skeletons",
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
    "posekit.jumps.windowing",
    "posekit.stages.evaluate",
    "posekit.stages.render",
    "posekit.baselines",
)

ENTRY_POINT_GROUP = "posekit"
SKELETON_ENTRY_POINT_GROUP = "posekit.skeletons"
_HOOKS = ("skeletons", "readers", "writers", "stages", "estimators", "windowings")
#: Built-in plugins' origin (third parties': their distribution and version).
BUILTIN_ORIGIN = "posekit"

logger = logging.getLogger(__name__)


class PluginContractError(PosekitError):
    """A plugin registered a class that does not fit its kind, or an existing name
    without ``replace=True``.

    Parameters
    ----------
    plugin
        The plugin: ``plugin NAME VERSION (entry point ...)``.
    reason
        What was refused and why.
    """

    def __init__(self, plugin: str, reason: str) -> None:
        super().__init__(plugin, reason)
        self.plugin, self.reason = plugin, reason

    def __str__(self) -> str:
        return f"{self.plugin}: {self.reason}"


@attrs.frozen
class Entry:
    """A registered reader, writer, stage or estimator: its class and where it came from."""

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
    """A plugin that could not be loaded (or a class it registered that was refused)."""

    name: str
    error: str
    entry_point: str = ""

    def __str__(self) -> str:
        where = f" (entry point {self.entry_point})" if self.entry_point else ""
        return f"{self.name}{where}: {self.error}"


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
    estimators: dict[str, Entry] = attrs.field(factory=dict)
    windowings: dict[str, Entry] = attrs.field(factory=dict)
    skeleton_files: dict[str, tuple[Traversable, str]] = attrs.field(factory=dict)
    failures: list[PluginFailure] = attrs.field(factory=list)
    #: The plugin registering now: its distribution (``posekit`` for built-ins) and its
    #: entry point (``group: name = module``; the module for built-ins).
    origin: str = BUILTIN_ORIGIN
    entry_point: str = ""
    _skeletons: dict[str, Skeleton] = attrs.field(factory=dict, repr=False)

    def add_skeleton_folder(self, folder: Traversable) -> None:
        """Register every ``*.toml`` skeleton file of a folder under its file stem.

        A name that is already registered keeps its first file; the clash is recorded
        in :attr:`failures` with a warning (skeleton folders are data, so there is no
        ``replace`` flag).
        """
        for item in sorted(folder.iterdir(), key=lambda t: t.name):
            if item.name.endswith(".toml"):
                name = item.name[: -len(".toml")]
                if name in self.skeleton_files:
                    taken = self.skeleton_files[name][1]
                    refused = f"skeleton {name!r} refused: already registered by {taken}"
                    _record_failure(
                        self,
                        self.origin,
                        PluginContractError(self.origin, refused),
                        self.entry_point,
                    )
                    continue
                self.skeleton_files[name] = (item, self.origin)

    def add_reader(self, name: str, cls: type, *, replace: bool = False) -> None:
        """Register a reader class (see :class:`posekit.plugins.protocols.Reader`).

        Raises
        ------
        PluginContractError
            If ``cls`` is not a reader, or ``name`` is taken and ``replace`` is False.
        """
        self._add("reader", name, cls, replace)

    def add_writer(self, name: str, cls: type, *, replace: bool = False) -> None:
        """Register a writer class (see :class:`posekit.plugins.protocols.Writer`); raises as
        :meth:`add_reader`."""
        self._add("writer", name, cls, replace)

    def add_stage(self, name: str, cls: type, *, replace: bool = False) -> None:
        """Register a stage class (see :class:`posekit.plugins.protocols.Stage`); raises as
        :meth:`add_reader`.

        Examples
        --------
        >>> registry = build_registry(entry_points=False)
        >>> class Plain:
        ...     def __call__(self, sequence):
        ...         return sequence
        >>> registry.add_stage("plain", Plain)
        Traceback (most recent call last):
        ...
        posekit.plugins.registry.PluginContractError: plugin posekit: stage 'plain' refused: Plain is not an attrs class: decorate it with @attrs.frozen (its fields are the parameters pipelines check)
        """
        self._add("stage", name, cls, replace)

    def add_estimator(self, name: str, cls: type, *, replace: bool = False) -> None:
        """Register an estimator class (see :class:`posekit.plugins.protocols.Estimator`);
        raises as :meth:`add_reader`."""
        self._add("estimator", name, cls, replace)

    def add_windowing(self, name: str, cls: type, *, replace: bool = False) -> None:
        """Register a window strategy (see :class:`posekit.jumps.windowing.WindowStrategy`);
        raises as :meth:`add_reader`."""
        self._add("windowing", name, cls, replace)

    def _add(self, kind: str, name: str, cls: type, replace: bool) -> None:
        """Check ``cls`` against the contract of ``kind`` and register it."""
        table: dict[str, Entry] = getattr(self, f"{kind}s")
        plugin = f"plugin {self.origin}" + (
            f" (entry point {self.entry_point})" if self.origin != BUILTIN_ORIGIN else ""
        )
        if not isinstance(name, str) or not name:
            raise PluginContractError(
                plugin, f"a {kind} name must be a non-empty string, got {name!r}"
            )
        problem = contract_problem(kind, cls)
        if problem is not None:
            raise PluginContractError(plugin, f"{kind} {name!r} refused: {problem}")
        if name in table:
            taken = table[name].origin
            if not replace:
                raise PluginContractError(
                    plugin,
                    f"{kind} {name!r} refused: the name is already registered by {taken}; "
                    f"pass replace=True to add_{kind} to replace it",
                )
            logger.warning("%s replaces the %s %r registered by %s", plugin, kind, name, taken)
        table[name] = Entry(name, kind, cls, self.origin)

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
                raise UnknownNameError(unknown_name_message("skeleton", name, self.skeleton_files))
            traversable, _ = self.skeleton_files[name]
            with importlib.resources.as_file(traversable) as path:
                self._skeletons[name] = load_skeleton(path)
        return self._skeletons[name]

    def stage_name(self, stage: object) -> str:
        """The name a stage object's class is registered under, else its class name
        (or a function's name).

        Examples
        --------
        >>> from posekit.stages.basic import Select
        >>> get_registry().stage_name(Select())
        'select'
        """
        for entry in self.stages.values():
            if type(stage) is entry.cls:
                return entry.name
        return getattr(stage, "__name__", type(stage).__name__)

    def entry(self, kind: str, name: str) -> Entry:
        """A registered reader, writer, stage or estimator by kind and name.

        Raises
        ------
        UnknownNameError
            If nothing registered that name; the message lists the known names and
            the plugins that failed to load (one of them may have been meant to
            register it).
        """
        table: dict[str, Entry] = getattr(self, f"{kind}s")
        if name not in table:
            message = unknown_name_message(kind, name, table)
            if self.failures:
                message += "; plugins that failed to load: " + "; ".join(
                    str(failure) for failure in self.failures
                )
            raise UnknownNameError(message)
        return table[name]


def _call_hooks(
    manager: pluggy.PluginManager, registry: Registry, origins: dict[str, tuple[str, str]]
) -> None:
    for hook_name in _HOOKS:
        caller = getattr(manager.hook, f"posekit_register_{hook_name}")
        # get_hookimpls() lists implementations in registration order: built-ins
        # first, so a third-party plugin may replace a built-in (with replace=True).
        for impl in caller.get_hookimpls():
            registry.origin, registry.entry_point = origins[impl.plugin_name]
            try:
                impl.function(registry=registry)
            except Exception as err:  # noqa: BLE001  (a broken plugin must not break posekit)
                _record_failure(registry, registry.origin, err, registry.entry_point)


def _record_failure(
    registry: Registry, name: str, err: BaseException, entry_point: str = ""
) -> None:
    error = err.reason if isinstance(err, PluginContractError) else f"{type(err).__name__}: {err}"
    failure = PluginFailure(name, error, entry_point)
    registry.failures.append(failure)
    warnings.warn(f"posekit plugin {failure} (skipped)", stacklevel=3)


def _origin_of(entry_point: importlib.metadata.EntryPoint) -> str:
    dist = entry_point.dist
    return f"{dist.name} {dist.version}" if dist is not None else entry_point.name


def _describe(entry_point: importlib.metadata.EntryPoint) -> str:
    """``posekit: mediapipe = posekit_mediapipe.hooks``."""
    return f"{entry_point.group}: {entry_point.name} = {entry_point.value}"


def build_registry(*, entry_points: bool = True) -> Registry:
    """Build a fresh registry: built-ins, then entry points (if asked).

    Most code wants the shared :func:`get_registry` instead.
    """
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    registry = Registry()
    origins: dict[str, tuple[str, str]] = {}
    for module_name in BUILTIN_PLUGINS:
        manager.register(importlib.import_module(module_name), name=module_name)
        origins[module_name] = (BUILTIN_ORIGIN, module_name)
    if entry_points:
        for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            origin = _origin_of(entry_point)
            name = f"{origin}:{entry_point.name}"
            try:
                manager.register(entry_point.load(), name=name)
            except Exception as err:  # noqa: BLE001  (any import error of a plugin)
                _record_failure(registry, origin, err, _describe(entry_point))
            else:
                origins[name] = (origin, _describe(entry_point))
    _call_hooks(manager, registry, origins)
    if entry_points:
        for entry_point in importlib.metadata.entry_points(group=SKELETON_ENTRY_POINT_GROUP):
            registry.origin, registry.entry_point = _origin_of(entry_point), _describe(entry_point)
            try:
                registry.add_skeleton_folder(importlib.resources.files(entry_point.value))
            except Exception as err:  # noqa: BLE001  (a missing or broken data package)
                _record_failure(registry, registry.origin, err, registry.entry_point)
    registry.origin, registry.entry_point = BUILTIN_ORIGIN, ""
    return registry


@functools.cache
def _shared_registry() -> Registry:
    return build_registry()


#: The registry a pipeline is being built against (see :func:`registry_in_use`).
_in_use: contextvars.ContextVar[Registry | None] = contextvars.ContextVar(
    "posekit_registry_in_use", default=None
)


def get_registry() -> Registry:
    """The registry names resolve against: the one a pipeline is being built with
    (:func:`registry_in_use`), else the registry shared by the whole process, built on
    first use."""
    registry = _in_use.get()
    return registry if registry is not None else _shared_registry()


@contextlib.contextmanager
def registry_in_use(registry: Registry) -> Iterator[Registry]:
    """Resolve names against ``registry`` inside the ``with`` block: stage constructors
    that check or resolve a name (a skeleton, a window strategy) call
    :func:`get_registry`, so a pipeline built with its own registry never consults the
    shared one.

    Examples
    --------
    >>> mine = build_registry(entry_points=False)
    >>> with registry_in_use(mine):
    ...     get_registry() is mine
    True
    >>> get_registry() is mine
    False
    """
    token = _in_use.set(registry)
    try:
        yield registry
    finally:
        _in_use.reset(token)


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
