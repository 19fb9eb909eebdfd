"""The emulated Bloomerang database: records per kind, id sequences, indexes, atomic writes.

Records are plain dicts keyed by their integer ``Id``, stored as written by the services
(never mutated in place: a write puts a new dict). Every write runs inside ``transaction()``:
a failure rolls back every record it touched, and a success is written through to the state
file in one commit. A few indexes answer "members of this household", "transactions of this
constituent" and the like without a scan; a small query cache keeps the ordered result of a
list query until the next write, so paging through 80,000 transactions costs one sort.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

from .clock import Clock

Record = dict[str, Any]

KINDS = (
    "Constituent",
    "Household",
    "Transaction",
    "Designation",
    "SoftCredit",
    "Fund",
    "Campaign",
    "Appeal",
    "EmailInterest",
    "CustomFieldCategory",
    "CustomField",
    "CustomValue",
)

# Constituents and households are both accounts in Bloomerang and share one id space (and
# the account numbers users see); other kinds have their own, far apart so that an id of
# one kind is never a valid id of another.
SEQUENCE_STARTS = {
    "account": 1_000_001,
    "transaction": 20_000_001,
    "designation": 40_000_001,
    "softcredit": 60_000_001,
    "contact": 80_000_001,
    "value": 90_000_001,
    "installment": 95_000_001,
    "fund": 1_001,
    "campaign": 2_001,
    "appeal": 3_001,
    "interest": 4_001,
    "field": 5_001,
    "category": 6_001,
    "account_number": 1,
    "transaction_number": 1,
    "designation_number": 1,
}

# name -> (kind, field): the ids of ``kind`` records by the value of ``field``.
INDEXES = {
    "household_members": ("Constituent", "HouseholdId"),
    "account_transactions": ("Transaction", "AccountId"),
    "transaction_designations": ("Designation", "TransactionId"),
    "designation_softcredits": ("SoftCredit", "DesignationId"),
    "account_softcredits": ("SoftCredit", "AccountId"),
    "pledge_payments": ("Designation", "PledgeId"),
    "recurring_payments": ("Designation", "RecurringDonationId"),
}
_CACHE_ENTRIES = 64


class Journal(Protocol):
    """Where committed writes go (the SQLite state file)."""

    def save(
        self, upserts: list[tuple[str, Record]], deletes: list[tuple[str, int]], sequences: dict[str, int]
    ) -> None:
        """Write one commit."""

    def clear(self) -> None:
        """Forget every record."""


class Store:
    """Every record of one emulated database; hold ``lock`` for multi-step work."""

    def __init__(self, clock: Clock | None = None, journal: Journal | None = None) -> None:
        self.lock = threading.RLock()
        self.clock = clock or Clock()
        self.journal = journal
        self.tables: dict[str, dict[int, Record]] = {kind: {} for kind in KINDS}
        self.sequences: dict[str, int] = dict(SEQUENCE_STARTS)
        self.indexes: dict[str, dict[int, set[int]]] = {name: {} for name in INDEXES}
        self._by_kind: dict[str, list[tuple[str, str]]] = {}
        for name, (kind, field) in INDEXES.items():
            self._by_kind.setdefault(kind, []).append((name, field))
        self.version = 0
        self._depth = 0
        self._undo: list[tuple[str, int, Record | None]] = []
        self._touched: set[tuple[str, int]] = set()
        self._dirty: dict[tuple[str, int], bool] = {}  # key -> still present
        self._cache: dict[tuple[Any, ...], tuple[frozenset[str], Any]] = {}

    # -- reading ---------------------------------------------------------------------------

    def get(self, kind: str, record_id: int) -> Record | None:
        """The stored record (do not mutate it), or None."""
        return self.tables[kind].get(record_id)

    def count(self, kind: str) -> int:
        """How many records of ``kind`` there are."""
        return len(self.tables[kind])

    def total(self) -> int:
        """How many records there are of every kind."""
        return sum(len(table) for table in self.tables.values())

    def related(self, index: str, key: int | None) -> list[int]:
        """Ids of the records indexed under ``key``, ascending."""
        if key is None:
            return []
        return sorted(self.indexes[index].get(key, ()))

    def cached(self, key: tuple[Any, ...], compute: Callable[[], Any], kinds: tuple[str, ...]) -> Any:
        """``compute()``, remembered until the next write of a record of one of ``kinds``."""
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) >= _CACHE_ENTRIES:
                self._cache.clear()
            found = self._cache[key] = (frozenset(kinds), compute())
        return found[1]

    # -- writing ---------------------------------------------------------------------------

    def next_id(self, sequence: str) -> int:
        """The next value of ``sequence`` (consumed even if the write later rolls back)."""
        value = self.sequences[sequence]
        self.sequences[sequence] = value + 1
        return value

    def reserve(self, sequence: str, used: int) -> None:
        """Make sure ``sequence`` never hands out ``used`` (a loaded or restored id)."""
        if self.sequences[sequence] <= used:
            self.sequences[sequence] = used + 1

    def put(self, kind: str, record: Record) -> Record:
        """Insert or replace ``record`` (by its ``Id``)."""
        with self.transaction():
            record_id = int(record["Id"])
            old = self.tables[kind].get(record_id)
            self._remember(kind, record_id, old)
            self._forget(kind)
            self._reindex(kind, record_id, old, record)
            self.tables[kind][record_id] = record
            self._dirty[(kind, record_id)] = True
        return record

    def delete(self, kind: str, record_id: int) -> bool:
        """Remove a record; False when there was none."""
        with self.transaction():
            old = self.tables[kind].get(record_id)
            if old is None:
                return False
            self._remember(kind, record_id, old)
            self._forget(kind)
            self._reindex(kind, record_id, old, None)
            del self.tables[kind][record_id]
            self._dirty[(kind, record_id)] = False
        return True

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside succeed together (and reach the state file) or none do."""
        with self.lock:
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self._rollback()
                raise
            self._depth -= 1
            if self._depth == 0:
                self._commit()

    def clear(self) -> None:
        """Remove every record and restart the id sequences."""
        with self.lock:
            for table in self.tables.values():
                table.clear()
            for index in self.indexes.values():
                index.clear()
            self.sequences = dict(SEQUENCE_STARTS)
            self.version += 1
            self._cache.clear()
            if self.journal is not None:
                self.journal.clear()

    def load_raw(self, kind: str, record: Record) -> None:
        """Add a stored record as it is (restoring a state file): no journal, no undo."""
        record_id = int(record["Id"])
        self._reindex(kind, record_id, self.tables[kind].get(record_id), record)
        self.tables[kind][record_id] = record

    # -- internals -------------------------------------------------------------------------

    def _remember(self, kind: str, record_id: int, old: Record | None) -> None:
        key = (kind, record_id)
        if key not in self._touched:
            self._touched.add(key)
            self._undo.append((kind, record_id, copy.deepcopy(old)))
        self.version += 1

    def _forget(self, kind: str) -> None:
        """Drop the cached results that depend on records of ``kind``."""
        if self._cache:
            stale = [key for key, (kinds, _) in self._cache.items() if kind in kinds]
            for key in stale:
                del self._cache[key]

    def _reindex(self, kind: str, record_id: int, old: Record | None, new: Record | None) -> None:
        for name, field in self._by_kind.get(kind, ()):
            index = self.indexes[name]
            before = old.get(field) if old is not None else None
            after = new.get(field) if new is not None else None
            if before == after:
                continue
            if before is not None:
                members = index.get(before)
                if members is not None:
                    members.discard(record_id)
                    if not members:
                        del index[before]
            if after is not None:
                index.setdefault(after, set()).add(record_id)

    def _rollback(self) -> None:
        for kind, record_id, old in reversed(self._undo):
            current = self.tables[kind].get(record_id)
            self._reindex(kind, record_id, current, old)
            if old is None:
                self.tables[kind].pop(record_id, None)
            else:
                self.tables[kind][record_id] = old
        self._reset_transaction()
        self.version += 1
        self._cache.clear()

    def _commit(self) -> None:
        if self.journal is not None and self._dirty:
            upserts = [(kind, self.tables[kind][rid]) for (kind, rid), alive in self._dirty.items() if alive]
            deletes = [key for key, alive in self._dirty.items() if not alive]
            self.journal.save(upserts, deletes, dict(self.sequences))
        self._reset_transaction()

    def _reset_transaction(self) -> None:
        self._undo.clear()
        self._touched.clear()
        self._dirty.clear()

    def snapshot_counts(self) -> Mapping[str, int]:
        """Record counts per kind."""
        return {kind: len(table) for kind, table in self.tables.items()}
