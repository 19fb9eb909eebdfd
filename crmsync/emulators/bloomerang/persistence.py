"""Optional state file: the database's records and id sequences in SQLite, written through.

Without a state file the emulator lives in memory. With one, it loads the file on start and
commits every write as it happens (all records of one API call in one SQLite transaction),
so a restarted emulator carries on where it stopped. Access tokens, faults and settings are
not kept: clients authenticate again, as after a restart of any service.
"""

from __future__ import annotations

import json
from pathlib import Path

from crmsync.emulators.common.statefile import StateFile

from .store import KINDS, SEQUENCE_STARTS, Record, Store

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    id INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
"""


class SqliteState(StateFile):
    """A SQLite file holding one database; implements the store's ``Journal`` protocol."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path, _SCHEMA)

    def save(
        self, upserts: list[tuple[str, Record]], deletes: list[tuple[str, int]], sequences: dict[str, int]
    ) -> None:
        """Write one commit: changed records, removed records and the id sequences."""
        rows = [(kind, int(record["Id"]), _dumps(record)) for kind, record in upserts]
        with self._transaction():
            self._db.executemany(
                "INSERT INTO records (kind, id, data) VALUES (?, ?, ?) "
                "ON CONFLICT(kind, id) DO UPDATE SET data = excluded.data",
                rows,
            )
            self._db.executemany("DELETE FROM records WHERE kind = ? AND id = ?", deletes)
            self._put_meta("sequences", sequences)

    def records(self) -> list[tuple[str, Record]]:
        """Every stored record as (kind, record), by kind and id."""
        return [
            (kind, json.loads(data))
            for kind, data in self._select("SELECT kind, data FROM records ORDER BY kind, id")
        ]


def _dumps(record: Record) -> str:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)


def restore(store: Store, state: SqliteState) -> int:
    """Load every record of ``state`` into the empty ``store``; returns how many were loaded."""
    loaded = 0
    with store.lock:
        for kind, record in state.records():
            # A record of a kind this version no longer knows stays in the file, unused.
            if kind in KINDS:
                store.load_raw(kind, record)
                loaded += 1
        saved = state.get_meta("sequences") or {}
        for name, start in SEQUENCE_STARTS.items():
            store.sequences[name] = max(start, int(saved.get(name, start)))
        store.version += 1
    return loaded
