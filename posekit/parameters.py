"""Check parameters from a pipeline file against a plugin class, then build it.

Readers, writers and stages are attrs classes whose fields are their parameters.
:func:`build` checks every given value against the field's type annotation before
calling the class, so a pipeline reports a mistyped parameter by name before any work
starts. Supported annotations: ``int``, ``float`` (an int is accepted), ``bool``,
``str``, ``pathlib.Path`` (a string, resolved against a base folder), ``X | None``,
``list[X]``, ``tuple[X, ...]``, ``Literal[...]`` and ``Any``; any other class is checked
with ``isinstance``.
"""

from __future__ import annotations

import difflib
import math
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import attrs

from posekit.errors import PosekitError, brief


@attrs.frozen
class Problem:
    """One thing wrong with the parameters: the key (None for the whole) and why."""

    key: str | None
    message: str


class _Mismatch(Exception):
    """A value does not fit an annotation (internal to the checker)."""


def describe(annotation: Any) -> str:
    """A short human name for a type annotation.

    Examples
    --------
    >>> describe(int | None), describe(list[str]), describe(Literal["frame", "window"])
    ('int | None', 'list[str]', "one of 'frame', 'window'")
    >>> describe(dict[str, float])
    'dict[str, float]'
    """
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(describe(arg) for arg in args)
    if origin is Literal:
        return "one of " + ", ".join(repr(arg) for arg in args)
    if origin is dict:
        return f"dict[{describe(args[0])}, {describe(args[1])}]" if args else "dict"
    if origin in (list, tuple):
        inner = describe(args[0]) if args else "Any"
        return f"{origin.__name__}[{inner}{', ...' if origin is tuple else ''}]"
    if annotation is type(None):
        return "None"
    if annotation is Path:
        return "path"
    return getattr(annotation, "__name__", str(annotation))


def convert(value: Any, annotation: Any, base: Path | None = None) -> Any:
    """Check a value against an annotation and return it in the field's form.

    An int becomes a float for ``float``, a string becomes an absolute path for
    ``Path`` (relative to ``base``), a list becomes a tuple for ``tuple[X, ...]``.

    Raises
    ------
    TypeError
        Naming the expected type and the value given.

    Examples
    --------
    >>> convert(3, float), convert(None, int | None), convert(["a"], list[str])
    (3.0, None, ['a'])
    >>> convert({"neck": 1}, dict[str, float])
    {'neck': 1.0}
    >>> convert("3", int)
    Traceback (most recent call last):
    ...
    TypeError: expected int, got '3' (str)
    """
    try:
        return _convert(value, annotation, base)
    except _Mismatch:
        raise TypeError(
            f"expected {describe(annotation)}, got {brief(value)} ({type(value).__name__})"
        ) from None


def _convert(value: Any, annotation: Any, base: Path | None) -> Any:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is Any:
        return value
    if annotation is type(None) or annotation is None:
        if value is None:
            return None
        raise _Mismatch
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            try:
                return _convert(value, arg, base)
            except _Mismatch:
                continue
        raise _Mismatch
    if origin is Literal:
        # `type(...) is` so that True does not pass for 1, nor 1 for 1.0.
        if any(value == arg and type(value) is type(arg) for arg in args):
            return value
        raise _Mismatch
    if origin in (list, tuple):
        if not isinstance(value, list | tuple):
            raise _Mismatch
        inner = args[0] if args else Any
        items = [_convert(item, inner, base) for item in value]
        return items if origin is list else tuple(items)
    if origin is dict:
        if not isinstance(value, Mapping):
            raise _Mismatch
        key_type, value_type = args if args else (Any, Any)
        return {
            _convert(key, key_type, base): _convert(item, value_type, base)
            for key, item in value.items()
        }
    if annotation is bool:
        if isinstance(value, bool):
            return value
        raise _Mismatch
    if annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise _Mismatch
    if annotation is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value) if abs(value) < 1e308 else float("inf")
            if not math.isfinite(number):
                raise TypeError(f"expected a finite number, got {brief(value)}")
            return number
        raise _Mismatch
    if annotation is Path:
        if isinstance(value, str | Path) and str(value) and "\0" not in str(value):
            expanded = os.path.expanduser(str(value))
            if expanded.startswith("~"):
                raise TypeError(f"unknown user in the path {brief(str(value))}")
            path = Path(expanded)
            return path if base is None or path.is_absolute() else (base / path).resolve()
        raise _Mismatch
    if isinstance(annotation, type):
        if isinstance(value, annotation):
            return value
        raise _Mismatch
    return value


def parameter_fields(cls: type) -> dict[str, attrs.Attribute]:
    """The init parameters of an attrs class by name, with resolved type annotations.

    Examples
    --------
    >>> from posekit.stages.basic import ConfidenceFilter
    >>> parameter_fields(ConfidenceFilter)["threshold"].type
    <class 'float'>
    """
    attrs.resolve_types(cls)
    return {field.alias: field for field in attrs.fields(cls) if field.init}


def build(
    cls: type, parameters: Mapping[str, Any], base: Path | None = None
) -> tuple[Any, list[Problem]]:
    """Check parameters against an attrs class, then construct it.

    Every problem is collected: unknown names (with the closest known name), missing
    required parameters, wrongly typed values, and errors of the class's own
    validators.

    Parameters
    ----------
    cls
        An attrs class (a reader, writer or stage).
    parameters
        Parameter values by name, as read from a pipeline file.
    base
        Folder against which relative ``Path`` parameters resolve.

    Returns
    -------
    instance : object or None
        The constructed object, or None if there is any problem.
    problems : list of Problem
        What is wrong, by key.

    Examples
    --------
    >>> from posekit.stages.basic import ConfidenceFilter
    >>> build(ConfidenceFilter, {"treshold": 0.2})[1]
    [Problem(key='treshold', message="unknown parameter; did you mean 'threshold'? (known: threshold)")]
    >>> build(ConfidenceFilter, {"threshold": 2.0})[1][0].message
    'threshold must lie in [0, 1], got 2.0'
    """
    fields = parameter_fields(cls)
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for key, value in parameters.items():
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            known = ", ".join(fields) or "none"
            problems.append(Problem(key, f"unknown parameter{hint} (known: {known})"))
            continue
        try:
            values[key] = convert(value, fields[key].type, base)
        except TypeError as err:
            problems.append(Problem(key, str(err)))
    for name, field in fields.items():
        if field.default is attrs.NOTHING and name not in parameters:
            problems.append(Problem(name, f"missing required parameter ({describe(field.type)})"))
    if problems:
        return None, problems
    try:
        return cls(**values), []
    except KeyError as err:  # e.g. an UnknownNameError: a name that is not registered
        return None, [Problem(_key_of(err, values), str(err.args[0] if err.args else err))]
    except (TypeError, ValueError, OverflowError, PosekitError) as err:
        return None, [Problem(_key_of(err, values), str(err))]


def _key_of(error: Exception, values: Mapping[str, Any]) -> str | None:
    """The parameter a validator complained about: attrs' validators pass the field;
    otherwise the one parameter whose name the message starts with, or whose (string)
    value it quotes."""
    for arg in error.args:
        if isinstance(arg, attrs.Attribute):
            return arg.alias
    message = str(error)
    named = [key for key in values if message.startswith((key, f"'{key}'"))]
    if not named:  # "unknown windowing 'nope'": the one parameter whose value it quotes
        named = [k for k, v in values.items() if isinstance(v, str) and repr(v) in message]
    return named[0] if len(named) == 1 else None
