"""Record storage of the emulated org: rows per object, lookup indexes, write-through journal.

The store knows nothing of Salesforce's rules; ``org.Org`` builds them on top of it. Two
indexes keep deletes, merges and upserts cheap on a 100,000-record org:

- *keys*: for every external-id or unique field, the live records holding each value
  (case-insensitive, as Salesforce matches text external ids);
- *refs*: for every record of a deletable object, the records whose reference fields point
  at it (used for cascade, set-null, restrict and merge re-parenting).

Writes can be grouped in a ``transaction()``: while one is open every change is recorded in
an undo log and nothing is handed to the journal; the group is journaled at its end, or
undone (rows, indexes and all) when it is rolled back, so a rolled-back group never reaches
the state file. Nested transactions are savepoints of the outermost one. Ids minted inside a
rolled-back group are not handed out again, as in Salesforce.

A ``capture`` (Change Data Capture's event bus) may watch some objects: every write of one
of their records is kept, with its values before and after, until the change commits (the
outermost transaction ends, or the single write outside one), when the capture turns them
into change events that are journaled with the rows. A rollback forgets them too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any, Protocol

from crmsync.catalogs import Catalog, FieldDef, ObjectDef

from .cdc_model import CapturedChange, ChangeEvent
from .context import CHANGE_ORIGIN
from .errors import not_found
from .ids import IdSequences, normalize_id
from .records import Layout, Row

RefKey = tuple[str, str, str]  # (child object, child id, reference field)


# In the captured changes of a transaction: what follows commits as another transaction
# (the subrequests of a composite batch stand alone, though journaled together).
Captured = CapturedChange | None


class Journal(Protocol):
    """Where committed changes go (e.g. a SQLite state file)."""

    def save(self, rows: Iterable[Row], sequences: Mapping[str, int], events: Sequence[ChangeEvent]) -> None:
        """Persist ``rows`` (new or changed), the id sequences and change events, atomically."""

    def clear(self) -> None:
        """Forget every record (the org was reset)."""


class Capture(Protocol):
    """What watches committed changes of some objects (Change Data Capture's event bus)."""

    def wants(self, object_name: str) -> bool:
        """True when changes of ``object_name`` are to be captured."""

    def commit(self, captured: Sequence[Captured]) -> list[ChangeEvent]:
        """Turn the captured changes of a commit into change events (and publish them)."""


def key_of(value: Any) -> str:
    """The case-insensitive index key of an external-id value."""
    return str(value).casefold()


class Savepoint:
    """A point of the open transaction that its later changes can be rolled back to."""

    __slots__ = ("_mark", "_outer", "_store", "rolled_back")

    def __init__(self, store: RecordStore, mark: int, *, outer: bool) -> None:
        self._store = store
        self._mark = mark
        self._outer = outer
        self.rolled_back = False

    def rollback(self) -> None:
        """Undo every change made since this savepoint (and keep it from the journal)."""
        self._store.undo_to(self._mark, outer=self._outer)
        self.rolled_back = True


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
        # The undo log of the open transaction (None: no transaction, writes are journaled at once).
        self._undo: list[Callable[[], None]] | None = None
        self.capture: Capture | None = None
        self._captured: list[Captured] = []
        self._capture_paused = 0

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
        self.remember(partial(self._unadd, object_name, record_id))
        self._capture(row, None, frozenset(values))
        return row

    def change(self, row: Row, changes: Mapping[str, Any]) -> None:
        """Apply canonical ``changes`` to ``row``, keeping the indexes right."""
        live_before = not row.get("IsDeleted")
        before = list(row.cells)
        self.remember(partial(self._restore, row, before))
        self._index_refs(row, add=False)
        if live_before:
            self._index_keys(row, add=False)
        for name, value in changes.items():
            row.set(name, value)
        self._index_refs(row, add=True)
        if not row.get("IsDeleted"):
            self._index_keys(row, add=True)
        self._dirty[row["Id"]] = row
        self._capture(row, tuple(before), frozenset(changes))

    def flush(self) -> None:
        """Commit: hand every row changed since the last flush, and the change events of the
        captured changes, to the journal (at the end of the outermost transaction)."""
        if self._undo is not None:
            return
        events: list[ChangeEvent] = []
        if self._captured:
            captured, self._captured = self._captured, []
            if self.capture is not None:
                events = self.capture.commit(captured)
        if not self._dirty and not events:
            return
        dirty, self._dirty = list(self._dirty.values()), {}
        if self.journal is not None:
            self.journal.save(dirty, self.sequences.state(), events)

    # -- change capture --------------------------------------------------------------------

    def _capture(self, row: Row, before: tuple[Any, ...] | None, written: frozenset[str]) -> None:
        capture = self.capture
        if capture is None or self._capture_paused or not capture.wants(row.layout.object_name):
            return
        change = CapturedChange(
            row.layout.object_name, row["Id"], before, tuple(row.cells), written, CHANGE_ORIGIN.get()
        )
        self._captured.append(change)
        self.remember(self._forget_capture)

    def _forget_capture(self) -> None:
        self._captured.pop()

    def split_capture(self) -> None:
        """Let the changes captured from here on commit as a transaction of their own."""
        if self._captured and self._captured[-1] is not None:
            self._captured.append(None)
            self.remember(self._forget_capture)

    @contextmanager
    def capture_paused(self) -> Iterator[None]:
        """Write without capturing changes (seeding, loading or restoring an org)."""
        with self.lock:
            self._capture_paused += 1
            try:
                yield
            finally:
                self._capture_paused -= 1

    # -- transactions ----------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Savepoint]:
        """Group writes: journaled together at the end, or not at all when rolled back.

        An exception rolls the group back and propagates; ``savepoint.rollback()`` rolls it
        back without one. The lock is held throughout, so no other thread sees the group
        half done. Inside another transaction this is a savepoint of it.
        """
        with self.lock:
            outer = self._undo is None
            if outer:
                self.flush()
                self._undo = []
            assert self._undo is not None
            savepoint = Savepoint(self, len(self._undo), outer=outer)
            try:
                yield savepoint
            except BaseException:
                savepoint.rollback()
                raise
            finally:
                if outer:
                    self._undo = None
                    self.flush()

    def remember(self, undo: Callable[[], None]) -> None:
        """Record how to undo a change, when a transaction is open (subclasses' own state too)."""
        if self._undo is not None:
            self._undo.append(undo)

    def undo_to(self, mark: int, *, outer: bool) -> None:
        """Undo the open transaction's changes after position ``mark`` of its log, newest first."""
        log = self._undo
        if log is None:
            return
        while len(log) > mark:
            log.pop()()
        if outer:
            # The transaction began with an empty dirty set: nothing of it may be journaled.
            self._dirty.clear()

    def _unadd(self, object_name: str, record_id: str) -> None:
        row = self._rows[object_name].pop(record_id)
        self._index_refs(row, add=False)
        if not row.get("IsDeleted"):
            self._index_keys(row, add=False)
        self._dirty.pop(record_id, None)

    def _restore(self, row: Row, cells: list[Any]) -> None:
        self._index_refs(row, add=False)
        if not row.get("IsDeleted"):
            self._index_keys(row, add=False)
        row.cells[:] = cells
        self._index_refs(row, add=True)
        if not row.get("IsDeleted"):
            self._index_keys(row, add=True)

    def clear(self) -> None:
        """Remove every record and restart the id sequences."""
        for rows in self._rows.values():
            rows.clear()
        self._refs.clear()
        self._keys.clear()
        self._dirty.clear()
        self._captured.clear()
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
