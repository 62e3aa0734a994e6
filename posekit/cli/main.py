"""The ``posekit`` command line.

Each subcommand is a function in its own module of :mod:`posekit.cli.commands`; this module
only gathers them. To add one, write ``posekit/cli/commands/NAME.py`` with a typed function
(its docstring is the ``--help``, with an example) and add it to ``COMMANDS``. Command
modules import heavy libraries inside the function, so ``posekit --help`` stays fast and
never imports torch.

Examples
--------
>>> from typer.testing import CliRunner
>>> result = CliRunner().invoke(app, ["--help"])
>>> "run" in result.output and "plugins" in result.output
True
"""

from __future__ import annotations

import typer

from posekit.cli.commands import evaluate, info, plugins, render, run, skeletons

COMMANDS = (
    run.run, plugins.plugins, skeletons.skeletons, info.info, evaluate.evaluate, render.render
)

app = typer.Typer(
    name="posekit",
    help="Post-process human pose sequences: read, remap, align, upsample, write.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
for command in COMMANDS:
    app.command()(command)
