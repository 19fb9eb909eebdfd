"""Which fields of an object a change event carries, and how it names and writes them.

Salesforce's change events (CometD's JSON form) leave out ``Id`` (it is in ``recordIds``),
``IsDeleted``, ``SystemModstamp`` and formula fields; nest compound fields (a contact's or
lead's ``Name`` holds ``FirstName``, ``LastName``, ...; ``MailingAddress`` holds ``Street``,
``City``, ...), listing a changed component as ``MailingAddress.City``; and write dateTimes
as ``2024-01-02T03:04:05.000Z``. The emulator treats every calculated field as a formula.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from crmsync.catalogs import ObjectDef

EXCLUDED = frozenset({"Id", "IsDeleted", "SystemModstamp"})
NAME_PARTS = ("Salutation", "FirstName", "MiddleName", "LastName", "Suffix", "InformalName")
ADDRESS_PREFIXES = ("Billing", "Shipping", "Mailing", "Other", "")
ADDRESS_PARTS = (
    "Street",
    "City",
    "State",
    "PostalCode",
    "Country",
    "StateCode",
    "CountryCode",
    "Latitude",
    "Longitude",
    "GeocodeAccuracy",
)


def cdc_datetime(value: str) -> str:
    """A stored dateTime (``...000+0000``) as change events write it (``...000Z``)."""
    return value[:-5] + "Z" if value.endswith("+0000") else value


def channel_of(obj: ObjectDef) -> str:
    """The CometD channel of one object's change events."""
    if obj.name.endswith("__c"):
        return f"/data/{obj.name[:-3]}__ChangeEvent"
    return f"/data/{obj.name}ChangeEvent"


@dataclass
class EventShape:
    """How one object's records appear in its change events."""

    object_name: str
    names: tuple[str, ...]
    # Positions (in a row's cells) of the fields events carry, in field order.
    positions: tuple[int, ...]
    # Field -> (compound field, component) for the parts of compound fields.
    compound: dict[str, tuple[str, str]] = field(default_factory=dict)
    datetimes: frozenset[str] = frozenset()
    schema: str = ""

    @classmethod
    def of(cls, obj: ObjectDef) -> EventShape:
        """The shape of ``obj``'s change events."""
        names = tuple(obj.fields)
        compound: dict[str, tuple[str, str]] = {}
        person_name = "LastName" in obj.fields and _is_calculated(obj, "Name")
        if person_name:
            compound.update({part: ("Name", part) for part in NAME_PARTS if part in obj.fields})
        for prefix in ADDRESS_PREFIXES:
            if not _standard(obj, f"{prefix}Street") and not _standard(obj, f"{prefix}City"):
                continue
            for part in ADDRESS_PARTS:
                if _standard(obj, prefix + part):
                    compound[prefix + part] = (f"{prefix}Address", part)
        carried = [
            position
            for position, name in enumerate(names)
            if name not in EXCLUDED and (name in compound or not obj.fields[name].calculated)
        ]
        datetimes = frozenset(name for name, fdef in obj.fields.items() if fdef.type == "datetime")
        digest = hashlib.sha256(("\n".join([obj.name, *(names[p] for p in carried)])).encode()).digest()
        schema = base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")
        return cls(obj.name, names, tuple(carried), compound, datetimes, schema)

    def label(self, name: str) -> str:
        """The field's name in ``changedFields``/``nulledFields``: ``Phone`` or ``Name.LastName``."""
        parent = self.compound.get(name)
        return f"{parent[0]}.{parent[1]}" if parent else name

    def value(self, name: str, value: Any) -> Any:
        """A stored value as the event writes it."""
        if value is not None and name in self.datetimes:
            return cdc_datetime(value)
        return value

    def body(self, cells: tuple[Any, ...], names: Iterable[str] | None = None) -> dict[str, Any]:
        """The event body of ``cells``: the given fields (with nulls), or every non-null one."""
        wanted = None if names is None else set(names)
        body: dict[str, Any] = {}
        for position in self.positions:
            name = self.names[position]
            value = cells[position]
            if wanted is None and value is None:
                continue
            if wanted is not None and name not in wanted:
                continue
            parent = self.compound.get(name)
            if parent is None:
                body[name] = self.value(name, value)
            else:
                body.setdefault(parent[0], {})[parent[1]] = self.value(name, value)
        return body

    def changed(self, before: tuple[Any, ...], after: tuple[Any, ...], written: frozenset[str]) -> list[str]:
        """Fields an update changed, in field order; ``LastModifiedDate`` whenever a user wrote."""
        changed = []
        for position in self.positions:
            name = self.names[position]
            if before[position] != after[position] or (name == "LastModifiedDate" and name in written):
                changed.append(name)
        return changed


def _standard(obj: ObjectDef, name: str) -> bool:
    fdef = obj.fields.get(name)
    return fdef is not None and not fdef.custom


def _is_calculated(obj: ObjectDef, name: str) -> bool:
    fdef = obj.fields.get(name)
    return fdef is not None and fdef.calculated
