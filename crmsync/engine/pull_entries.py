"""The log entries a pull writes for the records it applies: what happened, and what to fix."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from crmsync.connectors.base import CrmRecord
from crmsync.engine import merge_entries
from crmsync.engine.conflicts import Conflict, Undecided
from crmsync.errors import RecordError
from crmsync.model.profile import ObjectMapping
from crmsync.store.logs import LogEntry
from crmsync.store.retries import LEFT_OUT, PARENT_MISSING, Failure


def created(mapping: ObjectMapping, record: CrmRecord, platform_id: int) -> LogEntry:
    """A platform record created from ``record``."""
    same, columns = created_columns(mapping, [record.id], [platform_id])
    return LogEntry(**same, **{name: values[0] for name, values in columns.items()})


def created_columns(
    mapping: ObjectMapping, crm_ids: Sequence[str], platform_ids: Sequence[int]
) -> tuple[dict[str, Any], dict[str, Sequence[Any]]]:
    """The entries of platform records created from CRM records, column by column: the fields
    all share, and the others (a pull makes one per record it creates)."""
    # The words around the ids are made once.
    head, source = f"created {_noun(mapping.label_text)} ", f" from {mapping.object} "
    same = {
        "data_type": mapping.type,
        "action": "create",
        "direction": "pull",
        "status": "processed",
        "details": None,
    }
    made = zip(crm_ids, platform_ids, strict=True)
    messages = [f"{head}{made_id}{source}{crm_id}" for crm_id, made_id in made]
    return same, {"message": messages, "crm_id": crm_ids, "platform_id": platform_ids}


def updated(
    mapping: ObjectMapping,
    record: CrmRecord,
    platform_id: int,
    changed: dict[str, Any],
    *,
    matched_by: str | None,
) -> LogEntry:
    """A platform record updated from ``record`` (found through a matching rule, or its link)."""
    noun = _noun(mapping.label_text)
    how = f" (matched by {matched_by})" if matched_by else ""
    names = ", ".join(sorted(changed)) or "no fields"
    return LogEntry(
        data_type=mapping.type,
        action="update",
        direction="pull",
        status="processed",
        message=f"updated {noun} {platform_id} from {mapping.object} {record.id}{how}: {names}",
        crm_id=record.id,
        platform_id=platform_id,
        details={"changed": {k: _json(v) for k, v in changed.items()}},
    )


def conflict(mapping: ObjectMapping, record: CrmRecord, platform_id: int | None, found: Conflict) -> LogEntry:
    """A field both sides changed since the last sync, and whose value was kept."""
    return merge_entries.conflict(mapping, found, direction="pull", crm_id=record.id, platform_id=platform_id)


def undecided(
    mapping: ObjectMapping, record: CrmRecord, platform_id: int | None, found: Undecided
) -> LogEntry:
    """A field the pull could not merge: both sides keep their values."""
    return merge_entries.undecided(
        mapping, found, direction="pull", crm_id=record.id, platform_id=platform_id
    )


def restored(mapping: ObjectMapping, crm_id: str, platform_id: int) -> LogEntry:
    """An archived platform record linked again: its CRM record is back (undeleted)."""
    return LogEntry(
        data_type=mapping.type,
        action="update",
        direction="pull",
        status="processed",
        message=(
            f"restored {_noun(mapping.label_text)} {platform_id}: {mapping.object} {crm_id} is back in the "
            "CRM (undeleted), so its archived platform record is linked and synced again"
        ),
        crm_id=crm_id,
        platform_id=platform_id,
    )


def failure(mapping: ObjectMapping, record: CrmRecord, exc: RecordError) -> Failure:
    """A record that was not applied: the reason, and what to fix (a missing parent is a skip)."""
    waiting = exc.code == PARENT_MISSING
    entry = LogEntry(
        data_type=mapping.type,
        action="pull",
        direction="pull",
        status="skipped" if waiting else "error",
        message=exc.message,
        crm_id=record.id,
        details={"code": exc.code, "fields": list(exc.fields), **exc.details},
    )
    parent = exc.details.get("parent_id") if waiting else None
    return Failure(
        record.id, exc.code or "RECORD_ERROR", entry, str(parent) if parent else None, record.modstamp
    )


def left_out(mapping: ObjectMapping, record: CrmRecord, parent: str, reason: str) -> Failure:
    """A record that arrived but does not belong to its section, and why: noted once, not retried."""
    entry = LogEntry(
        data_type=mapping.type,
        action="pull",
        direction="pull",
        status="skipped",
        message=f"left out {mapping.object} {record.id}: {reason}",
        crm_id=record.id,
        details={"code": LEFT_OUT},
    )
    # Noted with the parent that keeps it out: should that parent come in, so does the record.
    return Failure(record.id, LEFT_OUT, entry, parent, record.modstamp)


@lru_cache(maxsize=256)
def _noun(label: str) -> str:
    return label.rstrip("s") if label.endswith("s") else label


def _json(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
