"""What every write shares: audit stamps, references that must exist, and custom values.

Internal records keep Bloomerang's field names; the audit trail is kept as ``Created``,
``CreatedName``, ``Modified`` and ``ModifiedName`` (epoch seconds and user names) and shown
as ``AuditTrail``. Custom values are kept in their output shape,
``[{"FieldId", "Value": {"Id", "Value"}}]`` or ``[{"FieldId", "Values": [...]}]``.
"""

from __future__ import annotations

from typing import Any

from .errors import bad_request
from .store import Record, Store
from .values import Fields

# Who API writes are made as (the user who owns the API key), and who edits in the screen.
API_USER = "API Integration User"
SCREEN_USER = "Jordan Admin"


def stamp_new(store: Store, record: Record, actor: str, created: int | None = None) -> Record:
    """``record`` with a fresh audit trail (created and modified now, by ``actor``)."""
    moment = store.clock.now() if created is None else created
    record.update(Created=moment, CreatedName=actor, Modified=moment, ModifiedName=actor)
    return record


def touch(store: Store, kind: str, record_id: int, actor: str) -> Record | None:
    """Mark a record modified now by ``actor`` (its representation changed); None if gone."""
    old = store.get(kind, record_id)
    if old is None:
        return None
    return store.put(kind, {**old, "Modified": store.clock.now(), "ModifiedName": actor})


def existing(store: Store, kind: str, record_id: int | None, field: str) -> Record | None:
    """The record a body refers to, or 400 when the id names none."""
    if record_id is None:
        return None
    found = store.get(kind, record_id)
    if found is None:
        raise bad_request(f"The {field} {record_id} does not refer to an existing {kind.lower()}.")
    return found


def set_values(record: Record, fields: Fields, names: tuple[str, ...]) -> None:
    """Copy the given (present) plain text fields of ``fields`` onto ``record``."""
    for name in names:
        if name in fields:
            record[name] = fields.text(name)


def apply_custom_values(
    store: Store, current: list[dict[str, Any]], items: list[Fields], object_type: str
) -> list[dict[str, Any]]:
    """``current`` custom values with the assignments of a request applied.

    Freeform fields take ``Value`` (null clears), pick-one fields ``ValueId`` (null clears),
    pick-multiple fields ``ValueIds`` (empty clears); each field must exist for the object.
    """
    result = {entry["FieldId"]: entry for entry in current}
    for item in items:
        field_id = item.integer("FieldId", required=True)
        field = store.get("CustomField", field_id or 0)
        if field is None or field.get("ObjectType") != object_type:
            raise bad_request(f"The custom field {field_id} does not exist for {object_type} records.")
        assert field_id is not None
        if field["PickType"] == "Freeform":
            text = item.text("Value", max_length=4000)
            if text is None:
                result.pop(field_id, None)
            else:
                old = result.get(field_id, {}).get("Value", {})
                value_id = old.get("Id") or store.next_id("value")
                result[field_id] = {"FieldId": field_id, "Value": {"Id": value_id, "Value": text}}
        elif field["PickType"] == "PickOne":
            value_id = item.integer("ValueId")
            if value_id is None:
                result.pop(field_id, None)
            else:
                result[field_id] = {"FieldId": field_id, "Value": _pick(store, field_id, value_id)}
        else:
            value_ids = item.integers("ValueIds") or []
            if value_ids:
                picks = [_pick(store, field_id, value_id) for value_id in value_ids]
                result[field_id] = {"FieldId": field_id, "Values": picks}
            else:
                result.pop(field_id, None)
    return [result[key] for key in sorted(result)]


def _pick(store: Store, field_id: int, value_id: int) -> dict[str, Any]:
    value = store.get("CustomValue", value_id)
    if value is None or value["FieldId"] != field_id:
        raise bad_request(f"The custom value {value_id} is not a value of the custom field {field_id}.")
    return {"Id": value_id, "Value": value["Value"]}


def custom_value_text(record: Record, field_id: int) -> list[str]:
    """The text of ``record``'s value(s) for a custom field."""
    for entry in record.get("CustomValues") or ():
        if entry["FieldId"] == field_id:
            if "Value" in entry:
                return [str(entry["Value"]["Value"])]
            return [str(value["Value"]) for value in entry["Values"]]
    return []
