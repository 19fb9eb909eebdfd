"""Loading a data file: ``{"Contact": [{"Id": "003...", "LastName": "Doe", ...}], ...}``.

Ids are kept (15-character ids are extended), audit fields are honoured when given and
filled in otherwise, and references are checked only once the whole file has been read, so
records may appear in any order. Nothing is stored unless the whole file is valid; every
problem is reported with its object, record and field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crmsync.catalogs import ObjectDef

from .errors import ApiError
from .ids import normalize_id
from .org import Org
from .store import key_of
from .unique_keys import (
    ALREADY_A_MEMBER,
    CAMPAIGN_MEMBER,
    MemberKey,
    derive_keys,
    member_keys,
    other_member,
)
from .validation import check_required, prepare

MAX_REPORTED = 100


@dataclass
class LoadProblem:
    """One thing wrong with a data file."""

    object: str
    record: str
    field: str | None
    error_code: str
    message: str

    def to_json(self) -> dict[str, Any]:
        """The problem as the control API reports it."""
        return {
            "object": self.object,
            "record": self.record,
            "field": self.field,
            "errorCode": self.error_code,
            "message": self.message,
        }


class LoadError(Exception):
    """A data file that cannot be loaded; ``problems`` says why."""

    def __init__(self, problems: list[LoadProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the data file; first: {problems[0].message}")
        self.problems = problems


@dataclass
class _Pending:
    obj: ObjectDef
    label: str
    values: dict[str, Any]


def load_document(org: Org, document: Any) -> dict[str, int]:
    """Validate ``document`` and add all its records to ``org``; returns counts per object."""
    problems: list[LoadProblem] = []
    if not isinstance(document, Mapping):
        raise LoadError(
            [LoadProblem("", "", None, "JSON_PARSER_ERROR", "a data file is a JSON object of lists")]
        )
    # A data file sets up the org: loading it makes no change events.
    with org.lock, org.capture_paused():
        pending = _read(org, document, problems)
        if not problems:
            _check_references(org, pending, problems)
            _check_unique(org, pending, problems)
        if problems:
            raise LoadError(problems[:MAX_REPORTED])
        now = org.clock.stamp()
        counts: dict[str, int] = {}
        for item in pending:
            values = item.values
            values.setdefault("CreatedDate", now)
            values.setdefault("CreatedById", org.user_id)
            values.setdefault("LastModifiedDate", values["CreatedDate"])
            values.setdefault("LastModifiedById", values["CreatedById"])
            values.setdefault("SystemModstamp", max(values["LastModifiedDate"], values["CreatedDate"]))
            org.add_complete(item.obj.name, {k: v for k, v in values.items() if k in item.obj.fields})
            counts[item.obj.name] = counts.get(item.obj.name, 0) + 1
        org.flush()
        return counts


def _reserve_ids(org: Org, document: Mapping[str, Any]) -> None:
    """Move the id sequences past every id the file gives, so ids minted for the rest differ."""
    for records in document.values():
        for record in records if isinstance(records, list) else ():
            raw_id = record.get("Id") if isinstance(record, Mapping) else None
            record_id = normalize_id(raw_id) if isinstance(raw_id, str) else None
            if record_id is not None:
                org.sequences.observe(record_id)


def _read(org: Org, document: Mapping[str, Any], problems: list[LoadProblem]) -> list[_Pending]:
    pending: list[_Pending] = []
    seen: set[str] = set()
    _reserve_ids(org, document)
    for object_name, records in document.items():
        obj = org.catalog.object(object_name)
        if obj is None:
            problems.append(
                LoadProblem(object_name, "", None, "INVALID_TYPE", f"no object {object_name} in the org")
            )
            continue
        if not isinstance(records, list):
            problems.append(
                LoadProblem(obj.name, "", None, "JSON_PARSER_ERROR", "records must be a JSON list")
            )
            continue
        for position, record in enumerate(records, start=1):
            label = f"#{position}"
            if not isinstance(record, Mapping):
                problems.append(
                    LoadProblem(obj.name, label, None, "JSON_PARSER_ERROR", "a record must be an object")
                )
                continue
            raw_id = record.get("Id")
            record_id = normalize_id(raw_id) if isinstance(raw_id, str) else None
            if raw_id is not None and (record_id is None or record_id[:3] != obj.key_prefix):
                problems.append(
                    LoadProblem(
                        obj.name,
                        label,
                        "Id",
                        "MALFORMED_ID",
                        f"{raw_id!r} is not a {obj.name} id "
                        f"(15 or 18 characters starting with {obj.key_prefix})",
                    )
                )
                continue
            record_id = record_id or org.sequences.mint(obj.key_prefix)
            label = f"{label} ({record_id})"
            if record_id in seen or org.find(record_id) is not None:
                problems.append(
                    LoadProblem(obj.name, label, "Id", "DUPLICATE_VALUE", f"id {record_id} is used twice")
                )
                continue
            seen.add(record_id)
            try:
                values = prepare(org, obj, {k: v for k, v in record.items() if k != "Id"}, "load")
                values["Id"] = record_id
                # Keys the org's flow derives are checked for uniqueness with the file's values.
                derive_keys(obj, values, values)
                # Defaults and auto-numbers are filled when the record is stored; checked here.
                check_required(obj, org.fill_new(obj, values))
            except ApiError as error:
                field = error.fields[0] if error.fields else None
                problems.append(LoadProblem(obj.name, label, field, error.error_code, error.message))
                continue
            pending.append(_Pending(obj, label, values))
    return pending


def _check_references(org: Org, pending: list[_Pending], problems: list[LoadProblem]) -> None:
    in_file = {item.values["Id"]: item for item in pending}
    for item in pending:
        for name, target_id in item.values.items():
            fdef = item.obj.fields[name]
            if fdef.type != "reference" or target_id is None:
                continue
            target = in_file.get(target_id)
            target_object = target.obj.name if target else None
            target_deleted = bool(target.values.get("IsDeleted")) if target else False
            if target is None:
                row = org.find(target_id)
                target_object = row.layout.object_name if row is not None else None
                target_deleted = bool(row["IsDeleted"]) if row is not None else False
            if target_object is None or target_object not in fdef.reference_to:
                expected = " or ".join(fdef.reference_to)
                message = f"{name} = {target_id} is not the id of a {expected} in the file or org"
                problems.append(
                    LoadProblem(item.obj.name, item.label, name, "INVALID_CROSS_REFERENCE_KEY", message)
                )
            elif target_deleted and not item.values.get("IsDeleted") and name != "MasterRecordId":
                message = f"{name} = {target_id} points at a deleted record"
                problems.append(
                    LoadProblem(item.obj.name, item.label, name, "INVALID_CROSS_REFERENCE_KEY", message)
                )


def _check_unique(org: Org, pending: list[_Pending], problems: list[LoadProblem]) -> None:
    taken: dict[tuple[str, str, str], str] = {}
    members: dict[MemberKey, str] = {}
    for item in pending:
        if item.values.get("IsDeleted"):
            continue
        for fdef in org.keyed_fields[item.obj.name]:
            value = item.values.get(fdef.name)
            if not fdef.unique or value is None:
                continue
            key = (item.obj.name, fdef.name, key_of(value))
            holder = taken.get(key) or next(iter(org.lookup(item.obj.name, fdef.name, value)), None)
            if holder is not None:
                message = f"duplicate value found: {fdef.name} duplicates value on record with id: {holder}"
                problems.append(LoadProblem(item.obj.name, item.label, fdef.name, "DUPLICATE_VALUE", message))
            else:
                taken[key] = item.values["Id"]
        _check_members(org, item, members, problems)


def _check_members(
    org: Org, item: _Pending, members: dict[MemberKey, str], problems: list[LoadProblem]
) -> None:
    if item.obj.name != CAMPAIGN_MEMBER:
        return
    for key in member_keys(item.values):
        holder = members.get(key) or other_member(org, key, item.values["Id"])
        if holder is not None:
            message = f"{ALREADY_A_MEMBER} ({key[1]} {key[2]} of campaign {key[0]} is member {holder})"
            problems.append(LoadProblem(item.obj.name, item.label, key[1], "DUPLICATE_VALUE", message))
        else:
            members[key] = item.values["Id"]
