"""Skeleton topologies loaded from data files, and joint mappings between them.

A skeleton file (TOML, one per skeleton, in ``skeletons/``) names the joints in
order with each joint's parent, the left/right pairs, where the layout comes from,
and optionally how the joints of another skeleton are obtained from its own
(``[to.<other>]``) or its own from another's (``[from.<other>]``). A mapping entry is
either a joint name (one-to-one) or a table of weights that sum to one (a weighted
sum, e.g. a midpoint).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from posekit.core.errors import RemapError, SkeletonFileError

#: The layout every other skeleton is mapped through, and posekit's output layout.
HUB_SKELETON = "mpi_inf_3dhp_28"

#: A mapping term: how one joint is obtained, as (source joint name, weight) pairs.
Combination = tuple[tuple[str, float], ...]


@attrs.frozen
class Skeleton:
    """A skeleton topology: joints in order, a tree of parents, left/right pairs.

    Parameters
    ----------
    name
        Unique name, e.g. ``"coco_17"``.
    joint_names
        Joint names in the layout's order.
    parents
        Index of each joint's parent; ``-1`` for the root.
    pairs
        Left/right pairs as ``(left_index, right_index)``.
    description, source, convention
        Free text: what the layout is, where it comes from, and its left/right
        convention.
    mappings_to, mappings_from
        ``{other_skeleton: {joint: combination}}``; see the module docstring.
    path
        The file it was loaded from, if any.

    Examples
    --------
    >>> from posekit.core.catalogue import builtin_skeleton
    >>> skeleton = builtin_skeleton("mpi_inf_3dhp_28")
    >>> skeleton.n_joints, skeleton.joint_names[skeleton.root]
    (28, 'pelvis')
    """

    name: str
    joint_names: tuple[str, ...]
    parents: tuple[int, ...]
    pairs: tuple[tuple[int, int], ...]
    description: str = ""
    source: str = ""
    convention: str = ""
    mappings_to: Mapping[str, Mapping[str, Combination]] = attrs.field(factory=dict)
    mappings_from: Mapping[str, Mapping[str, Combination]] = attrs.field(factory=dict)
    path: str | None = None

    @property
    def n_joints(self) -> int:
        """Number of joints."""
        return len(self.joint_names)

    @property
    def root(self) -> int:
        """Index of the root joint."""
        return self.parents.index(-1)

    @property
    def bones(self) -> tuple[tuple[int, int], ...]:
        """``(parent, child)`` index pairs, one per non-root joint."""
        return tuple((p, c) for c, p in enumerate(self.parents) if p >= 0)

    def index(self, joint: str) -> int:
        """Index of a joint by name.

        Raises
        ------
        KeyError
            If the skeleton has no such joint; the message lists the joints.
        """
        try:
            return self.joint_names.index(joint)
        except ValueError:
            raise KeyError(
                f"skeleton {self.name!r} has no joint {joint!r}; its joints are "
                f"{', '.join(self.joint_names)}"
            ) from None

    def indices(self, joints: Iterable[str]) -> list[int]:
        """Indices of several joints by name."""
        return [self.index(j) for j in joints]

    def side(self, joint: int) -> str:
        """``"left"``, ``"right"`` or ``"center"`` for a joint index."""
        for left, right in self.pairs:
            if joint == left:
                return "left"
            if joint == right:
                return "right"
        return "center"

    def hop_distances(self) -> np.ndarray:
        """Number of bones between every two joints, ``(J, J)`` integers.

        Examples
        --------
        >>> from posekit.core.catalogue import builtin_skeleton
        >>> sk = builtin_skeleton("mpi_inf_3dhp_28")
        >>> hops = sk.hop_distances()
        >>> int(hops[sk.index("left_wrist"), sk.index("left_hand")])
        1
        >>> int(hops[sk.index("left_hand"), sk.index("right_hand")]) > 4
        True
        """
        hops = np.full((self.n_joints, self.n_joints), self.n_joints, dtype=int)
        np.fill_diagonal(hops, 0)
        for parent, child in self.bones:
            hops[parent, child] = hops[child, parent] = 1
        for k in range(self.n_joints):  # Floyd–Warshall on a tree of a few dozen joints
            hops = np.minimum(hops, hops[:, k : k + 1] + hops[k : k + 1, :])
        return hops

    def mirror_permutation(self) -> np.ndarray:
        """Joint permutation that swaps every left/right pair.

        Examples
        --------
        >>> from posekit.core.catalogue import builtin_skeleton
        >>> sk = builtin_skeleton("mpi_inf_3dhp_28")
        >>> perm = sk.mirror_permutation()
        >>> sk.joint_names[perm[sk.index("left_knee")]]
        'right_knee'
        """
        perm = np.arange(self.n_joints)
        for left, right in self.pairs:
            perm[left], perm[right] = right, left
        return perm


def _fail(path: Path, message: str, entry: str | None = None) -> SkeletonFileError:
    return SkeletonFileError(path, message, entry=entry)


def _parse_combination(
    path: Path, table: str, key: str, value: Any, known: Mapping[str, Any] | None
) -> Combination:
    """Parse one mapping entry; ``known`` is None when the joints belong to another file."""
    entry = f"{table}.{key}"
    if isinstance(value, str):
        terms = {value: 1.0}
    elif isinstance(value, dict) and value:
        terms = value
    else:
        raise _fail(path, "expected a joint name or a table of joint weights", entry)
    for joint, weight in terms.items():
        if known is not None and joint not in known:
            raise _fail(path, f"unknown joint {joint!r} in the source skeleton", entry)
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise _fail(path, f"weight of {joint!r} must be a number, got {weight!r}", entry)
    total = math.fsum(float(w) for w in terms.values())
    if abs(total - 1.0) > 1e-9:
        raise _fail(path, f"weights must sum to 1, they sum to {total:g}", entry)
    return tuple((joint, float(weight)) for joint, weight in terms.items())


def _parse_mappings(
    path: Path, data: dict[str, Any], direction: str, own_joints: Mapping[str, int]
) -> dict[str, dict[str, Combination]]:
    """Parse ``[to.*]`` or ``[from.*]``; joint names on the other side are checked later."""
    tables = data.get(direction, {})
    if not isinstance(tables, dict):
        raise _fail(path, "expected tables like [to.mpi_inf_3dhp_28]", direction)
    parsed: dict[str, dict[str, Combination]] = {}
    for other, table in tables.items():
        if not isinstance(table, dict):
            raise _fail(path, "expected a table of joint mappings", f"{direction}.{other}")
        parsed[other] = {}
        for key, value in table.items():
            if direction == "from":
                if key not in own_joints:
                    raise _fail(path, "not a joint of this skeleton", f"from.{other}.{key}")
                # Source joints belong to `other`: checked when the mapping is used.
                parsed[other][key] = _parse_combination(path, f"from.{other}", key, value, None)
            else:
                parsed[other][key] = _parse_combination(
                    path, f"to.{other}", key, value, own_joints
                )
    return parsed


def load_skeleton(path: str | Path) -> Skeleton:
    """Load and validate a skeleton file.

    Parameters
    ----------
    path
        A TOML skeleton file.

    Returns
    -------
    Skeleton

    Raises
    ------
    SkeletonFileError
        With the path and the offending entry if names repeat, there is not exactly
        one root, a parent does not exist, the parents form a cycle, a pair is not a
        left/right pair of two distinct joints, or a mapping is malformed.

    Examples
    --------
    >>> import importlib.resources
    >>> folder = importlib.resources.files("posekit.skeletons")
    >>> load_skeleton(folder / "coco_17.toml").n_joints
    17
    """
    path = Path(str(path))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise _fail(path, f"not valid TOML: {err}") from None
    except OSError as err:
        raise _fail(path, f"cannot read: {err.strerror}") from None

    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise _fail(path, "missing 'name' (a non-empty string)", "name")
    joints = data.get("joints")
    if not isinstance(joints, list) or not joints:
        raise _fail(path, "missing 'joints' (a list of [name, parent])", "joints")

    names: list[str] = []
    parent_names: list[str] = []
    for item in joints:
        if (
            not isinstance(item, list)
            or len(item) != 2
            or not all(isinstance(v, str) for v in item)
        ):
            raise _fail(path, "each joint must be [name, parent] with strings", repr(item))
        if item[0] in names:
            raise _fail(path, "joint name used twice", item[0])
        names.append(item[0])
        parent_names.append(item[1])
    position = {n: i for i, n in enumerate(names)}

    roots = [n for n, p in zip(names, parent_names, strict=True) if p == ""]
    if len(roots) != 1:
        raise _fail(path, f"expected exactly one root (parent \"\"), found {roots}", "joints")
    parents: list[int] = []
    for joint, parent in zip(names, parent_names, strict=True):
        if parent and parent not in position:
            raise _fail(path, f"parent {parent!r} is not a joint of this skeleton", joint)
        parents.append(position[parent] if parent else -1)
    for start in range(len(names)):
        seen, node = set(), start
        while node >= 0:
            if node in seen:
                raise _fail(path, "the parents form a cycle", names[start])
            seen.add(node)
            node = parents[node]

    pairs: list[tuple[int, int]] = []
    paired: set[str] = set()
    for pair in data.get("pairs", []):
        entry = repr(pair)
        if not isinstance(pair, list) or len(pair) != 2 or pair[0] == pair[1]:
            raise _fail(path, "a pair must be [left, right] of two distinct joints", entry)
        for joint in pair:
            if joint not in position:
                raise _fail(path, f"{joint!r} is not a joint of this skeleton", entry)
            if joint in paired:
                raise _fail(path, f"{joint!r} appears in two pairs", entry)
            paired.add(joint)
        pairs.append((position[pair[0]], position[pair[1]]))

    return Skeleton(
        name=name,
        joint_names=tuple(names),
        parents=tuple(parents),
        pairs=tuple(pairs),
        description=str(data.get("description", "")),
        source=str(data.get("source", "")),
        convention=str(data.get("convention", "")),
        mappings_to=_parse_mappings(path, data, "to", position),
        mappings_from=_parse_mappings(path, data, "from", position),
        path=str(path),
    )


@attrs.frozen
class JointMapping:
    """How each joint of a target skeleton is obtained from a source skeleton.

    ``terms[j]`` lists ``(source_index, weight)`` for target joint ``j``; an empty
    tuple means the source cannot give that joint.
    """

    source: str
    target: str
    terms: tuple[tuple[tuple[int, float], ...], ...]

    @property
    def defined(self) -> np.ndarray:
        """Boolean mask over target joints that the source can give."""
        return np.array([bool(t) for t in self.terms])


def _resolved(
    table: Mapping[str, Combination], source: Skeleton, target: Skeleton
) -> JointMapping:
    terms = []
    for joint in target.joint_names:
        combination = table.get(joint, ())
        try:
            terms.append(tuple((source.index(j), w) for j, w in combination))
        except KeyError as err:
            raise RemapError(
                f"mapping {source.name} -> {target.name}, joint {joint!r}: {err.args[0]}"
            ) from None
    return JointMapping(source.name, target.name, tuple(terms))


def _compose(first: JointMapping, second: JointMapping) -> JointMapping:
    """The mapping ``second ∘ first``: a joint is defined when all its inputs are."""
    terms = []
    for combination in second.terms:
        weights: dict[int, float] = {}
        for middle, w in combination:
            inner = first.terms[middle]
            if not inner:
                weights = {}
                break
            for src, v in inner:
                weights[src] = weights.get(src, 0.0) + w * v
        terms.append(tuple(weights.items()))
    return JointMapping(first.source, second.target, tuple(terms))


def joint_mapping(source: Skeleton, target: Skeleton, hub: Skeleton | None = None) -> JointMapping:
    """Find how the joints of ``target`` are obtained from those of ``source``.

    Looks for ``[to.<target>]`` in the source file, then ``[from.<source>]`` in the
    target file, then goes through the hub layout (``mpi_inf_3dhp_28``).

    Parameters
    ----------
    source, target
        The two skeletons.
    hub
        The hub skeleton; needed only when neither file maps to the other directly.

    Raises
    ------
    RemapError
        If no mapping exists.

    Examples
    --------
    >>> from posekit.core.catalogue import builtin_skeleton
    >>> m = joint_mapping(builtin_skeleton("coco_17"), builtin_skeleton("mpi_inf_3dhp_28"))
    >>> int(m.defined.sum())
    12
    """
    if source.name == target.name:
        return JointMapping(
            source.name, target.name, tuple(((j, 1.0),) for j in range(source.n_joints))
        )
    if target.name in source.mappings_to:
        return _resolved(source.mappings_to[target.name], source, target)
    if source.name in target.mappings_from:
        return _resolved(target.mappings_from[source.name], source, target)
    if hub is not None and HUB_SKELETON not in (source.name, target.name):
        try:
            return _compose(joint_mapping(source, hub), joint_mapping(hub, target))
        except RemapError:
            pass
    raise RemapError(
        f"no joint mapping from skeleton {source.name!r} to {target.name!r}: add "
        f"[to.{target.name}] to {source.path or source.name} or "
        f"[from.{source.name}] to {target.path or target.name}"
    )
