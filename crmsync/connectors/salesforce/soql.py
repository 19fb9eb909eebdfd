"""Building SOQL from structured conditions, with values typed and escaped by field type."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from crmsync.connectors.base import ObjectInfo, ReadRequest
from crmsync.errors import ConfigError
from crmsync.model.profile import Condition

# SOQL string literal escapes (the documented set); every other control character has
# no escape and cannot appear in a query at all.
_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
_LIKE_ESCAPE = re.compile(r"(\\[%_])")
_UNSAYABLE = re.compile(r"[\x00-\x07\x0b\x0e-\x1f\x7f]")
_STRINGISH = {
    "string",
    "textarea",
    "picklist",
    "multipicklist",
    "email",
    "phone",
    "url",
    "id",
    "reference",
    "combobox",
}
_NUMERIC = {"int", "double", "currency", "percent"}
_SF_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,3})?(Z|[+-]\d{2}:?\d{2})$")


def quote(value: str, *, where: str) -> str:
    """A SOQL string literal for ``value``; ConfigError if it holds an unsayable character."""
    bad = _UNSAYABLE.search(value)
    if bad:
        raise ConfigError(
            f"{where}: the value {value!r} contains the control character U+{ord(bad.group()):04X}, "
            "which a SOQL query cannot express; remove it from the filter"
        )
    return "'" + "".join(_ESCAPES.get(ch, ch) for ch in value) + "'"


def like_pattern(value: str, *, where: str) -> str:
    """A SOQL LIKE literal: ``%`` and ``_`` are wildcards, ``\\%`` and ``\\_`` the characters themselves."""
    parts = _LIKE_ESCAPE.split(value)
    # The odd parts are the escapes themselves, which SOQL spells the same way.
    return (
        "'" + "".join(part if i % 2 else quote(part, where=where)[1:-1] for i, part in enumerate(parts)) + "'"
    )


def literal(value: Any, field_type: str | None, *, where: str) -> str:
    """The SOQL literal of ``value`` for a field of ``field_type`` (None: infer from the value)."""
    if value is None:
        return "null"
    kind = field_type or _infer(value)
    if kind == "boolean":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower()
        raise ConfigError(f"{where}: {value!r} is not a boolean (use true or false)")
    if kind in _NUMERIC:
        return _number(value, kind, where=where)
    if kind == "date":
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ConfigError(f"{where}: {value!r} is not a date (write YYYY-MM-DD)") from None
    if kind == "datetime":
        return datetime_literal(value, where=where)
    return quote(str(value), where=where)


def _number(value: Any, kind: str, *, where: str) -> str:
    # Decimal, not float: SOQL has no exponent notation (1e+20), and big integers must stay exact.
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ConfigError(f"{where}: {value!r} is not a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ConfigError(f"{where}: {value!r} is not a number") from None
    if not number.is_finite():
        raise ConfigError(f"{where}: {value!r} is not a finite number")
    if kind == "int" and number == number.to_integral_value():
        return str(int(number))
    return format(number, "f")


def datetime_literal(value: Any, *, where: str) -> str:
    """A SOQL dateTime literal (UTC, ``Z``) from a datetime or an ISO/Salesforce timestamp."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value)
        match = _SF_DATETIME.match(text)
        if match is None:
            raise ConfigError(f"{where}: {value!r} is not a date-time (write 2024-01-31T12:00:00Z)")
        zone = match.group(3)
        zone = "+00:00" if zone == "Z" else f"{zone[:3]}:{zone[-2:]}"
        try:
            moment = datetime.fromisoformat(match.group(1) + (match.group(2) or "") + zone)
        except ValueError:
            # The right shape with impossible parts: month 13, hour 25, offset +99:00.
            raise ConfigError(f"{where}: {value!r} is not a valid date-time") from None
    if moment.tzinfo is None:
        raise ConfigError(f"{where}: {value!r} has no time zone; add Z for UTC")
    moment = moment.astimezone(UTC)
    millis = moment.microsecond // 1000
    base = moment.replace(tzinfo=None, microsecond=0).isoformat()
    return f"{base}.{millis:03d}Z" if millis else f"{base}Z"


def shift(timestamp: str, delta: timedelta) -> datetime:
    """A Salesforce timestamp moved by ``delta``, as an aware datetime."""
    literal_text = datetime_literal(timestamp, where="cursor")
    return datetime.fromisoformat(literal_text.replace("Z", "+00:00")) + delta


def _infer(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "double"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    return "string"


_OPS = {
    "=": "=",
    "!=": "!=",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
    "like": "LIKE",
    "in": "IN",
    "not in": "NOT IN",
}


def condition(cond: Condition, info: ObjectInfo | None, *, where: str) -> str:
    """One WHERE condition; the value is typed by the field's live description."""
    field = info.field(cond.field) if info is not None and "." not in cond.field else None
    field_type = field.type if field is not None else None
    place = f"{where}, filter on {cond.field}"
    if cond.op in ("in", "not in"):
        assert isinstance(cond.value, tuple)
        if not cond.value:
            raise ConfigError(f"{place}: {cond.op} needs at least one value")
        values = ", ".join(literal(v, field_type, where=place) for v in cond.value)
        return f"{cond.field} {_OPS[cond.op]} ({values})"
    if cond.value is None and cond.op not in ("=", "!="):
        raise ConfigError(f"{place}: only = and != can compare with null")
    if cond.op == "like" and isinstance(cond.value, str):
        return f"{cond.field} LIKE {like_pattern(cond.value, where=place)}"
    return f"{cond.field} {_OPS[cond.op]} {literal(cond.value, field_type, where=place)}"


def read_query(request: ReadRequest, info: ObjectInfo | None, *, select: list[str], where: str) -> str:
    """The SOQL of a read: filters, cursor bound, (modstamp, Id) order."""
    clauses = [condition(c, info, where=where) for c in request.conditions]
    stamp = request.modstamp_field
    if request.ids is not None:
        clauses.append("Id IN (" + ", ".join(quote(i, where=where) for i in request.ids) + ")")
    # With ids too: a read by ids that resumes after an expired query cursor needs the bound.
    if request.after is not None:
        value, last_id = request.after
        if request.lookback:
            since = datetime_literal(shift(value, -request.lookback), where=where)
            clauses.append(f"{stamp} >= {since}")
        else:
            mark = datetime_literal(value, where=where)
            clauses.append(f"({stamp} > {mark} OR ({stamp} = {mark} AND Id > {quote(last_id, where=where)}))")
    soql = f"SELECT {', '.join(select)} FROM {request.object}"
    if clauses:
        soql += " WHERE " + " AND ".join(clauses)
    return soql + f" ORDER BY {stamp} ASC, Id ASC"
