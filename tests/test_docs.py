"""The docs and README: code examples run, the reference page matches the registry,
the quick-start example works, and CI runs the README's test command."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from posekit.core.sequence import PoseSequence
from posekit.plugins.registry import build_registry

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").rglob("*.md"))
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def blocks(path: Path, language: str) -> list[str]:
    return [code for lang, code in FENCE.findall(path.read_text()) if lang == language]


def test_reference_page_matches_the_registry():
    reference = load(ROOT / "docs" / "make_reference.py", "make_reference")
    expected = reference.render(build_registry(entry_points=False))
    assert reference.PAGE.read_text() == expected, "run: python docs/make_reference.py"
    registry = build_registry(entry_points=False)
    for name in [*registry.readers, *registry.stages]:
        assert f"### `{name}`" in expected


def test_parameter_docs_are_parsed():
    reference = load(ROOT / "docs" / "make_reference.py", "make_reference")
    from posekit.stages.basic import Select

    docs = reference.parameter_docs(Select)
    assert docs["individuals"] == "Individual ids to keep; default all."
    assert (
        docs["start"]
        == docs["stop"]
        == "Frame range ``[start, stop)``; default the whole sequence."
    )


@pytest.mark.parametrize(
    "page", [ROOT / "README.md", *PAGES], ids=lambda p: str(p.relative_to(ROOT))
)
def test_python_examples_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": f"docs_{page.stem}"}
    for number, code in enumerate(blocks(page, "python"), 1):
        exec(compile(code, f"{page.name} block {number}", "exec"), namespace)  # noqa: S102


def test_every_page_is_in_the_nav():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())

    def pages(nav):
        for item in nav:
            for value in item.values():
                yield from pages(value) if isinstance(value, list) else [value]

    listed = set(pages(config["nav"]))
    assert listed == {str(p.relative_to(ROOT / "docs")) for p in PAGES}


def test_readme_commands_and_ci():
    readme = (ROOT / "README.md").read_text()
    commands = [code.strip() for code in blocks(ROOT / "README.md", "bash")[:2]]
    assert commands[0].startswith("python -m pip install torch==2.13.0 -e . && posekit run ")
    assert "pytest" in commands[1] and "mkdocs build --strict" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "set -euo pipefail" in ci and ci.strip().splitlines()[-1] == commands[1]
    assert "The data used in this project was obtained from mocap.cs.cmu.edu." in readme
    assert "NSF EIA-0196217" in readme


def test_quickstart_example_is_reproducible_and_runs(tmp_path):
    make = load(ROOT / "examples" / "make_quickstart.py", "make_quickstart")
    shipped = ROOT / "examples" / "quickstart"
    remade = PoseSequence.read_netcdf(make.make(tmp_path))
    assert remade.dataset.equals(PoseSequence.read_netcdf(shipped / "walk.nc").dataset)

    folder = tmp_path / "quickstart"
    shutil.copytree(shipped, folder, ignore=shutil.ignore_patterns("out"))
    done = subprocess.run(
        [sys.executable, "-m", "posekit", "run", str(folder / "pipeline.yaml")],
        check=False, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = PoseSequence.read_netcdf(folder / "out" / "walk.nc")
    assert out.skeleton == "mpi_inf_3dhp_28" and out.individuals == ["walker_1", "walker_2"]


@pytest.mark.parametrize(
    "module",
    [
        "posekit",
        "posekit.core.catalogue",
        "posekit.evaluation.plots",
        "posekit.io.api",
        "posekit.jumps.settings",
        "posekit.jumps.upsample",
        "posekit.pipeline.batch",
        "posekit.cli.main",
        "posekit.plugins.contracts",
        "posekit.io.choose",
        "posekit.pipeline.overrides",
        "posekit.plugins.parameters",
        "posekit.pipeline.config",
        "posekit.pipeline.report",
        "posekit.pipeline.run",
        "posekit.plugins.registry",
        "posekit.stages.align",
        "posekit.stages.jumps",
        "posekit.stages.provenance",
    ],
)
def test_docstring_examples_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
