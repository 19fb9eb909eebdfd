"""Checking a client's field values the way Salesforce does, in Salesforce's order.

Parse-time problems come first (unknown field, ``Id`` in the body, read-only field, wrong
JSON type), then the DML checks (required fields, references, unique values).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from crmsync.catalogs import FieldDef, ObjectDef

from .errors import ApiError, bad_request
from .store import RecordStore
from .unique_keys import check_membership
from .values import coerce

# create/update: a client through the API or the screen; system: an automation, which may
# write read-only fields such as rollups; load: a data file, which may also set audit fields.
Mode = Literal["create", "update", "system", "load"]

AUDIT_FIELDS = frozenset(
    {
        "Id",
        "IsDeleted",
        "CreatedDate",
        "CreatedById",
        "LastModifiedDate",
        "LastModifiedById",
        "SystemModstamp",
        "MasterRecordId",
    }
)
_READ_ONLY_MESSAGE = (
    "Unable to create/update fields: {names}. Please check the security settings of this field "
    "and verify that it is read/write for your profile or permission set."
)


def prepare(store: RecordStore, obj: ObjectDef, body: Any, mode: Mode) -> dict[str, Any]:
    """Canonical, coerced changes from ``body``; raises the first error Salesforce would."""
    if not isinstance(body, Mapping):
        raise bad_request(
            "JSON_PARSER_ERROR",
            f"The request body for {obj.name} must be a JSON object of field names and values",
        )
    plain: list[tuple[FieldDef, Any]] = []
    nested: list[tuple[FieldDef, Mapping[str, Any]]] = []
    for key, value in body.items():
        if key == "attributes":
            continue
        fdef = obj.field(key)
        if fdef is None:
            relation = obj.relationship(key)
            if relation is not None and isinstance(value, Mapping):
                nested.append((relation, value))
                continue
            raise bad_request("INVALID_FIELD", f"No such column '{key}' on sobject of type {obj.name}", [key])
        plain.append((fdef, value))
    if any(fdef.name == "Id" for fdef, _ in plain) and mode != "load":
        raise bad_request("INVALID_FIELD", "The Id field should not be specified in the sobject data.")
    read_only = [fdef.name for fdef, _ in plain if not _writable(fdef, mode)]
    read_only += [fdef.name for fdef, _ in nested if not _writable(fdef, mode)]
    if read_only:
        raise bad_request(
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            _READ_ONLY_MESSAGE.format(names=", ".join(read_only)),
            read_only,
        )
    changes = {fdef.name: coerce(fdef, value) for fdef, value in plain}
    for fdef, reference in nested:
        changes[fdef.name] = resolve_foreign_key(store, fdef, reference)
    return changes


def _writable(fdef: FieldDef, mode: Mode) -> bool:
    if mode == "load":
        return True
    if mode == "system":
        return fdef.name not in AUDIT_FIELDS
    return fdef.createable if mode == "create" else fdef.updateable


def resolve_foreign_key(store: RecordStore, fdef: FieldDef, reference: Mapping[str, Any]) -> str:
    """The id named by ``{"Ext__c": value}`` given for a relationship (``"Account": {...}``)."""
    attributes = reference.get("attributes")
    target_name = fdef.reference_to[0] if fdef.reference_to else ""
    if isinstance(attributes, Mapping) and isinstance(attributes.get("type"), str):
        target_name = attributes["type"]
    target = store.catalog.object(target_name)
    keys = [key for key in reference if key != "attributes"]
    if target is None or target.name not in fdef.reference_to or len(keys) != 1:
        raise bad_request(
            "INVALID_FIELD",
            f"{fdef.relationship_name}: a related record must be named by exactly one external id "
            f"field of {' or '.join(fdef.reference_to)}",
            [fdef.name],
        )
    ext = target.field(keys[0])
    if ext is None or not (ext.external_id or ext.unique or ext.name == "Id"):
        raise bad_request(
            "INVALID_FIELD",
            f"Field {keys[0]} is not an external id field of {target.name}",
            [fdef.name],
        )
    value = reference[keys[0]]
    if ext.name == "Id":
        row = store.get(target.name, str(value))
        matches = [] if row is None or row["IsDeleted"] else [str(row["Id"])]
    else:
        matches = store.lookup(target.name, ext.name, value)
    if not matches:
        raise bad_request(
            "INVALID_FIELD",
            f"Foreign key external ID: {value} not found for field {ext.name} in entity {target.name}",
            [fdef.name],
        )
    if len(matches) > 1:
        raise bad_request(
            "DUPLICATE_EXTERNAL_ID",
            f"Foreign key external ID: {value} matched more than one record of {target.name}",
            [fdef.name],
        )
    return matches[0]


def check_required(obj: ObjectDef, values: Mapping[str, Any], names: Iterable[str] | None = None) -> None:
    """REQUIRED_FIELD_MISSING for required fields among ``names`` (all fields when None) left null."""
    candidates = obj.fields.values() if names is None else [obj.fields[n] for n in names]
    missing = [
        fdef.name
        for fdef in candidates
        if values.get(fdef.name) is None
        and not fdef.nillable
        and fdef.type != "boolean"
        and fdef.name not in AUDIT_FIELDS
        # A field no client can write (auto-numbers, formulas) is Salesforce's to fill.
        and (fdef.createable or fdef.updateable)
    ]
    if missing:
        raise bad_request(
            "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing
        )


def check_references(store: RecordStore, obj: ObjectDef, changes: Mapping[str, Any]) -> None:
    """INVALID_CROSS_REFERENCE_KEY unless every reference in ``changes`` names a live record of a
    type the field accepts."""
    for name, value in changes.items():
        fdef = obj.fields[name]
        if fdef.type != "reference" or value is None:
            continue
        target = store.find(value)
        if target is None or target["IsDeleted"] or target.layout.object_name not in fdef.reference_to:
            raise bad_request("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [name])
        if target.layout.object_name == "RecordType":
            sobject_type = target.get("SobjectType")
            if sobject_type is not None and sobject_type != obj.name:
                raise bad_request(
                    "INVALID_CROSS_REFERENCE_KEY",
                    f"{fdef.label}: this ID value isn't valid for the user: {value}",
                    [name],
                )


def check_unique(
    store: RecordStore,
    obj: ObjectDef,
    record_id: str | None,
    changes: Mapping[str, Any],
    record: Mapping[str, Any] | None = None,
) -> None:
    """DUPLICATE_VALUE when a unique field in ``changes`` already holds the value elsewhere, or
    when ``record`` (as it will be saved; ``changes`` when new) is a second campaign member."""
    for fdef in store.keyed_fields[obj.name]:
        value = changes.get(fdef.name)
        if not fdef.unique or value is None:
            continue
        others = [other for other in store.lookup(obj.name, fdef.name, value) if other != record_id]
        if others:
            raise bad_request(
                "DUPLICATE_VALUE",
                f"duplicate value found: {fdef.name} duplicates value on record with id: {others[0]}",
                [fdef.name],
            )
    check_membership(store, obj, record_id, changes, changes if record is None else record)


def assert_live(row: Any) -> None:
    """404 ENTITY_IS_DELETED for a row in the recycle bin."""
    if row["IsDeleted"]:
        raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
