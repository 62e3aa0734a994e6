"""The layout's rules, read from the source with ``ast``: the core imports nothing of
the plugin machinery (nor torch, netCDF or any estimator), every package imports only
the packages below it, and module-level imports form no cycle.

Module-level imports are those that run when a module is imported (``if
TYPE_CHECKING:`` blocks are left out: they never run). Imports inside functions are
deferred: they may not point upwards either, but they are left out of the cycle check
(they run after every module involved has been imported). A deferred import of the
root package ``posekit`` (for ``__version__``) is allowed everywhere.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "posekit"

#: Each package and the packages its modules may import (besides itself), from the
#: bottom of the house to the top (docs/architecture.md draws it).
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "ops": {"core"},
    "plugins": {"core"},
    "io": {"core", "ops", "plugins"},
    "jumps": {"core", "ops", "plugins", "io"},
    "baselines": {"core", "ops", "plugins", "io"},
    "evaluation": {"core", "ops", "plugins", "io"},
    "render": {"core", "ops", "plugins", "io"},
    "stages": {"core", "ops", "plugins", "io", "jumps", "evaluation", "render"},
    "pipeline": {"core", "ops", "plugins", "io", "stages"},
    "cli": {"core", "ops", "plugins", "io", "jumps", "evaluation", "render", "stages", "pipeline"},
}
#: Third-party modules the core must not import, even deferred.
CORE_FORBIDDEN = ("torch", "netCDF4", "h5netcdf", "xarray.backends", "matplotlib", "dask", "pluggy")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def imports(name: str) -> list[tuple[str, bool]]:
    """``(imported module, deferred)`` for every import statement of a module; ``from
    package import module`` names the module."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, deferred: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            inner = deferred or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                found.extend((alias.name, inner) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                for alias in child.names:
                    full = f"{base}.{alias.name}"
                    found.append((full if full in MODULES else base, inner))
            visit(child, inner)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def package_of(name: str) -> str | None:
    """``posekit.io.api`` -> ``io``; None for the root package and root modules."""
    parts = name.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in ALLOWED) else None


def test_every_package_has_a_rule():
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()} - {"skeletons"}
    assert packages <= set(ALLOWED), "add the new package to ALLOWED (and docs/architecture.md)"


@pytest.mark.parametrize("name", [n for n in MODULES if package_of(n) == "core"])
def test_the_core_imports_no_plugin_machinery_and_no_heavy_library(name):
    for imported, _ in imports(name):
        assert not imported.startswith(CORE_FORBIDDEN), f"{name} imports {imported}"
        if imported.startswith("posekit."):
            assert package_of(imported) == "core", f"{name} imports {imported}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_dependencies_point_down(name):
    package = package_of(name)
    if package is None:
        return
    for imported, _ in imports(name):
        if imported == "posekit" or not imported.startswith("posekit."):
            continue
        target = package_of(imported)
        assert target in ALLOWED[package] | {package}, f"{name} imports {imported}"


def test_module_level_imports_form_no_cycle():
    graph = {
        name: {i for i, deferred in imports(name) if i in MODULES and not deferred and i != name}
        for name in MODULES
    }
    done: set[str] = set()

    def walk(name: str, path: list[str]) -> None:
        if name in path:
            cycle = path[path.index(name) :] + [name]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if name in done:
            return
        for imported in sorted(graph[name]):
            walk(imported, [*path, name])
        done.add(name)

    for name in sorted(graph):
        walk(name, [])


def test_the_rules_see_imports():
    """The checks above would fail on a violation: the parser finds these imports."""
    assert ("posekit.core.errors", False) in imports("posekit.core.sequence")
    assert ("posekit.plugins.registry", False) in imports("posekit.stages.basic")
    assert ("posekit.pipeline.safe_yaml", False) in imports("posekit.pipeline.config")
    assert any(deferred for _, deferred in imports("posekit.cli.commands.run"))


def test_the_front_door_names_agree():
    """``posekit``'s lazy names, its ``__all__`` and the imports type checkers read (its
    ``if TYPE_CHECKING:`` block) name the same objects in the same modules."""
    import posekit

    tree = ast.parse((ROOT / "__init__.py").read_text(encoding="utf-8"))
    typed = {
        alias.name: node.module
        for block in tree.body
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert typed == posekit._LAZY
    assert set(posekit.__all__) == {*posekit._LAZY, "__version__"}
