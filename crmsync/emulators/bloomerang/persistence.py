"""Optional state file: the database's records and id sequences in SQLite, written through.

Without a state file the emulator lives in memory. With one, it loads the file on start and
commits every write as it happens (all records of one API call in one SQLite transaction),
so a restarted emulator carries on where it stopped. Access tokens, faults and settings are
not kept: clients authenticate again, as after a restart of any service.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from .store import KINDS, SEQUENCE_STARTS, Record, Store

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    id INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


class SqliteState:
    """A SQLite file holding one database; implements the store's ``Journal`` protocol."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        # The server thread writes and the test thread may read; every use holds _lock.
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._db.close()

    def save(
        self, upserts: list[tuple[str, Record]], deletes: list[tuple[str, int]], sequences: dict[str, int]
    ) -> None:
        """Write one commit: changed records, removed records and the id sequences."""
        rows = [(kind, int(record["Id"]), _dumps(record)) for kind, record in upserts]
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(
                    "INSERT INTO records (kind, id, data) VALUES (?, ?, ?) "
                    "ON CONFLICT(kind, id) DO UPDATE SET data = excluded.data",
                    rows,
                )
                self._db.executemany("DELETE FROM records WHERE kind = ? AND id = ?", deletes)
                self._put_meta("sequences", sequences)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def clear(self) -> None:
        """Delete every record and the id sequences."""
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM records")
            self._db.execute("DELETE FROM meta WHERE key = 'sequences'")
            self._db.execute("COMMIT")

    def get_meta(self, key: str) -> Any:
        """The JSON value stored under ``key``, or None."""
        with self._lock:
            found = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if found is None else json.loads(found[0])

    def records(self) -> list[tuple[str, Record]]:
        """Every stored record as (kind, record), by kind and id."""
        with self._lock:
            stored = self._db.execute("SELECT kind, data FROM records ORDER BY kind, id").fetchall()
        return [(kind, json.loads(data)) for kind, data in stored]

    def _put_meta(self, key: str, value: Any) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value)),
        )


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
