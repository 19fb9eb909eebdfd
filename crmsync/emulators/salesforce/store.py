"""Record storage of the emulated org: rows per object, lookup indexes, write-through journal.

The store knows nothing of Salesforce's rules; ``org.Org`` builds them on top of it. Two
indexes keep deletes, merges and upserts cheap on a 100,000-record org:

- *keys*: for every external-id or unique field, the live records holding each value
  (case-insensitive, as Salesforce matches text external ids);
- *refs*: for every record of a deletable object, the records whose reference fields point
  at it (used for cascade, set-null, restrict and merge re-parenting).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from crmsync.catalogs import Catalog, FieldDef, ObjectDef

from .errors import not_found
from .ids import IdSequences, normalize_id
from .records import Layout, Row

RefKey = tuple[str, str, str]  # (child object, child id, reference field)


class Journal(Protocol):
    """Where committed changes go (e.g. a SQLite state file)."""

    def save(self, rows: Iterable[Row], sequences: Mapping[str, int]) -> None:
        """Persist ``rows`` (new or changed) and the id sequences, atomically."""

    def clear(self) -> None:
        """Forget every record (the org was reset)."""


def key_of(value: Any) -> str:
    """The case-insensitive index key of an external-id value."""
    return str(value).casefold()


class RecordStore:
    """Rows and indexes of one org; guard compound operations with ``lock``."""

    def __init__(self, catalog: Catalog, journal: Journal | None = None) -> None:
        self.catalog = catalog
        self.lock = threading.RLock()
        self.journal = journal
        self.layouts = {name: Layout(obj) for name, obj in catalog.objects.items()}
        self.by_prefix = {obj.key_prefix: obj for obj in catalog.objects.values()}
        deletable_prefixes = {obj.key_prefix for obj in catalog.objects.values() if obj.deletable}
        deletable_names = {obj.name for obj in catalog.objects.values() if obj.deletable}
        self._deletable_prefixes = deletable_prefixes
        # Only references that can be affected by a delete or merge are indexed: pointers at
        # users and record types (every record has several) would dwarf the rest.
        self.indexed_refs: dict[str, tuple[FieldDef, ...]] = {
            name: tuple(
                fdef
                for fdef in obj.fields.values()
                if fdef.type == "reference" and deletable_names.intersection(fdef.reference_to)
            )
            for name, obj in catalog.objects.items()
        }
        self.keyed_fields: dict[str, tuple[FieldDef, ...]] = {
            name: tuple(f for f in obj.fields.values() if f.external_id or f.unique)
            for name, obj in catalog.objects.items()
        }
        self.sequences = IdSequences()
        self._rows: dict[str, dict[str, Row]] = {name: {} for name in catalog.objects}
        self._refs: dict[str, set[RefKey]] = {}
        self._keys: dict[tuple[str, str], dict[str, list[str]]] = {}
        self._dirty: dict[str, Row] = {}

    # -- reading ---------------------------------------------------------------------------

    def object_def(self, name: str) -> ObjectDef:
        """The object called ``name`` (any case), or 404 NOT_FOUND as Salesforce answers."""
        obj = self.catalog.object(name)
        if obj is None:
            raise not_found()
        return obj

    def scan(self, object_name: str) -> list[Row]:
        """Every row of ``object_name``, soft-deleted ones included, in insertion order."""
        return list(self._rows[object_name].values())

    def get(self, object_name: str, record_id: str) -> Row | None:
        """The row of ``object_name`` with ``record_id`` (15 or 18 characters), or None."""
        rows = self._rows.get(object_name)
        if rows is None:
            return None
        row = rows.get(record_id)
        if row is None and len(record_id) == 15:
            full = normalize_id(record_id)
            row = rows.get(full) if full else None
        return row

    def find(self, record_id: str) -> Row | None:
        """The row with ``record_id`` in whichever object its key prefix names, or None."""
        obj = self.by_prefix.get(record_id[:3])
        return None if obj is None else self.get(obj.name, record_id)

    def count(self, object_name: str) -> tuple[int, int]:
        """(live, soft-deleted) record counts of ``object_name``."""
        rows = self._rows[object_name].values()
        deleted = sum(1 for row in rows if row.get("IsDeleted"))
        return len(rows) - deleted, deleted

    def total(self) -> int:
        """Number of records of all objects, deleted ones included."""
        return sum(len(rows) for rows in self._rows.values())

    def children(self, record_id: str) -> list[RefKey]:
        """Every (object, id, field) whose indexed reference points at ``record_id``."""
        return sorted(self._refs.get(record_id, ()))

    def lookup(self, object_name: str, field_name: str, value: Any) -> list[str]:
        """Ids of live records whose keyed field ``field_name`` equals ``value`` (any case)."""
        return list(self._keys.get((object_name, field_name), {}).get(key_of(value), ()))

    # -- writing ---------------------------------------------------------------------------

    def add(self, object_name: str, values: Mapping[str, Any]) -> Row:
        """Store a new row built from complete canonical ``values`` (no validation)."""
        row = self.layouts[object_name].new_row(values)
        record_id = row["Id"]
        self._rows[object_name][record_id] = row
        self.sequences.observe(record_id)
        self._index_refs(row, add=True)
        if not row.get("IsDeleted"):
            self._index_keys(row, add=True)
        self._dirty[record_id] = row
        return row

    def change(self, row: Row, changes: Mapping[str, Any]) -> None:
        """Apply canonical ``changes`` to ``row``, keeping the indexes right."""
        live_before = not row.get("IsDeleted")
        self._index_refs(row, add=False)
        if live_before:
            self._index_keys(row, add=False)
        for name, value in changes.items():
            row.set(name, value)
        self._index_refs(row, add=True)
        if not row.get("IsDeleted"):
            self._index_keys(row, add=True)
        self._dirty[row["Id"]] = row

    def flush(self) -> None:
        """Hand every row changed since the last flush to the journal."""
        if not self._dirty:
            return
        dirty, self._dirty = list(self._dirty.values()), {}
        if self.journal is not None:
            self.journal.save(dirty, self.sequences.state())

    def clear(self) -> None:
        """Remove every record and restart the id sequences."""
        for rows in self._rows.values():
            rows.clear()
        self._refs.clear()
        self._keys.clear()
        self._dirty.clear()
        self.sequences = IdSequences()
        if self.journal is not None:
            self.journal.clear()

    def _index_refs(self, row: Row, *, add: bool) -> None:
        fields = self.indexed_refs[row.layout.object_name]
        if not fields:
            return
        record_id = row["Id"]
        for fdef in fields:
            target = row[fdef.name]
            if target is None or target[:3] not in self._deletable_prefixes:
                continue
            entry = (row.layout.object_name, record_id, fdef.name)
            if add:
                self._refs.setdefault(target, set()).add(entry)
            else:
                holders = self._refs.get(target)
                if holders is not None:
                    holders.discard(entry)
                    if not holders:
                        del self._refs[target]

    def _index_keys(self, row: Row, *, add: bool) -> None:
        object_name = row.layout.object_name
        record_id = row["Id"]
        for fdef in self.keyed_fields[object_name]:
            value = row[fdef.name]
            if value is None:
                continue
            index = self._keys.setdefault((object_name, fdef.name), {})
            key = key_of(value)
            if add:
                index.setdefault(key, []).append(record_id)
            else:
                ids = index.get(key)
                if ids is not None and record_id in ids:
                    ids.remove(record_id)
                    if not ids:
                        del index[key]
