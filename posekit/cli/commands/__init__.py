"""The subcommands of the ``posekit`` command line, one module each (see :mod:`posekit.cli.main`)."""
