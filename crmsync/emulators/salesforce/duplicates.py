"""Duplicate rules: a create or update whose match fields equal another live record's is refused.

Values are compared trimmed and in any case; a record with a blank match field matches
nothing (like a matching rule that does not match blanks). Actions:

- ``block``: always refused, 400 DUPLICATES_DETECTED with ``allowSave`` false;
- ``alert`` (Salesforce's "Allow" with an alert): a user in the screen saves past it, and so
  does an API client sending ``Sforce-Duplicate-Rule-Header: allowSave=true``; other API
  writes are refused with ``allowSave`` true, as Salesforce does;
- ``allow``: saved, nothing reported.

The answer is Salesforce's: ``[{"errorCode":"DUPLICATES_DETECTED","message",
"fields":[],"duplicateResult":{allowSave, duplicateRule, duplicateRuleEntityType,
errorMessage, matchResults:[{entityType, errors, matchEngine, matchRecords:[{
additionalInformation, fieldDiffs, matchConfidence, record:{attributes, Id}}], rule, size,
success}]}}]``; ``includeRecordDetails=true`` in the header puts every field in ``record``.
Matching scans the object's records (fine for the org sizes the emulator serves).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from crmsync.catalogs import Catalog, ObjectDef

from .context import WriteContext, rule_name, rule_object, rule_on
from .errors import ApiError
from .store import RecordStore

DUPLICATE_ACTIONS = ("block", "alert", "allow")
BLOCK_MESSAGE = "Use one of these records?"
ALERT_MESSAGE = "You're creating a duplicate record. We recommend you use an existing record instead."


@dataclass(frozen=True)
class DuplicateRule:
    """Records of ``object`` whose match fields hold the same values are duplicates."""

    name: str
    object: str
    match_fields: tuple[str, ...]
    action: str
    message: str
    matching_rule: str
    on: frozenset[str]
    source: dict[str, Any] = field(default_factory=dict)


def parse_duplicate_rule(catalog: Catalog, data: Any) -> DuplicateRule:
    """A duplicate rule from control-API JSON; ValueError says what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("a duplicate rule must be a JSON object")
    allowed = {"name", "object", "match_fields", "action", "message", "matching_rule", "on"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValueError(
            f"unknown duplicate rule keys: {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )
    obj = rule_object(catalog, data)
    names = data.get("match_fields")
    if not isinstance(names, list) or not names:
        raise ValueError("'match_fields' must be a non-empty list of field names")
    fields = []
    for name in names:
        fdef = obj.field(str(name))
        if fdef is None:
            raise ValueError(f"no field {name!r} on {obj.name}")
        fields.append(fdef.name)
    action = data.get("action", "block")
    if action not in DUPLICATE_ACTIONS:
        raise ValueError(f"'action' must be one of {', '.join(DUPLICATE_ACTIONS)}; got {action!r}")
    message = data.get("message") or (BLOCK_MESSAGE if action == "block" else ALERT_MESSAGE)
    matching_rule = data.get("matching_rule") or f"{obj.name}_Exact_Match_Rule"
    if not isinstance(message, str) or not isinstance(matching_rule, str):
        raise ValueError("'message' and 'matching_rule' must be strings")
    name = rule_name(data)
    return DuplicateRule(
        name, obj.name, tuple(fields), action, message, matching_rule, rule_on(data), dict(data)
    )


def _match_key(value: Any) -> str:
    return "" if value is None else str(value).strip().casefold()


def check_duplicates(
    rule: DuplicateRule,
    store: RecordStore,
    obj: ObjectDef,
    record_id: str | None,
    record: Mapping[str, Any],
    context: WriteContext,
) -> None:
    """DUPLICATES_DETECTED when ``rule`` refuses ``record`` (saved as ``record_id``, when known)."""
    if rule.action == "allow":
        return
    if rule.action == "alert" and (context.origin == "ui" or context.allow_duplicate_save):
        return
    keys = [_match_key(record.get(name)) for name in rule.match_fields]
    if not all(keys):
        return
    matches = [
        row
        for row in store.scan(obj.name)
        if not row["IsDeleted"]
        and row["Id"] != record_id
        and all(_match_key(row[name]) == key for name, key in zip(rule.match_fields, keys, strict=True))
    ]
    if matches:
        raise _duplicates_detected(rule, obj, matches, context)


def _duplicates_detected(
    rule: DuplicateRule, obj: ObjectDef, matches: list[Any], context: WriteContext
) -> ApiError:
    records = []
    for row in matches:
        url = f"/services/data/v{context.api_version}/sobjects/{obj.name}/{row['Id']}"
        record: dict[str, Any] = {"attributes": {"type": obj.name, "url": url}}
        record |= row.to_dict() if context.include_record_details else {"Id": row["Id"]}
        records.append(
            {"additionalInformation": [], "fieldDiffs": [], "matchConfidence": 100.0, "record": record}
        )
    result = {
        "allowSave": rule.action == "alert",
        "duplicateRule": rule.name,
        "duplicateRuleEntityType": obj.name,
        "errorMessage": rule.message,
        "matchResults": [
            {
                "entityType": obj.name,
                "errors": [],
                "matchEngine": "ExactMatchEngine",
                "matchRecords": records,
                "rule": rule.matching_rule,
                "size": len(records),
                "success": True,
            }
        ],
    }
    return ApiError(400, "DUPLICATES_DETECTED", rule.message, [], extra={"duplicateResult": result})
