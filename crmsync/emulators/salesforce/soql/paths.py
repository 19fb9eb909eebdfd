"""Resolve field paths (``Account.Owner.Email``) against the catalog, and read them from rows."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from crmsync.catalogs import Catalog, FieldDef, ObjectDef

from .errors import no_such_column, no_such_relationship
from .nodes import FieldRef

Row = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Hop:
    """One child-to-parent step: the reference field read, the relationship named, the parents' types."""

    ref_field: str  # canonical name of the reference field, e.g. AccountId
    relationship: str  # canonical relationship name, the key of the nested record, e.g. Account
    targets: tuple[str, ...]  # canonical object names; several for a polymorphic lookup (WhoId)


@dataclass(frozen=True, slots=True)
class FieldPath:
    """A field path checked against the schema: the hops to walk, then the field to read."""

    hops: tuple[Hop, ...]
    field: FieldDef

    @property
    def key(self) -> str:
        """The path in canonical casing, e.g. ``Account.Owner.Email``."""
        return ".".join([*(hop.relationship for hop in self.hops), self.field.name])


# Reads the parent row behind ``hop`` for the given id, or None when it does not exist.
Fetch = Callable[[Hop, str], Row | None]


def resolve(catalog: Catalog, root: ObjectDef, ref: FieldRef, text: str) -> FieldPath:
    """The FieldPath ``ref`` names on ``root``; raises SoqlError (INVALID_FIELD) naming the bad part."""
    parts = ref.parts
    # Salesforce lets the queried object's own name qualify a field: SELECT Contact.LastName FROM Contact.
    if len(parts) > 1 and parts[0].casefold() == root.name.casefold() and root.relationship(parts[0]) is None:
        parts = parts[1:]
    current: list[ObjectDef] = [root]
    hops: list[Hop] = []
    for name in parts[:-1]:
        reference = _first(obj.relationship(name) for obj in current)
        targets = [] if reference is None else [catalog.object(t) for t in reference.reference_to]
        found = [obj for obj in targets if obj is not None]
        if reference is None or reference.relationship_name is None or not found:
            raise no_such_relationship(text, ref.pos, name)
        hops.append(Hop(reference.name, reference.relationship_name, tuple(obj.name for obj in found)))
        current = found
    field = _first(obj.field(parts[-1]) for obj in current)
    if field is None:
        raise no_such_column(text, ref.pos, parts[-1], current[0].name)
    return FieldPath(tuple(hops), field)


def _first(candidates: Iterable[FieldDef | None]) -> FieldDef | None:
    """The first FieldDef among ``candidates`` that is not None."""
    return next((candidate for candidate in candidates if candidate is not None), None)


def getter(path: FieldPath, fetch: Fetch) -> Callable[[Row], Any]:
    """A function reading ``path`` from a row, walking up to parents only when the path has hops."""
    name = path.field.name
    hops = path.hops
    if not hops:
        return lambda row: row.get(name)
    if len(hops) == 1:
        hop = hops[0]
        ref_field = hop.ref_field

        def read_parent(row: Row) -> Any:
            parent_id = row.get(ref_field)
            if parent_id is None:
                return None
            parent = fetch(hop, parent_id)
            return None if parent is None else parent.get(name)

        return read_parent

    def read_ancestor(row: Row) -> Any:
        current: Row | None = row
        for hop in hops:
            parent_id = current.get(hop.ref_field) if current is not None else None
            if parent_id is None:
                return None
            current = fetch(hop, parent_id)
        return None if current is None else current.get(name)

    return read_ancestor
