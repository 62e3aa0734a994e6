"""docs/formats.md: its YAML snippets are valid pipelines for the readers and writers
they name, and its tables name every registered reader and writer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from posekit.io.choose import choose_writer
from posekit.plugins.parameters import build
from posekit.plugins.registry import build_registry

PAGE = Path(__file__).resolve().parents[1] / "docs" / "formats.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
SNIPPETS = [code for lang, code in FENCE.findall(PAGE.read_text()) if lang == "yaml"]


@pytest.mark.parametrize("snippet", SNIPPETS)
def test_yaml_snippets_build(snippet: str) -> None:
    registry = build_registry(entry_points=False)
    data = yaml.safe_load(snippet)
    source = dict(data["input"])
    reader = registry.entry("reader", source.pop("reader"))
    source.pop("path")
    _, problems = build(reader.cls, source, PAGE.parent)
    assert not problems, problems
    target = dict(data["output"])
    path = target.pop("path")
    writer = registry.entry("writer", target.pop("writer")) if "writer" in target else (
        choose_writer(path, registry)
    )
    _, problems = build(writer.cls, target, PAGE.parent)
    assert not problems, problems
    for step in data.get("steps", []):
        (name,) = step
        assert name in registry.stages


def test_every_reader_and_writer_is_in_the_tables() -> None:
    text = PAGE.read_text()
    registry = build_registry(entry_points=False)
    for name in [*registry.readers, *registry.writers]:
        assert f"| `{name}`," in text, name
