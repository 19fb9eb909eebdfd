"""Field kinds, and the checked, normalised value a WHERE literal compares with."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any

from crmsync.catalogs import FieldDef

from .dates import date_literal, datetime_literal
from .errors import INVALID_QUERY_FILTER_OPERATOR, MALFORMED_QUERY, error_at, wrong_value_type
from .lexer import Kind as TokenKind
from .lexer import decode_string
from .nodes import DateLiteral, Value


class Kind(enum.Enum):
    """How values of a field compare; several describe types share one kind."""

    TEXT = "text"  # case-insensitive, "" is null
    ID = "id"  # 18-character ids, compared exactly
    MULTI = "multi"  # "a;b;c", compared as a set
    BOOL = "bool"
    NUMBER = "number"
    DATE = "date"  # "YYYY-MM-DD"
    DATETIME = "datetime"  # "YYYY-MM-DDTHH:MM:SS.mmm+0000"


_KIND_OF_TYPE = {
    "id": Kind.ID,
    "reference": Kind.ID,
    "string": Kind.TEXT,
    "textarea": Kind.TEXT,
    "picklist": Kind.TEXT,
    "email": Kind.TEXT,
    "phone": Kind.TEXT,
    "url": Kind.TEXT,
    "multipicklist": Kind.MULTI,
    "boolean": Kind.BOOL,
    "int": Kind.NUMBER,
    "double": Kind.NUMBER,
    "currency": Kind.NUMBER,
    "percent": Kind.NUMBER,
    "date": Kind.DATE,
    "datetime": Kind.DATETIME,
}
# The SOAP type Salesforce names in "must be of type X" messages.
_SOAP_TYPE = {
    "boolean": "boolean",
    "int": "int",
    "double": "double",
    "currency": "double",
    "percent": "double",
    "date": "date",
    "datetime": "dateTime",
}
# Long text areas cannot be filtered or sorted; a short (<= 255) textarea can.
_MAX_FILTERABLE_TEXTAREA = 255
_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?\Z")
_ID_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def kind_of(field: FieldDef) -> Kind:
    """The comparison kind of a catalog field."""
    return _KIND_OF_TYPE[field.type]


def soap_type(field: FieldDef) -> str:
    """The type name Salesforce uses for the field in filter error messages."""
    return _SOAP_TYPE.get(field.type, "string")


def is_long_text(field: FieldDef) -> bool:
    """A long or rich text area, which Salesforce will neither filter nor sort on."""
    return field.type == "textarea" and field.length > _MAX_FILTERABLE_TEXTAREA


@dataclass(frozen=True, slots=True)
class DateRange:
    """A relative date literal, resolved to concrete bounds only when a query runs."""

    name: str
    n: int | None


def id18(value: str) -> str:
    """The 18-character form of a 15- or 18-character Salesforce id."""
    if len(value) == 18:
        return value
    suffix = ""
    for chunk in range(3):
        bits = 0
        for index, char in enumerate(value[chunk * 5 : chunk * 5 + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << index
        suffix += _ID_SUFFIX_ALPHABET[bits]
    return value + suffix


def operand(field: FieldDef, field_pos: int, value: Value, text: str) -> Any:
    """The normalised value ``value`` stands for when compared with ``field``, or None for null.

    TEXT gives the decoded string (case folding is the comparison's business), ID an 18-char id,
    MULTI a frozenset of case-folded values, DATE and DATETIME canonical strings, relative date
    literals a DateRange. Raises SoqlError when the literal's type does not suit the field.
    """
    kind = kind_of(field)
    if isinstance(value, DateLiteral):
        if kind in (Kind.DATE, Kind.DATETIME):
            return DateRange(value.name, value.n)
        raise wrong_value_type(text, field_pos, field.name, soap_type(field))
    token = value.token
    if token.keyword == "NULL":
        return None
    wanted = {
        Kind.TEXT: TokenKind.STRING,
        Kind.ID: TokenKind.STRING,
        Kind.MULTI: TokenKind.STRING,
        Kind.NUMBER: TokenKind.NUMBER,
        Kind.DATE: TokenKind.DATE,
        Kind.DATETIME: TokenKind.DATETIME,
        Kind.BOOL: TokenKind.IDENT,
    }[kind]
    if token.kind is not wanted:
        raise wrong_value_type(text, field_pos, field.name, soap_type(field))
    if kind is Kind.BOOL:
        return token.keyword == "TRUE"
    if kind is Kind.NUMBER:
        return float(token.text) if "." in token.text else int(token.text)
    if kind in (Kind.DATE, Kind.DATETIME):
        try:
            return date_literal(token.text) if kind is Kind.DATE else datetime_literal(token.text)
        except ValueError:
            raise error_at(MALFORMED_QUERY, text, token.pos, f"invalid date: {token.text}") from None
    decoded = decode_string(token)
    if not decoded:
        return None  # Salesforce stores no empty strings: '' means null
    if kind is Kind.MULTI:
        return frozenset(part.strip().casefold() for part in decoded.split(";") if part.strip())
    if kind is Kind.ID:
        if _ID.match(decoded) is None:
            raise error_at(INVALID_QUERY_FILTER_OPERATOR, text, token.pos, f"invalid ID field: {decoded}")
        return id18(decoded)
    return decoded
