"""Change events of one committed transaction, from the writes the store captured.

Rules (Salesforce's, as documented for CometD's JSON events, with the emulator's choices
marked):

- One event per record per transaction, with the data committed at its end. Its type is the
  net effect (emulator's reading of "one event for the initial change type"): a new record
  is CREATE (nothing when it was also deleted), a record deleted is DELETE, one restored
  from the recycle bin is UNDELETE, any other is UPDATE.
- CREATE and UNDELETE carry every non-null field; UPDATE only the changed fields (nulls
  included, ``LastModifiedDate`` whenever a user saved); DELETE none. ``changedFields`` is
  filled for UPDATE only, ``nulledFields`` lists fields set to null, ``diffFields`` stays
  empty. An UPDATE that changed nothing an event carries (only ``SystemModstamp``) is no event.
- Events of the same change (same object, type, origin and body) on several records merge
  into one event listing every record in ``recordIds`` (unless merging is switched off).
- Beyond ``overflow_after`` records in one transaction, the rest get no events; one
  ``GAP_OVERFLOW`` event per object stands for them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .cdc_model import CapturedChange
from .cdc_shapes import EventShape

IS_DELETED = "IsDeleted"


@dataclass
class Draft:
    """An event of a transaction before the bus numbers it."""

    entity: str
    change_type: str
    record_ids: list[str]
    origin: str
    body: dict[str, Any]
    changed: list[str]
    nulled: list[str]

    def signature(self) -> str:
        """What two drafts must share to merge into one event."""
        return json.dumps(
            [self.entity, self.change_type, self.origin, self.body, self.changed, self.nulled],
            sort_keys=True,
            default=str,
        )

    def header(self) -> dict[str, Any]:
        """The ChangeEventHeader fields this draft decides (the bus adds the rest)."""
        return {
            "entityName": self.entity,
            "recordIds": list(self.record_ids),
            "changeType": self.change_type,
            "changeOrigin": self.origin,
        }


def gap_draft(entity: str, change_type: str, record_ids: Sequence[str], origin: str = "") -> Draft:
    """A header-only gap or overflow event."""
    return Draft(entity, change_type, list(record_ids), origin, {}, [], [])


def drafts_of(
    captured: Sequence[CapturedChange],
    shapes: Mapping[str, EventShape],
    *,
    merge: bool,
    overflow_after: int,
) -> list[Draft]:
    """The events of one transaction, in the order its records were first written."""
    firsts: dict[tuple[str, str], CapturedChange] = {}
    lasts: dict[tuple[str, str], CapturedChange] = {}
    written: dict[tuple[str, str], set[str]] = {}
    for change in captured:
        key = (change.object_name, change.record_id)
        firsts.setdefault(key, change)
        lasts[key] = change
        written.setdefault(key, set()).update(change.written)
    drafts: list[Draft] = []
    overflowed: dict[str, str] = {}
    for key, first in firsts.items():
        shape = shapes[first.object_name]
        draft = _draft(shape, first, lasts[key], frozenset(written[key]))
        if draft is None:
            continue
        if len(drafts) >= overflow_after:
            overflowed.setdefault(draft.entity, draft.origin)
            continue
        drafts.append(draft)
    if merge:
        drafts = _merged(drafts)
    drafts.extend(gap_draft(entity, "GAP_OVERFLOW", [], origin) for entity, origin in overflowed.items())
    return drafts


def _draft(
    shape: EventShape, first: CapturedChange, last: CapturedChange, written: frozenset[str]
) -> Draft | None:
    deleted_at = shape.names.index(IS_DELETED)
    before, after = first.before, last.after
    deleted_after = bool(after[deleted_at])
    record_id = first.record_id

    def draft(change_type: str, body: dict[str, Any], changed: list[str], nulled: list[str]) -> Draft:
        return Draft(shape.object_name, change_type, [record_id], first.origin, body, changed, nulled)

    if before is None:
        return None if deleted_after else draft("CREATE", shape.body(after), [], [])
    deleted_before = bool(before[deleted_at])
    if deleted_before and deleted_after:
        return None
    if deleted_after:
        return draft("DELETE", {}, [], [])
    if deleted_before:
        return draft("UNDELETE", shape.body(after), [], [])
    changed = shape.changed(before, after, written)
    if not changed:
        return None
    nulled = [shape.label(name) for name in changed if after[shape.names.index(name)] is None]
    return draft("UPDATE", shape.body(after, changed), [shape.label(name) for name in changed], nulled)


def _merged(drafts: list[Draft]) -> list[Draft]:
    """Drafts with the same change on several records as one draft (each record appears once)."""
    merged: list[Draft] = []
    by_signature: dict[str, Draft] = {}
    for draft in drafts:
        signature = draft.signature()
        earlier = by_signature.get(signature)
        if earlier is None:
            by_signature[signature] = draft
            merged.append(draft)
        else:
            earlier.record_ids.extend(draft.record_ids)
    return merged
