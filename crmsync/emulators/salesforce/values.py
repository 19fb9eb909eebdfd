"""Turning the JSON a client sends into stored field values, with Salesforce's type errors and
the limits it sets on values: text length (STRING_TOO_LONG), the digits of a number
(NUMBER_OUTSIDE_VALID_RANGE), e-mail addresses (INVALID_EMAIL_ADDRESS), restricted picklists
(INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST) and the range of dates (FIELD_INTEGRITY_EXCEPTION).

Stored values are JSON-ready: str for ids, references, text and picklists; bool; int;
float for double/currency/percent; ``YYYY-MM-DD`` dates; ``...T..:..:...mmm+0000`` UTC
dateTimes; ``a;b`` multipicklists. Salesforce stores an empty string as null.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from typing import Any

from crmsync.catalogs import FieldDef

from .clock import format_datetime, parse_datetime
from .errors import ApiError, bad_request
from .ids import normalize_id

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Deliberately simple: one @, no spaces, a dot in the domain; Salesforce rejects the same
# obvious mistakes (a missing @, a missing domain) with INVALID_EMAIL_ADDRESS.
_EMAIL = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$")
_NUMERIC = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$")

STRING_TYPES = frozenset({"string", "textarea", "picklist", "multipicklist", "email", "phone", "url"})
NUMBER_TYPES = frozenset({"double", "currency", "percent"})
_SOAP_NAMES = {"int": "int", "double": "double", "currency": "double", "percent": "double"}
# Salesforce stores dates from 1700-01-01 to 4000-12-31, and dateTimes from midnight UTC of
# the first to midnight UTC of the last.
EARLIEST_DATE = date(1700, 1, 1)
LATEST_DATE = date(4000, 12, 31)
EARLIEST_DATETIME = datetime(1700, 1, 1, tzinfo=UTC)
LATEST_DATETIME = datetime(4000, 12, 31, tzinfo=UTC)
# An int field is a 32-bit integer on the wire.
INT_RANGE = range(-(2**31), 2**31)


def _json_token(value: Any) -> str:
    if isinstance(value, bool):
        return "VALUE_TRUE" if value else "VALUE_FALSE"
    if isinstance(value, int):
        return "VALUE_NUMBER_INT"
    if isinstance(value, float):
        return "VALUE_NUMBER_FLOAT"
    if isinstance(value, dict):
        return "START_OBJECT"
    if isinstance(value, list):
        return "START_ARRAY"
    return "VALUE_STRING"


def _cannot_deserialize(fdef: FieldDef, type_name: str, value: Any) -> ApiError:
    shown = value if isinstance(value, str | int | float) else _json_token(value)
    return bad_request(
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {type_name} from {_json_token(value)} value {shown} "
        f"or request may be missing a required field (field {fdef.name})",
        [fdef.name],
    )


def coerce(fdef: FieldDef, value: Any) -> Any:
    """The stored form of ``value`` for field ``fdef``, or an ApiError saying what is wrong.

    References are only checked for shape here; whether they point at a live record of the
    right object is the org's business.
    """
    kind = fdef.type
    if value is None:
        return False if kind == "boolean" else None
    if kind == "boolean":
        return _coerce_boolean(fdef, value)
    if kind in ("id", "reference"):
        return _coerce_reference(fdef, value)
    if kind in STRING_TYPES:
        return _coerce_string(fdef, value)
    if kind == "int" or kind in NUMBER_TYPES:
        return _coerce_number(fdef, value)
    if kind == "date":
        return _coerce_date(fdef, value)
    if kind == "datetime":
        return _coerce_datetime(fdef, value)
    raise _cannot_deserialize(fdef, kind, value)


def _coerce_boolean(fdef: FieldDef, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _cannot_deserialize(fdef, "boolean", value)


def _coerce_reference(fdef: FieldDef, value: Any) -> str | None:
    if not isinstance(value, str):
        raise _cannot_deserialize(fdef, "id", value)
    if value == "":
        return None
    normalized = normalize_id(value)
    if normalized is None:
        raise bad_request("MALFORMED_ID", f"{fdef.label}: id value of incorrect type: {value}", [fdef.name])
    return normalized


def _coerce_string(fdef: FieldDef, value: Any) -> str | None:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int | float):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        raise _cannot_deserialize(fdef, "string", value)
    if text == "":
        return None
    if fdef.length and len(text) > fdef.length:
        raise bad_request(
            "STRING_TOO_LONG",
            f"{fdef.label}: data value too large: {text} (max length={fdef.length})",
            [fdef.name],
        )
    if fdef.type == "email" and not _EMAIL.match(text):
        raise bad_request(
            "INVALID_EMAIL_ADDRESS", f"{fdef.label}: invalid email address: {text}", [fdef.name]
        )
    if fdef.restricted_picklist:
        _check_restricted(fdef, text)
    return text


def _check_restricted(fdef: FieldDef, text: str) -> None:
    chosen = text.split(";") if fdef.type == "multipicklist" else [text]
    for value in chosen:
        if value not in fdef.picklist_values:
            raise bad_request(
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"{fdef.label}: bad value for restricted picklist field: {value}",
                [fdef.name],
            )


def _coerce_number(fdef: FieldDef, value: Any) -> int | float | None:
    type_name = _SOAP_NAMES.get(fdef.type, "double")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _cannot_deserialize(fdef, type_name, value)
    if isinstance(value, str):
        if value.strip() == "":
            return None
        if not _NUMERIC.match(value):
            raise _cannot_deserialize(fdef, type_name, value)
        number: float = float(value)
    else:
        number = float(value)
    if not math.isfinite(number):
        raise _cannot_deserialize(fdef, type_name, value)
    if fdef.type == "int":
        if number != int(number) or int(number) not in INT_RANGE:
            raise _cannot_deserialize(fdef, "int", value)
        result: int | float = int(number)
    else:
        result = round(number, fdef.scale) if fdef.scale else number
    integer_digits = fdef.precision - fdef.scale
    if fdef.precision and abs(number) >= 10**integer_digits:
        raise bad_request(
            "NUMBER_OUTSIDE_VALID_RANGE",
            f"{fdef.label}: value outside of valid range on numeric field: {value}",
            [fdef.name],
        )
    return result


def _coerce_date(fdef: FieldDef, value: Any) -> str:
    if isinstance(value, str) and _DATE.match(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            pass
        else:
            if not EARLIEST_DATE <= day <= LATEST_DATE:
                raise _out_of_range(fdef, value)
            return day.isoformat()
    raise _cannot_deserialize(fdef, "date", value)


def _coerce_datetime(fdef: FieldDef, value: Any) -> str:
    if isinstance(value, str):
        try:
            moment = parse_datetime(value)
        except OverflowError:
            # Year 1 or 9999 moved past the calendar's end by its offset: far out of range too.
            raise _out_of_range(fdef, value) from None
        except ValueError:
            pass
        else:
            if not EARLIEST_DATETIME <= moment <= LATEST_DATETIME:
                raise _out_of_range(fdef, value)
            return format_datetime(moment)
    raise _cannot_deserialize(fdef, "datetime", value)


def _out_of_range(fdef: FieldDef, value: str) -> ApiError:
    return bad_request("FIELD_INTEGRITY_EXCEPTION", f"{fdef.label}: invalid date: {value}", [fdef.name])


def default_for(fdef: FieldDef, today: date) -> Any:
    """The value a new record gets when ``fdef`` is not given."""
    default = fdef.default_value
    if fdef.type == "boolean":
        return bool(default) if isinstance(default, bool) else str(default).lower() == "true"
    if default is None:
        return None
    if isinstance(default, str) and default.replace(" ", "").lower() in ("today()", "today"):
        return today.isoformat() if fdef.type == "date" else None
    try:
        return coerce(fdef, default)
    except ApiError:
        # A catalog default Salesforce would evaluate as a formula; there is no engine here.
        return None
