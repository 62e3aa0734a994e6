"""The ``posekit`` command line: :mod:`posekit.cli.main` gathers the subcommands of
:mod:`posekit.cli.commands` into :data:`app`, the console script's target
(``posekit = "posekit.cli:app"``)."""

from posekit.cli.main import app

__all__ = ["app"]
