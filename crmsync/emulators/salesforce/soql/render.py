"""Shape a row as Salesforce's REST query returns it: attributes first, parents nested."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .paths import FieldPath, Hop, Row

# Finds the parent behind a hop: (its object name, its row), or None when there is none.
ParentLookup = Callable[[Hop, str], tuple[str, Row] | None]


@dataclass(slots=True)
class _Node:
    """The selected fields of one record level, in SELECT order; parents appear where first named."""

    entries: list[tuple[str, Hop | None, _Node | None]] = field(default_factory=list)
    children: dict[str, _Node] = field(default_factory=dict)


class Renderer:
    """Renders rows for one compiled SELECT list."""

    def __init__(self, object_name: str, paths: Sequence[FieldPath]) -> None:
        self.object_name = object_name
        self._root = _Node()
        for path in paths:
            node = self._root
            for hop in path.hops:
                child = node.children.get(hop.relationship)
                if child is None:
                    child = node.children[hop.relationship] = _Node()
                    node.entries.append((hop.relationship, hop, child))
                node = child
            node.entries.append((path.field.name, None, None))

    def render(self, row: Row, lookup: ParentLookup, api_version: str) -> dict[str, Any]:
        """The JSON-ready record for ``row``; ``api_version`` like ``61.0``."""
        base = f"/services/data/v{api_version.removeprefix('v')}/sobjects/"
        return _render_node(self._root, self.object_name, row, lookup, base)


def _render_node(
    node: _Node, object_name: str, row: Mapping[str, Any], lookup: ParentLookup, base: str
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "attributes": {"type": object_name, "url": f"{base}{object_name}/{row.get('Id')}"}
    }
    for key, hop, child in node.entries:
        if hop is None or child is None:
            record[key] = row.get(key)
            continue
        parent_id = row.get(hop.ref_field)
        found = lookup(hop, parent_id) if parent_id else None
        record[key] = None if found is None else _render_node(child, found[0], found[1], lookup, base)
    return record
