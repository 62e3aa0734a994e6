"""The ``posekit`` command line: :mod:`posekit.cli.app` gathers the subcommands of
:mod:`posekit.cli.commands`."""
