"""Salesforce query rows -> CrmRecord: nested parents flattened to ``Parent.Field`` keys."""

from __future__ import annotations

from typing import Any

from crmsync.connectors.base import CrmRecord


def to_record(raw: dict[str, Any], modstamp_field: str, select: list[str]) -> CrmRecord:
    values: dict[str, Any] = {}
    _flatten(raw, "", values)
    # Every selected field is a key. A null parent arrives as one null ("Account": null):
    # its selected fields (Account.Name) become None and the bare relationship key goes.
    present = {key.casefold() for key in values}
    for name in select:
        if name.casefold() not in present:
            values[name] = None
    parents = _relationships(select)
    for key in [k for k, v in values.items() if v is None and k.casefold() in parents]:
        del values[key]
    return CrmRecord(
        id=str(values["Id"]),
        modstamp=values.get(modstamp_field),
        values=values,
        deleted=bool(values.get("IsDeleted", False)),
        master_id=values.get("MasterRecordId"),
    )


def _relationships(select: list[str]) -> set[str]:
    """The relationship paths of the selected fields, case-folded: Account.Owner.Name gives
    account and account.owner."""
    paths: set[str] = set()
    for name in select:
        parts = name.casefold().split(".")
        paths.update(".".join(parts[:i]) for i in range(1, len(parts)))
    return paths


def _flatten(raw: dict[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for key, value in raw.items():
        if key == "attributes":
            continue
        if isinstance(value, dict) and "attributes" in value:
            _flatten(value, f"{prefix}{key}.", out)
        else:
            out[prefix + key] = value
