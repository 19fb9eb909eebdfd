"""CRM values -> platform values, typed by the platform column; their synced form and its digest."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Collection, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from crmsync import jsontext
from crmsync.connectors.stamps import parse_crm_datetime
from crmsync.engine.conflicts import normalized, number_text
from crmsync.errors import RecordError
from crmsync.model.profile import ObjectMapping
from crmsync.store.types import UTCDateTime
from crmsync.textcap import preview

Converter = Callable[[Any], Any]


def converter(column: sa.Column[Any], *, crm_field: str) -> Converter:
    """How a CRM value (not None) becomes what ``column`` stores; its RecordError says which field is wrong.

    Worked out once per column: a pull converts thousands of values of each.
    """
    convert = _unchecked(column, crm_field=crm_field)
    if convert is _as_is:
        return convert
    kind = column.type

    def checked(value: Any) -> Any:
        try:
            return convert(value)
        except (ValueError, InvalidOperation):
            raise RecordError(
                f"{crm_field} has the value {preview(value)}, which is not a valid "
                f"{type(kind).__name__.lower()} for the platform column {column.name}",
                code="INVALID_VALUE",
                fields=(crm_field,),
            ) from None

    return checked


def _unchecked(column: sa.Column[Any], *, crm_field: str) -> Converter:
    """:func:`converter`, but a value that does not convert raises ValueError or InvalidOperation."""
    kind = column.type
    convert: Converter
    if isinstance(kind, UTCDateTime):
        convert = _datetime
    elif isinstance(kind, sa.Date):
        convert = _date
    elif isinstance(kind, sa.Boolean):
        convert = _boolean
    elif isinstance(kind, sa.Integer):
        convert = _integer
    elif isinstance(kind, sa.Numeric):
        convert = _decimal
    elif isinstance(kind, sa.String):
        length = kind.length

        def convert(value: Any) -> str:
            text = str(value)
            if length is not None and len(text) > length:
                raise RecordError(
                    f"{crm_field} is {len(text)} characters long; the platform column {column.name} "
                    f"holds at most {length}. Shorten the value in the CRM or widen the column",
                    code="VALUE_TOO_LONG",
                    fields=(crm_field,),
                )
            return text

    else:
        convert = _as_is
    return convert


def _datetime(value: Any) -> datetime:
    return parse_crm_datetime(str(value))


def _date(value: Any) -> date:
    return date.fromisoformat(str(value)[:10])


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("true", "false"):
        return text == "true"
    raise ValueError(value)


def _integer(value: Any) -> int:
    number = Decimal(str(value))
    if number != number.to_integral_value():
        raise ValueError(value)
    return int(number)


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value))


def _as_is(value: Any) -> Any:
    return value


class Pulled:
    """How one mapping's CRM values become platform values, worked out once for many records.

    A page applies thousands of records of one mapping; looking up its pulled fields and
    their columns per record cost more than converting the values.
    """

    def __init__(self, mapping: ObjectMapping, table: sa.Table) -> None:
        pulled = mapping.pulled_fields()
        self._fields = [
            (f.column, f.crm, _unchecked(table.c[f.column], crm_field=f.crm), _text_limit(table.c[f.column]))
            for f in pulled
        ]
        # The same with errors that name the field: for a record whose values do not convert.
        self._checked = [
            (name, crm, converter(table.c[name], crm_field=crm), limit)
            for name, crm, _, limit in self._fields
        ]
        self._normalizers = [
            (f.column, normalize) for f in pulled if (normalize := _normalizer(table.c[f.column])) is not None
        ]
        # Lookup columns hold platform ids, far below the precision where number_text and str
        # part ways; str is the same text, made in C.
        self._normalizers += [(t.column, str) for lookup in mapping.lookups for t in lookup.targets]

    def values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Platform column values of the fields that flow from the CRM; RecordError names a field
        whose value does not convert."""
        try:
            return _converted(values, self._fields)
        except (ValueError, InvalidOperation):
            return _converted(values, self._checked)

    def synced(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """``conflicts.snapshot(values)`` of platform values from :meth:`values` with their lookups set.

        The columns' types say which values need normalizing (dates, numbers, lookup ids);
        the others are copied as they are.
        """
        synced = dict(values)
        for name, normalize in self._normalizers:
            value = synced.get(name)
            if value is not None:
                synced[name] = normalize(value)
        return synced


def compared_values(
    mapping: ObjectMapping, table: sa.Table, columns: Collection[str], values: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The CRM's values of the fields mapped to ``columns``, in the platform's types, and the
    columns whose value does not convert (with why): a merge leaves those undecided."""
    found: dict[str, Any] = {}
    unreadable: dict[str, str] = {}
    for fmap in mapping.fields:
        if fmap.column not in columns:
            continue
        value = values.get(fmap.crm)
        if value is None:
            found[fmap.column] = None
            continue
        try:
            found[fmap.column] = converter(table.c[fmap.column], crm_field=fmap.crm)(value)
        except RecordError as exc:
            unreadable[fmap.column] = exc.message
    return found, unreadable


def _converted(values: Mapping[str, Any], fields: list[tuple[str, str, Converter, int]]) -> dict[str, Any]:
    # None, and text that fits a text column, are what converting would return: most values
    # of a record skip the call.
    return {
        column_name: value
        if (value := values.get(crm)) is None or (type(value) is str and len(value) <= limit)
        else convert(value)
        for column_name, crm, convert, limit in fields
    }


def encoded(synced: Mapping[str, Any]) -> tuple[jsontext.Encoded, str]:
    """A record's synced values (:meth:`Pulled.synced`) as JSON text, and a hash of it; both are
    stored on its link.

    A record read again with the same modstamp is applied again only if its digest differs
    (two changes within one second). Equal amounts (10, 10.0, Decimal("10.00")) give equal
    digests: synced values are normalized. The text is the one hashed (keys sorted), so the
    link's JSON column needs no second encoding.
    """
    text = jsontext.canonical(synced)
    return jsontext.Encoded(text.decode()), hashlib.blake2b(text, digest_size=16).hexdigest()


def _normalizer(column: sa.Column[Any]) -> Converter | None:
    """What normalized() does to the values :meth:`Pulled.values` gives ``column``; None: nothing."""
    kind = column.type
    if isinstance(kind, UTCDateTime | sa.Date):
        return _iso
    if isinstance(kind, sa.Integer | sa.Numeric):
        return number_text
    if isinstance(kind, sa.Boolean | sa.String):
        return None
    return normalized


def _iso(value: date) -> str:
    return value.isoformat()


def _text_limit(column: sa.Column[Any]) -> int:
    """The longest str the converter returns unchanged for ``column``; -1 if it converts every value."""
    kind = column.type
    if not isinstance(kind, sa.String) or isinstance(
        kind, UTCDateTime | sa.Date | sa.Boolean | sa.Integer | sa.Numeric
    ):
        return -1
    return kind.length if kind.length is not None else sys.maxsize
