"""Read the YAML of pipeline files and ``--set`` values safely.

:func:`load` is ``yaml.safe_load`` (no Python tags, so no code runs) with three
bounds that ``safe_load`` lacks:

- nesting deeper than :data:`MAX_DEPTH` levels is refused (not a ``RecursionError``);
- aliases may not expand the document beyond :data:`MAX_NODES` nodes (a "billion
  laughs" file of a few hundred bytes would otherwise stand for billions of values,
  which any later walk over it, such as formatting an error message, has to visit);
- a key given twice in one mapping is refused (``safe_load`` keeps the last silently).

Every refusal is a :class:`yaml.YAMLError` that says where in the text it is.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

#: Deepest nesting of lists and mappings accepted, aliases expanded.
MAX_DEPTH = 64
#: Most nodes (scalars, lists, mappings) the document may stand for, aliases expanded.
MAX_NODES = 100_000
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _BoundedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with bounded nesting, bounded alias expansion and no
    duplicate keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ComposerError(
                    None, None, f"nested deeper than {MAX_DEPTH} levels",
                    self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_document(self, node: Node) -> Any:
        _check_expansion(node)
        return super().construct_document(node)

    def construct_mapping(self, node: Node, deep: bool = False) -> dict:
        if isinstance(node, MappingNode):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG or not isinstance(key_node, ScalarNode):
                    continue
                key = self.construct_object(key_node)
                if key in seen:
                    raise ConstructorError(
                        "while reading a mapping", node.start_mark,
                        f"found the key {_brief_key(key)} twice", key_node.start_mark,
                    )
                seen.add(key)
        # PyYAML's stub says MappingNode; at run time the base class reports another node.
        return super().construct_mapping(node, deep=deep)  # type: ignore[arg-type]


def _brief_key(key: Any) -> str:
    text = repr(key)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_expansion(root: Node) -> None:
    """Raise if the node graph, aliases expanded, is deeper than MAX_DEPTH or larger
    than MAX_NODES (or refers to itself)."""
    sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (nodes, height)
    active: set[int] = set()

    def refuse(problem: str, node: Node) -> None:
        raise ComposerError(None, None, problem, node.start_mark)

    def measure(node: Node, depth: int) -> tuple[int, int]:
        key = id(node)
        if key in sizes:
            count, height = sizes[key]
        else:
            if key in active:
                refuse("an alias refers to a node that contains it", node)
            if depth > MAX_DEPTH:
                refuse(f"aliases nest the document deeper than {MAX_DEPTH} levels", node)
            active.add(key)
            children: list[Node] = []
            if isinstance(node, SequenceNode):
                children = list(node.value)
            elif isinstance(node, MappingNode):
                children = [part for pair in node.value for part in pair]
            count, height = 1, 0
            for child in children:
                child_count, child_height = measure(child, depth + 1)
                count += child_count
                height = max(height, child_height + 1)
                if count > MAX_NODES:
                    refuse(f"aliases expand the document beyond {MAX_NODES} values", node)
            active.discard(key)
            sizes[key] = count, height
        if depth + height > MAX_DEPTH:
            refuse(f"aliases nest the document deeper than {MAX_DEPTH} levels", node)
        return count, height

    measure(root, 0)


def load(text: str) -> Any:
    """Parse one YAML document with the bounds of the module docstring.

    Raises
    ------
    yaml.YAMLError
        If the text is not valid YAML or exceeds a bound.

    Examples
    --------
    >>> load("steps: [{remap: {to: coco_17}}]")
    {'steps': [{'remap': {'to': 'coco_17'}}]}
    >>> load("a: 1\\na: 2")
    Traceback (most recent call last):
    ...
    yaml.constructor.ConstructorError: while reading a mapping
      in "<unicode string>", line 1, column 1:
        a: 1
        ^
    found the key 'a' twice
      in "<unicode string>", line 2, column 1:
        a: 2
        ^
    """
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
