"""The log entries a field-by-field merge writes, the same for pulls and pushes.

A side whose own change gives way to the other's gets an entry that says which value won
and why; a field the merge could not decide gets an error entry, and both sides keep their
values.
"""

from __future__ import annotations

from typing import Literal

from crmsync.engine.conflicts import Conflict, Undecided, normalized
from crmsync.model.profile import ObjectMapping
from crmsync.store.logs import LogEntry
from crmsync.textcap import preview

Direction = Literal["pull", "push"]


def conflict(
    mapping: ObjectMapping,
    found: Conflict,
    *,
    direction: Direction,
    crm_id: str | None,
    platform_id: int | None,
) -> LogEntry:
    """A field both sides changed since the last sync (or a one-way field the other side edited)."""
    winner = "the CRM's" if found.winner == "crm" else "the platform's"
    return LogEntry(
        data_type=mapping.type,
        action="update",
        direction=direction,
        status="processed",
        message=(
            f"conflict on {mapping.label_text} {platform_id} field {found.column}: CRM "
            f"{preview(normalized(found.crm_value))}, platform {preview(normalized(found.platform_value))} "
            f"(last synced {preview(found.synced_value)}); kept {winner} value, {found.reason}"
        ),
        crm_id=crm_id,
        platform_id=platform_id,
        details={"conflict": found.as_details()},
    )


def undecided(
    mapping: ObjectMapping,
    found: Undecided,
    *,
    direction: Direction,
    crm_id: str | None,
    platform_id: int | None,
) -> LogEntry:
    """A field the merge could not decide: both sides keep their values."""
    return LogEntry(
        data_type=mapping.type,
        action="update",
        direction=direction,
        status="error",
        message=(
            f"field {found.column} of {mapping.label_text} {platform_id} ({mapping.object} {crm_id}) was not "
            f"merged: {found.reason}; both sides keep their values"
        ),
        crm_id=crm_id,
        platform_id=platform_id,
        details={"code": "MERGE_UNDECIDED", "column": found.column},
    )
