"""An emulator's optional state file: a SQLite file written through, with a table of JSON values.

Each emulator's schema adds its tables: a ``records`` table (what :meth:`StateFile.clear`
empties) and whatever else it keeps.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_META = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


class StateFile:
    """A SQLite file shared by the server thread and the test thread; every use holds the lock."""

    def __init__(self, path: str | Path, schema: str) -> None:
        """Open (or create) ``path`` with the emulator's ``schema`` besides the meta table."""
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(schema + _META)

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._db.close()

    def clear(self) -> None:
        """Delete every record and the id sequences."""
        with self._transaction():
            self._db.execute("DELETE FROM records")
            self._db.execute("DELETE FROM meta WHERE key = 'sequences'")

    def put_meta(self, key: str, value: Any) -> None:
        """Store one JSON value under ``key``."""
        with self._transaction():
            self._put_meta(key, value)

    def get_meta(self, key: str) -> Any:
        """The JSON value stored under ``key``, or None."""
        with self._lock:
            found = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if found is None else json.loads(found[0])

    def _select(self, sql: str) -> list[Any]:
        with self._lock:
            return self._db.execute(sql).fetchall()

    def _put_meta(self, key: str, value: Any) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value)),
        )

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """The lock, and BEGIN ... COMMIT, or ROLLBACK when the block raises."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
