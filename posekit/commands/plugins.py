"""``posekit plugins``: what is registered, from where, and what failed to load."""

from __future__ import annotations

import typer


def plugins() -> None:
    """List the registered readers, writers, stages and skeletons with the
    distribution each comes from, and the plugins that failed to load with their error.

    \b
    Example:
      posekit plugins
    """
    import attrs

    from posekit.registry import Entry, get_registry

    registry = get_registry()
    tables = {  # every kind of registered class: readers, writers, stages, ...
        field.name: table
        for field in attrs.fields(type(registry))
        if isinstance(table := getattr(registry, field.name), dict)
        and table
        and all(isinstance(entry, Entry) for entry in table.values())
    }
    for kind, table in tables.items():
        typer.echo(f"{kind}:")
        width = max(map(len, table))
        for entry in table.values():
            typer.echo(f"  {entry.name:<{width}}  {entry.origin:<12}  {entry.summary}")
    typer.echo("skeletons:")
    width = max(map(len, registry.skeleton_files), default=0)
    for name, (_, origin) in registry.skeleton_files.items():
        typer.echo(f"  {name:<{width}}  {origin}")
    if registry.failures:
        typer.echo("failed plugins:")
        for failure in registry.failures:
            typer.echo(f"  {failure.name}: {failure.error}")
