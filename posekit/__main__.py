"""``python -m posekit``: the same as the ``posekit`` command."""

from posekit.cli import app

app()
