"""``posekit skeletons``: the registered skeletons, or one in detail."""

from __future__ import annotations

from typing import Annotated

import typer


def skeletons(
    name: Annotated[
        str | None, typer.Argument(help="A skeleton to show in detail; default: list all.")
    ] = None,
) -> None:
    """List the registered skeletons, or show one: its joints with their parents and
    sides, its left/right pairs and the skeletons it maps to.

    \b
    Example:
      posekit skeletons          # list
      posekit skeletons coco_17  # one in detail
    """
    from posekit.core.errors import PosekitError
    from posekit.plugins.registry import get_registry

    registry = get_registry()
    if name is None:
        width = max(map(len, registry.skeleton_files), default=0)
        for skeleton_name in registry.skeleton_files:
            try:
                skeleton = registry.skeleton(skeleton_name)
            except PosekitError as err:
                typer.echo(f"{skeleton_name:<{width}}  broken: {err}")
                continue
            typer.echo(
                f"{skeleton_name:<{width}}  {skeleton.n_joints:>3} joints  {skeleton.description}"
            )
        return
    try:
        skeleton = registry.skeleton(name)
    except PosekitError as err:
        typer.echo(str(err), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{skeleton.name}: {skeleton.description}")
    typer.echo(f"source: {skeleton.source}")
    typer.echo(f"convention: {skeleton.convention}")
    typer.echo(f"joints ({skeleton.n_joints}): index, name, parent, side")
    for index, (joint, parent) in enumerate(
        zip(skeleton.joint_names, skeleton.parents, strict=True)
    ):
        parent_name = skeleton.joint_names[parent] if parent >= 0 else "(root)"
        typer.echo(f"  {index:>3}  {joint:<20} {parent_name:<20} {skeleton.side(index)}")
    typer.echo("pairs (left, right):")
    for left, right in skeleton.pairs:
        typer.echo(f"  {skeleton.joint_names[left]}, {skeleton.joint_names[right]}")
    maps = sorted({*skeleton.mappings_to, *skeleton.mappings_from})
    typer.echo(f"mappings: {', '.join(maps) if maps else 'none'}")
