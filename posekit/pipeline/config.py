"""The pipeline file: its schema, parsing it into stage objects, and its output path
template.

A pipeline file (YAML, read with :func:`posekit.pipeline.safe_yaml.load`: ``yaml.safe_load``
with bounded nesting and alias expansion, and no duplicate keys)::

    input:  {reader: netcdf, path: data/*.nc, fps: 30}
    steps:
      - remap: {to: mpi_inf_3dhp_28}
      - confidence_filter: {threshold: 0.3}
    output: {writer: netcdf, path: "out/{stem}.nc"}

- ``input.path`` is a glob pattern; ``reader`` is optional (chosen by the file's suffix,
  then by the readers' content check); every other key of ``input`` is a parameter of
  the reader. ``estimator: NAME`` instead of ``reader`` runs a pose estimator on videos
  (or folders of images): ``input: {estimator: mediapipe, path: clips/*.mp4}``.
- a step is a one-key mapping ``name: {parameters}``, or a bare name;
- ``output.path`` may hold ``{stem}`` (the input file's name without suffix) and
  ``{individual}`` (one file per individual), each a single path component (a ``/`` in
  an individual's name becomes ``_``, a name of dots is spelt with ``_``); ``writer`` is
  optional (chosen by the suffix); every other key of ``output`` is a parameter of the
  writer.

Checking the files a run reads and writes is :mod:`posekit.pipeline.plan`; running is
:mod:`posekit.pipeline.run`.
"""

from __future__ import annotations

import difflib
import glob
import os
import string
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, overload

import attrs
import yaml

from posekit.core.errors import InvalidPipelineError, PipelineError, brief
from posekit.core.sequence import PoseSequence
from posekit.io._values import is_fps
from posekit.pipeline import safe_yaml
from posekit.pipeline.overrides import apply_overrides
from posekit.plugins.parameters import build
from posekit.plugins.registry import Registry, UnknownNameError

StageLike = Callable[[PoseSequence], PoseSequence]
"""A stage object, or any callable from PoseSequence to PoseSequence."""

SECTIONS = ("input", "steps", "output")
PLACEHOLDERS = ("stem", "individual")


@attrs.frozen
class Input:
    """Where a pipeline reads.

    Parameters
    ----------
    path
        A glob pattern (``data/*.nc``); relative to the working folder.
    reader
        A registered reader name; None chooses one per file.
    parameters
        The reader's (or the estimator's) parameters.
    estimator
        A registered estimator name, instead of a reader: the inputs are videos or
        folders of images.

    Examples
    --------
    >>> Input("data/*.nc", parameters={"fps": 30})
    Input(path='data/*.nc', reader=None, parameters={'fps': 30}, estimator=None)
    """

    path: str
    reader: str | None = None
    parameters: Mapping[str, Any] = attrs.field(factory=dict)
    estimator: str | None = None


@attrs.frozen
class Output:
    """Where a pipeline writes.

    Parameters
    ----------
    path
        The output path; ``{stem}`` is the input file's stem, ``{individual}`` writes
        one file per individual.
    writer
        A registered writer name; None chooses it by the path's suffix.
    parameters
        The writer's parameters.

    Examples
    --------
    >>> Output("out/{stem}.nc").writer is None
    True
    """

    path: str
    writer: str | None = None
    parameters: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class ParsedPipeline:
    """A pipeline file's sections as objects: the built stages with their labels, and
    where to read and write (None when the file has no such section).

    Examples
    --------
    >>> from posekit.plugins.registry import get_registry
    >>> errors = []
    >>> parsed = parse_pipeline({"steps": [{"remap": {"to": "coco_17"}}]}, "<python>",
    ...                         Path.cwd(), get_registry(), errors)
    >>> parsed.labels, parsed.input, errors
    (('steps[1] (remap)',), None, [])
    """

    steps: tuple[StageLike, ...]
    labels: tuple[str, ...]
    input: Input | None
    output: Output | None


