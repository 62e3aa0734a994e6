"""``--set key=value`` overrides of a pipeline file's values.

Keys address one value: ``input.path``, ``output.writer``, ``input.fps`` (any key of
``input`` or ``output``), or ``steps[N].NAME.PARAMETER`` for a step's parameter, with
steps numbered from 1 as in error messages and ``NAME`` the step's stage name (checked,
so a renumbered pipeline cannot silently change the wrong step).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from posekit.core.errors import PipelineError
from posekit.pipeline import safe_yaml

_STEP_KEY = re.compile(r"^steps\[(\d+)\]\.([^.]+)\.([^.]+)$")
_SECTION_KEY = re.compile(r"^(input|output)\.([^.]+)$")


def parse_assignment(text: str) -> tuple[str, Any]:
    """Split ``key=value``; the value is read as YAML (``0.5``, ``true``, ``[a, b]``;
    with the bounds of :mod:`posekit.pipeline.safe_yaml`), or kept as the plain string when it
    is not valid YAML or exceeds a bound.

    Examples
    --------
    >>> parse_assignment("steps[1].confidence_filter.threshold=0.5")
    ('steps[1].confidence_filter.threshold', 0.5)
    >>> parse_assignment("output.path={stem}.nc")
    ('output.path', '{stem}.nc')
    """
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"expected key=value, got {text!r}")
    try:
        value = safe_yaml.load(raw)
    except yaml.YAMLError:
        value = raw
    return key.strip(), raw if isinstance(value, dict) else value


def apply_overrides(
    data: Mapping[str, Any], overrides: Mapping[str, Any], source: str | Path
) -> tuple[dict[str, Any], list[PipelineError]]:
    """A copy of a parsed pipeline file with the overrides set.

    Parameters
    ----------
    data
        The pipeline as read from YAML.
    overrides
        Values by key (see the module docstring).
    source
        The pipeline file, for error messages.

    Returns
    -------
    data : dict
        The new pipeline data.
    errors : list of PipelineError
        One per override whose key does not address a value of this pipeline.

    Examples
    --------
    >>> data = {"input": {"path": "a.nc"}, "steps": [{"remap": {"to": "coco_17"}}]}
    >>> new, errors = apply_overrides(data, {"steps[1].remap.to": "h36m_17"}, "p.yaml")
    >>> new["steps"], errors
    ([{'remap': {'to': 'h36m_17'}}], [])
    """
    new = copy.deepcopy(dict(data))
    errors: list[PipelineError] = []
    for key, value in overrides.items():
        problem = _set(new, key, value)
        if problem is not None:
            errors.append(PipelineError(source, f"cannot apply --set: {problem}", key=key))
    return new, errors


def _set(data: dict[str, Any], key: str, value: Any) -> str | None:
    """Set one value; return why not if the key does not fit."""
    section = _SECTION_KEY.match(key)
    if section:
        name, field = section.groups()
        table = data.get(name)
        if table is None:
            table = data[name] = {}
        if not isinstance(table, dict):
            return f"{name!r} is not a mapping"
        table[field] = value
        return None
    step = _STEP_KEY.match(key)
    if not step:
        return "expected input.KEY, output.KEY or steps[N].NAME.PARAMETER"
    number, name, parameter = int(step.group(1)), step.group(2), step.group(3)
    steps = data.get("steps")
    if not isinstance(steps, list) or not 1 <= number <= len(steps):
        count = len(steps) if isinstance(steps, list) else 0
        return f"no step {number}: the pipeline has {count} steps, numbered from 1"
    current = steps[number - 1]
    if isinstance(current, str):
        current = {current: {}}
    if not isinstance(current, dict) or len(current) != 1:
        return f"step {number} is not a one-key mapping"
    [(actual, parameters)] = current.items()
    if actual != name:
        return f"step {number} is {actual!r}, not {name!r}"
    parameters = dict(parameters or {})
    parameters[parameter] = value
    steps[number - 1] = {name: parameters}
    return None
