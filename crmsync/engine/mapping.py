"""CRM values -> platform values, typed by the platform column, and a fingerprint of them."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from crmsync import jsontext
from crmsync.engine.conflicts import number_text
from crmsync.errors import RecordError
from crmsync.model.profile import ObjectMapping
from crmsync.store.types import UTCDateTime

# Values _canonical() returns unchanged (most CRM values): asked first, they skip a call.
_AS_IS = frozenset({str, bool, type(None)})


def to_platform(value: Any, column: sa.Column[Any], *, crm_field: str) -> Any:
    """Convert one CRM value to what ``column`` stores; RecordError says which field is wrong."""
    if value is None:
        return None
    kind = column.type
    try:
        if isinstance(kind, UTCDateTime):
            return parse_crm_datetime(str(value))
        if isinstance(kind, sa.Date):
            return date.fromisoformat(str(value)[:10])
        if isinstance(kind, sa.Boolean):
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "false"):
                return str(value).lower() == "true"
            raise ValueError
        if isinstance(kind, sa.Integer):
            number = Decimal(str(value))
            if number != number.to_integral_value():
                raise ValueError
            return int(number)
        if isinstance(kind, sa.Numeric):
            return Decimal(str(value))
        if isinstance(kind, sa.String):
            text = str(value)
            length = kind.length
            if length is not None and len(text) > length:
                raise RecordError(
                    f"{crm_field} is {len(text)} characters long; the platform column {column.name} "
                    f"holds at most {length}. Shorten the value in the CRM or widen the column",
                    code="VALUE_TOO_LONG",
                    fields=(crm_field,),
                )
            return text
    except (ValueError, InvalidOperation):
        raise RecordError(
            f"{crm_field} has the value {value!r}, which is not a valid {type(kind).__name__.lower()} "
            f"for the platform column {column.name}",
            code="INVALID_VALUE",
            fields=(crm_field,),
        ) from None
    return value


def parse_crm_datetime(text: str) -> datetime:
    """Parse Salesforce's ``2024-01-31T12:00:00.000+0000`` (or ISO 8601) into aware UTC."""
    cleaned = text.replace("Z", "+00:00")
    if len(cleaned) >= 5 and cleaned[-5] in "+-" and cleaned[-3] != ":":
        cleaned = f"{cleaned[:-2]}:{cleaned[-2:]}"
    moment = datetime.fromisoformat(cleaned)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class Pulled:
    """How one mapping's CRM values become platform values, worked out once for many records.

    A page applies thousands of records of one mapping; looking up its pulled fields and
    their columns per record cost more than converting the values.
    """

    def __init__(self, mapping: ObjectMapping, table: sa.Table) -> None:
        self._fields = [
            (f.column, f.crm, table.c[f.column], _text_limit(table.c[f.column]))
            for f in mapping.pulled_fields()
        ]
        self._crm_fields = [f.crm for f in mapping.pulled_fields()]
        self._lookups = [lookup.crm for lookup in mapping.lookups]

    def values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Platform column values of the fields that flow from the CRM."""
        # None, and text that fits a text column, are what to_platform would return: most
        # values of a record skip the call.
        return {
            column_name: value
            if (value := values.get(crm)) is None or (type(value) is str and len(value) <= limit)
            else to_platform(value, column, crm_field=crm)
            for column_name, crm, column, limit in self._fields
        }

    def fingerprint(self, values: Mapping[str, Any]) -> str:
        """A hash of the mapped CRM values (fields and lookups), to skip unchanged re-reads and echoes."""
        picked = {
            crm: value if type(value := values.get(crm)) in _AS_IS else _canonical(value)
            for crm in self._crm_fields
        }
        picked.update({crm: values.get(crm) for crm in self._lookups})
        return hashlib.blake2b(jsontext.canonical(picked), digest_size=16).hexdigest()


def _text_limit(column: sa.Column[Any]) -> int:
    """The longest str to_platform returns unchanged for ``column``; -1 if it converts every value."""
    kind = column.type
    if not isinstance(kind, sa.String) or isinstance(
        kind, UTCDateTime | sa.Date | sa.Boolean | sa.Integer | sa.Numeric
    ):
        return -1
    return kind.length if kind.length is not None else sys.maxsize


def _canonical(value: Any) -> Any:
    # 10, 10.0 and "10.00" are the same amount; hash them alike.
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float | Decimal):
        return number_text(value)
    return value
