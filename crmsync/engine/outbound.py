"""Platform rows -> CRM field values for a push: typing, the profile's filter, create defaults."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from crmsync.model.profile import Condition, ObjectMapping

PLATFORM_ID_FIELD = "Platform_Id__c"


def platform_key(platform_type: str, platform_id: int) -> str:
    """The platform id written onto the CRM record: unique across types sharing a CRM object."""
    return f"{platform_type}:{platform_id}"


def to_crm(value: Any) -> Any:
    """A platform value as CRM JSON (dates ISO, instants in UTC, amounts as numbers)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, str):
        # Salesforce keeps text trimmed (and rejects " a@b.org " as an email): send it trimmed.
        return value.strip()
    return value


def lookup_parent(mapping: ObjectMapping, crm_field: str, row: Mapping[str, Any]) -> tuple[str, int] | None:
    """(platform type, id) of the parent a lookup points to in ``row``, or None."""
    for lookup in mapping.lookups:
        if lookup.crm != crm_field:
            continue
        for target in lookup.targets:
            value = row.get(target.column)
            if value is not None:
                return target.type, int(value)
    return None


def filter_problem(mapping: ObjectMapping, row: Mapping[str, Any]) -> str | None:
    """Why ``row`` does not meet the mapping's filter, or None when it does.

    Conditions on parent paths (``RecordType.DeveloperName``) are met by the create
    defaults instead; conditions on lookups test whether the lookup is set.
    """
    for cond in mapping.filter:
        if "." in cond.field:
            continue
        value = _platform_value(mapping, cond.field, row)
        if value is _UNMAPPED:
            continue
        if not _holds(cond, to_crm(value)):
            shown = "null" if cond.value is None else repr(cond.value)
            return f"it does not meet the {mapping.label_text} filter ({cond.field} {cond.op} {shown})"
    return None


def equality_defaults(mapping: ObjectMapping) -> list[Condition]:
    """Filter conditions that a new record can be made to satisfy by setting a value."""
    return [c for c in mapping.filter if c.op == "=" and c.value is not None]


_UNMAPPED = object()


def _platform_value(mapping: ObjectMapping, crm_field: str, row: Mapping[str, Any]) -> Any:
    for fmap in mapping.fields:
        if fmap.crm == crm_field:
            return row.get(fmap.column)
    for lookup in mapping.lookups:
        if lookup.crm == crm_field:
            return next((row.get(c) for c in lookup.columns if row.get(c) is not None), None)
    return _UNMAPPED


def _holds(cond: Condition, value: Any) -> bool:
    expected = cond.value
    if cond.op in ("in", "not in"):
        assert isinstance(expected, tuple)
        inside = value in expected
        return inside if cond.op == "in" else not inside
    if cond.op == "=":
        return bool(value == expected)
    if cond.op == "!=":
        return bool(value != expected)
    if value is None or expected is None or cond.op == "like":
        # Ordering against null is false in SOQL; LIKE is left to the CRM.
        return cond.op == "like"
    try:
        if cond.op == "<":
            return bool(value < expected)
        if cond.op == "<=":
            return bool(value <= expected)
        if cond.op == ">":
            return bool(value > expected)
        return bool(value >= expected)
    except TypeError:
        return False
