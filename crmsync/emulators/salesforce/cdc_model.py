"""The two shapes Change Data Capture moves between the record store and the event bus.

``CapturedChange``: one write of one record inside a transaction, as the store saw it (the
record's values before and after, and which fields the write set). ``ChangeEvent``: one
change event on the bus, with its replay id, as subscribers receive it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class CapturedChange:
    """One write of one record: its values before (None for a new record) and after."""

    object_name: str
    record_id: str
    before: tuple[Any, ...] | None
    after: tuple[Any, ...]
    # The fields the write set, even to their old value (a user save always sets LastModifiedDate).
    written: frozenset[str]
    origin: str


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One change event on the bus: ``payload`` holds the ChangeEventHeader and the fields."""

    replay_id: int
    entity: str
    commit_ms: int
    schema: str
    payload: dict[str, Any]

    @property
    def header(self) -> dict[str, Any]:
        """The event's ChangeEventHeader."""
        header: dict[str, Any] = self.payload["ChangeEventHeader"]
        return header

    def data(self) -> dict[str, Any]:
        """The ``data`` of the Bayeux message that delivers this event."""
        return {"schema": self.schema, "payload": self.payload, "event": {"replayId": self.replay_id}}

    def to_json(self) -> str:
        """The event as stored in the state file."""
        return json.dumps(
            {
                "entity": self.entity,
                "commit_ms": self.commit_ms,
                "schema": self.schema,
                "payload": self.payload,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, replay_id: int, text: str) -> ChangeEvent:
        """An event read back from the state file."""
        stored = json.loads(text)
        return cls(replay_id, stored["entity"], int(stored["commit_ms"]), stored["schema"], stored["payload"])
