"""Salesforce query rows -> CrmRecord: nested parents flattened to ``Parent.Field`` keys."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from crmsync.connectors.base import CrmRecord


class RecordShape:
    """How the rows of one query become CrmRecords, worked out once for all its rows.

    A query answers thousands of rows with the same selected fields; what depends only on
    them (the relationship paths) was recomputed per row and cost more than the row itself.
    """

    def __init__(self, modstamp_field: str, select: Sequence[str]) -> None:
        self._modstamp_field = modstamp_field
        self._select = tuple(select)
        self._selected = frozenset(select)
        self._parents = frozenset(_relationships(select))

    def record(self, raw: dict[str, Any]) -> CrmRecord:
        """The CrmRecord of one query row; the row (decoded JSON, used once) becomes its values."""
        values = raw
        values.pop("attributes", None)
        # A set parent arrives as a nested object (with its own "attributes"): flatten the
        # row then. Rows are decoded JSON, so any object in them is a plain dict.
        if dict in map(type, values.values()):
            values = {}
            _flatten(raw, "", values)
        # Every selected field is a key. A null parent arrives as one null ("Account": null):
        # its selected fields (Account.Name) become None and the bare relationship key goes.
        # Names compare case-folded, but Salesforce answers with the names as selected unless
        # the select spelled one differently or a parent is null: only then fold them.
        if not self._selected <= values.keys():
            missing = [name for name in self._select if name not in values]
            present = {key.casefold() for key in values}
            for name in missing:
                if name.casefold() not in present:
                    values[name] = None
        if self._parents:
            for key in [k for k, v in values.items() if v is None and k.casefold() in self._parents]:
                del values[key]
        return CrmRecord(
            id=str(values["Id"]),
            modstamp=values.get(self._modstamp_field),
            values=values,
            deleted=bool(values.get("IsDeleted", False)),
            master_id=values.get("MasterRecordId"),
        )


def _relationships(select: Sequence[str]) -> set[str]:
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
