"""What a registered class must look like, checked when a plugin registers it.

Every reader, writer, stage, estimator and window strategy is an attrs class (its
fields are the parameters a pipeline checks before any work) with the methods of its
kind (:mod:`posekit.plugins.protocols`). :func:`contract_problem` says what a class lacks, so
the registry can refuse it with a message naming the plugin, instead of the class
registering and breaking a pipeline later.
"""

from __future__ import annotations

import inspect

import attrs

#: For each kind: the methods a class must define, and its class attributes with the
#: type each must have.
METHODS: dict[str, tuple[str, ...]] = {
    "reader": ("sniff", "read"),
    "writer": ("write",),
    "stage": ("__call__",),
    "estimator": ("estimate",),
    "windowing": ("starts", "merge"),
}
SUFFIX_ATTRIBUTES: dict[str, str] = {
    "reader": "suffixes",
    "writer": "suffix",
    "estimator": "suffixes",
}


def contract_problem(kind: str, cls: object) -> str | None:
    """What keeps ``cls`` from being a ``kind`` (``"reader"``, ``"stage"``, ...), or None.

    Examples
    --------
    >>> @attrs.frozen
    ... class Shift:
    ...     dx: float = 0.0
    ...     def __call__(self, sequence):
    ...         return sequence
    >>> contract_problem("stage", Shift) is None
    True
    >>> class Plain:
    ...     def __call__(self, sequence):
    ...         return sequence
    >>> contract_problem("stage", Plain)
    'Plain is not an attrs class: decorate it with @attrs.frozen (its fields are the parameters pipelines check)'
    >>> contract_problem("writer", Shift)
    'Shift has no method write (a writer needs: write)'
    """
    if kind not in METHODS:
        raise ValueError(f"unknown kind {kind!r} (known: {', '.join(METHODS)})")
    if not inspect.isclass(cls):
        return f"{cls!r} is not a class (register the class, not an instance or a function)"
    name = cls.__name__
    if not attrs.has(cls):
        return (
            f"{name} is not an attrs class: decorate it with @attrs.frozen (its fields are "
            "the parameters pipelines check)"
        )
    for method in METHODS[kind]:
        if not _defines(cls, method):
            return f"{name} has no method {method} (a {kind} needs: {', '.join(METHODS[kind])})"
    attribute = SUFFIX_ATTRIBUTES.get(kind)
    if attribute is not None:
        return _suffix_problem(name, attribute, getattr(cls, attribute, None))
    return None


def _defines(cls: type, method: str) -> bool:
    """Whether ``cls`` or a base class other than ``object`` defines ``method``."""
    return any(
        callable(vars(base).get(method)) or isinstance(vars(base).get(method), classmethod)
        for base in cls.__mro__[:-1]
    )


def _suffix_problem(name: str, attribute: str, value: object) -> str | None:
    """``suffix`` must be one suffix, ``suffixes`` a tuple of them (``".json"``; ``""``
    for a folder)."""
    values = (value,) if attribute == "suffix" else value
    expected = "a string" if attribute == "suffix" else "a tuple of strings"
    expected += " such as '.json' ('' for a folder)"
    if not isinstance(values, tuple) or not all(
        isinstance(v, str) and (v == "" or v.startswith(".")) for v in values
    ):
        return f"{name}.{attribute} must be {expected}, got {value!r}"
    return None
