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

    from posekit.plugins.registry import Entry, get_registry

    registry = get_registry()
    tables = {  # every kind of registered class: readers, writers, stages, ...
        field.name: table
        for field in attrs.fields(type(registry))
        if isinstance(table := getattr(registry, field.name), dict)
        and table
        and all(isinstance(entry, Entry) for entry in table.values())
    }
    entries = [entry for table in tables.values() for entry in table.values()]
    width = max(
        (len(name) for name in [*registry.skeleton_files, *(e.name for e in entries)]), default=0
    )
    origin_width = max((len(entry.origin) for entry in entries), default=0)
    for kind, table in tables.items():
        typer.echo(f"{kind}:")
        for entry in table.values():
            typer.echo(f"  {entry.name:<{width}}  {entry.origin:<{origin_width}}  {entry.summary}")
    typer.echo("skeletons:")
    for name, (_, origin) in registry.skeleton_files.items():
        typer.echo(f"  {name:<{width}}  {origin}")
    if registry.failures:
        typer.echo("failed plugins:")
        for failure in registry.failures:
            typer.echo(f"  {failure.name}: {failure.error}")
