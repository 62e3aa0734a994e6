"""The shell examples of the docs pages on examples, JUMPS, training and one's own
AlphaPose file: they run (on a copy of ``examples/``, with few JUMPS iterations), and
the training commands, which take hours, use only options their ``--help`` lists."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
#: Pages whose bash blocks run, each with the heading of the part that is meant (None:
#: the whole page).
RUN = {"examples.md": None, "how-jumps-works.md": None,
       "getting-started.md": "## Your own AlphaPose file"}  # fmt: skip
#: Every `posekit run` of these pages runs a pipeline with jumps as its second step; a
#: few iterations check the plumbing in seconds.
QUICK = " --set 'steps[2].jumps.iterations=3'"


def bash_blocks(page: str, heading: str | None = None) -> list[str]:
    text = (DOCS / page).read_text()
    if heading is not None:
        part = text.split(heading, 1)[1]
        text = part.split("\n## ", 1)[0]
    return [code for lang, code in FENCE.findall(text) if lang == "bash"]


def command_lines(code: str) -> list[str]:
    """The commands of a block, backslash continuations joined."""
    return [line.strip() for line in code.replace("\\\n", " ").splitlines() if line.strip()]


@pytest.mark.parametrize("page", sorted(RUN))
def test_bash_examples_run(page, tmp_path):
    blocks = bash_blocks(page, RUN[page])
    if page == "how-jumps-works.md":
        assert not blocks  # nothing to run there; Python examples run in test_docs.py
        return
    assert blocks, f"{page} has no bash example in the part tested"
    shutil.copytree(ROOT / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns("out"))
    environment = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    for number, code in enumerate(blocks, 1):
        script = re.sub(r"^(posekit run \S+)", rf"\1{QUICK}", code, flags=re.MULTILINE)
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=environment,
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"{page} block {number}:\n{script}\n{done.stderr[-3000:]}"
    written = {p.name for p in tmp_path.rglob("*") if p.suffix in (".gif", ".png", ".nc")}
    for name in re.findall(r"--out \S+/([\w.]+)", "".join(blocks)):
        assert name in written, f"{page}: {name} was not written"


@cache
def help_text(module: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", module, "--help"], cwd=ROOT, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    return done.stdout


def test_training_commands_use_existing_options():
    lines = [line for code in bash_blocks("training.md") for line in command_lines(code)]
    modules = set()
    for line in lines:
        words = shlex.split(line)
        assert words[:2] == ["python", "-m"] and words[2].startswith("training."), line
        modules.add(words[2])
        usage = help_text(words[2])
        for option in (w.split("=")[0] for w in words[3:] if w.startswith("--")):
            assert option in usage, f"{words[2]} has no option {option}"
    assert {"training.build_windows", "training.train_jumps", "training.export_model"} <= modules