def read_pipeline_file(path: Path) -> Any:
    """The parsed YAML of a pipeline file (:func:`posekit.pipeline.safe_yaml.load`).

    Raises
    ------
    InvalidPipelineError
        If the file cannot be read, is not UTF-8 or not valid YAML.
    """
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise InvalidPipelineError([PipelineError(path, f"cannot read: {err.strerror}")]) from None
    try:
        return safe_yaml.load(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise InvalidPipelineError(
            [PipelineError(path, f"not UTF-8 text: byte {raw[err.start]:#04x} on line {line}")]
        ) from None
    except yaml.YAMLError as err:
        raise InvalidPipelineError([PipelineError(path, f"not valid YAML: {err}")]) from None


def parse_pipeline(
    data: Any,
    source: str,
    base: Path,
    registry: Registry,
    errors: list[PipelineError],
    overrides: Mapping[str, Any] | None = None,
) -> ParsedPipeline:
    """Stages, input and output from a pipeline's parsed YAML; every problem goes to
    ``errors`` (naming ``source``, the step and the key).

    Raises
    ------
    InvalidPipelineError
        If ``data`` is not a mapping (nothing else can be checked).
    """
    if not isinstance(data, dict):
        raise InvalidPipelineError(
            [PipelineError(source, "expected a mapping with keys input, steps, output")]
        )
    if overrides:
        data, override_errors = apply_overrides(data, overrides, source)
        errors += override_errors
    for key in data:
        if key not in SECTIONS:
            errors.append(PipelineError(source, unknown_key(key, SECTIONS), key=key))
    steps, labels = parse_steps(data.get("steps", []), source, base, registry, errors)
    return ParsedPipeline(
        tuple(steps),
        tuple(labels),
        parse_section(data, "input", source, errors),
        parse_section(data, "output", source, errors),
    )


def unknown_key(key: Any, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(str(key), known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown key{hint} (known: {', '.join(known)})"


def parse_steps(
    items: Any, source: str, base: Path, registry: Registry, errors: list[PipelineError]
) -> tuple[list[StageLike], list[str]]:
    """Stage objects and labels from the ``steps`` list; problems go to ``errors``."""
    if not isinstance(items, list):
        errors.append(PipelineError(source, "expected a list of steps", key="steps"))
        return [], []
    steps: list[StageLike] = []
    labels: list[str] = []
    for number, item in enumerate(items, 1):
        if isinstance(item, str):
            item = {item: None}
        if not (isinstance(item, dict) and len(item) == 1):
            errors.append(
                PipelineError(
                    source,
                    f"expected 'name: {{parameters}}' or a bare name, got {brief(item)}",
                    step=f"steps[{number}]",
                )
            )
            continue
        [(name, parameters)] = item.items()
        shown = name if isinstance(name, str) and len(name) <= 60 else brief(name)
        label = f"steps[{number}] ({shown})"
        if parameters is None:
            parameters = {}
        if not isinstance(parameters, dict):
            errors.append(
                PipelineError(
                    source, f"expected a mapping of parameters, got {brief(parameters)}", step=label
                )
            )
            continue
        try:
            entry = registry.entry("stage", str(name))
        except UnknownNameError as err:
            errors.append(PipelineError(source, str(err), step=label, key=shown))
            continue
        stage, problems = build(entry.cls, parameters, base)
        for problem in problems:
            errors.append(PipelineError(source, problem.message, step=label, key=problem.key))
        if stage is not None:
            steps.append(stage)
            labels.append(label)
    return steps, labels


@overload
def parse_section(
    data: dict[str, Any], name: Literal["input"], source: str, errors: list[PipelineError]
) -> Input | None: ...
@overload
def parse_section(
    data: dict[str, Any], name: Literal["output"], source: str, errors: list[PipelineError]
) -> Output | None: ...
def parse_section(
    data: dict[str, Any], name: str, source: str, errors: list[PipelineError]
) -> Input | Output | None:
    """``Input`` or ``Output`` from its mapping; None if absent or (with problems in
    ``errors``) malformed."""
    section = data.get(name)
    kind = "reader" if name == "input" else "writer"
    if section is None:
        return None
    if not isinstance(section, dict):
        errors.append(PipelineError(source, f"expected a mapping, got {brief(section)}", step=name))
        return None
    plugin_keys = ("reader", "estimator") if name == "input" else ("writer",)
    parameters = {k: v for k, v in section.items() if k not in ("path", *plugin_keys)}
    path, plugin = section.get("path"), section.get(kind)
    estimator = section.get("estimator") if name == "input" else None
    ok = True
    if estimator is not None and not isinstance(estimator, str):
        errors.append(
            PipelineError(source, "expected an estimator name", step=name, key="estimator")
        )
        ok = False
    if estimator is not None and plugin is not None:
        errors.append(PipelineError(
            source, "give a reader (pose files) or an estimator (videos), not both",
            step=name, key="estimator",
        ))  # fmt: skip
        ok = False
    if not isinstance(path, str) or not path:
        errors.append(PipelineError(source, "expected a path (a string)", step=name, key="path"))
        ok = False
    if plugin is not None and not isinstance(plugin, str):
        errors.append(PipelineError(source, f"expected a {kind} name", step=name, key=kind))
        ok = False
    fps = parameters.get("fps")
    if name == "input" and fps is not None and not is_fps(fps):
        errors.append(
            PipelineError(
                source, f"expected a positive finite number, got {brief(fps)}", step=name, key="fps"
            )
        )
        ok = False
    if not ok:
        return None
    assert isinstance(path, str)  # checked above
    if name == "input":
        return Input(path, plugin, parameters, estimator)
    return Output(path, plugin, parameters)


# -- the output path template -------------------------------------------------------
def output_template(base: Path, path: str) -> str:
    """The output path template, absolute (braces in the folder doubled, so they are
    literal).

    Examples
    --------
    >>> output_template(Path("/data/{x}"), "out/{stem}.nc")
    '/data/{{x}}/out/{stem}.nc'
    """
    folder = str(base).replace("{", "{{").replace("}", "}}")
    return os.path.join(folder, os.path.expanduser(path))


def component(value: str) -> str:
    """A template value as one path component: no separators, not ``.``, ``..`` or ``""``.

    Examples
    --------
    >>> component("../../ESCAPE"), component(".."), component("clip 1")
    ('.._.._ESCAPE', '__', 'clip 1')
    """
    value = value.replace("/", "_").replace("\\", "_").replace("\0", "_")
    return value.replace(".", "_") if value.strip(".") == "" else value


def output_path(template: str, input_path: Path, individual: str | None) -> Path:
    """The output path for one input (and individual)."""
    return Path(
        template.format(
            stem=component(input_path.stem),
            individual=None if individual is None else component(individual),
        )
    )


def output_pattern(template: str, input_path: Path) -> str:
    """A glob pattern of the output paths of one input: ``{individual}`` becomes ``*``,
    everything else is literal."""
    return glob.escape(template).format(
        stem=glob.escape(component(input_path.stem)), individual="*"
    )


def template_problem(template: str) -> str | None:
    """Why an output path template is malformed, or None.

    Examples
    --------
    >>> template_problem("out/{stem}-{individual}.nc") is None
    True
    >>> template_problem("out/{stem")
    "the output path 'out/{stem' is not a template: expected '}' before end of string"
    >>> template_problem("{stem:>5000}")
    'placeholders take no format spec or conversion: {stem:>5000}; use {stem} and {individual}'
    """
    if os.path.expanduser(template).startswith("~"):
        return f"unknown user in {brief(template)}"
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError as err:
        return f"the output path {brief(template)} is not a template: {err}"
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            return f"unknown placeholder {{{brief(name)[1:-1]}}}; use {{stem}} and {{individual}}"
        if spec or conversion:
            marks = (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            shown = "{" + name + marks + "}"
            return (
                f"placeholders take no format spec or conversion: {brief(shown)[1:-1]}; "
                "use {stem} and {individual}"
            )
    return None
