"""Optional state file: the org's records, id sequences, API usage and change events in
SQLite, written through.

Without a state file the emulator lives in memory. With one, it loads the file on start and
commits every change as it happens (a transaction's rows and change events together), so a
restarted emulator carries on where it stopped, and a subscriber can resume with its stored
replay id (access tokens and streaming clients excepted: clients log in and handshake again,
as after a Salesforce session timeout).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from crmsync.emulators.common.statefile import StateFile

from .cdc_model import ChangeEvent
from .ids import IdSequences
from .org import Org
from .records import Row

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY,
    object TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cdc_events (
    replay_id INTEGER PRIMARY KEY,
    data TEXT NOT NULL
);
"""


class SqliteState(StateFile):
    """A SQLite file holding one org; implements the store's ``Journal`` protocol."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path, _SCHEMA)

    # -- Journal ---------------------------------------------------------------------------

    def save(
        self, rows: Iterable[Row], sequences: Mapping[str, int], events: Sequence[ChangeEvent] = ()
    ) -> None:
        """Write ``rows``, the id sequences and the change events of a commit in one transaction."""
        payload = [
            (
                row["Id"],
                row.layout.object_name,
                json.dumps(row.to_dict(skip_none=True), separators=(",", ":")),
            )
            for row in rows
        ]
        with self._transaction():
            self._db.executemany(
                "INSERT INTO records (id, object, data) VALUES (?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET object = excluded.object, data = excluded.data",
                payload,
            )
            self._put_meta("sequences", dict(sequences))
            self._insert_events(events)

    # -- change events ---------------------------------------------------------------------

    def save_events(self, events: Sequence[ChangeEvent]) -> None:
        """Write change events (and the last replay id) in one transaction."""
        with self._transaction():
            self._insert_events(events)

    def load_events(self) -> list[ChangeEvent]:
        """Every stored change event, oldest first."""
        stored = self._select("SELECT replay_id, data FROM cdc_events ORDER BY replay_id")
        return [ChangeEvent.from_json(int(replay_id), data) for replay_id, data in stored]

    def delete_events(self, through_replay_id: int) -> None:
        """Forget the change events up to ``through_replay_id`` (expired, or the org was reset)."""
        with self._transaction():
            self._db.execute("DELETE FROM cdc_events WHERE replay_id <= ?", (through_replay_id,))

    def _insert_events(self, events: Sequence[ChangeEvent]) -> None:
        if not events:
            return
        self._db.executemany(
            "INSERT OR REPLACE INTO cdc_events (replay_id, data) VALUES (?, ?)",
            [(event.replay_id, event.to_json()) for event in events],
        )
        self._put_meta("cdc_last_replay_id", max(event.replay_id for event in events))

    # -- other state -----------------------------------------------------------------------

    def records(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every stored record as (object name, field values), in insertion order."""
        for object_name, data in self._select("SELECT object, data FROM records ORDER BY rowid"):
            yield object_name, json.loads(data)


def restore(org: Org, state: SqliteState) -> int:
    """Load every record of ``state`` into the empty ``org``; returns how many were loaded.

    Restored rows are not changes: nothing of them is captured for Change Data Capture.
    """
    journal, org.journal = org.journal, None
    loaded = 0
    try:
        with org.capture_paused():
            for object_name, values in state.records():
                layout = org.layouts.get(object_name)
                # A record of an object the catalog no longer has is left in the file, unused.
                if layout is not None:
                    # Stored rows are complete (unset fields were null), so no defaults apply.
                    org.add(object_name, {k: v for k, v in values.items() if k in layout.index})
                    loaded += 1
            org.flush()
    finally:
        org.journal = journal
    saved = state.get_meta("sequences") or {}
    current = org.sequences.state()
    org.sequences = IdSequences(
        {prefix: max(current.get(prefix, 1), int(saved.get(prefix, 1))) for prefix in {*current, *saved}}
    )
    return loaded
