"""Form fields written by people: filter lines, field lists, KEY=FIELD mappings."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from crmsync.errors import ConfigError
from crmsync.model.profile import Condition

_CONDITION = re.compile(
    r"^\s*([\w.]+)\s+(not in|in|like|!=|<=|>=|=|<|>)\s*(.*?)\s*$|^\s*([\w.]+)\s*(!=|<=|>=|=|<|>)\s*(.*?)\s*$",
    re.IGNORECASE,
)
_LITERALS: dict[str, Any] = {"null": None, "true": True, "false": False}


def _value(raw: str) -> Any:
    text = raw.strip()
    if text.lower() in _LITERALS:
        return _LITERALS[text.lower()]
    return text.strip("'\"")


def parse_condition(line: str) -> Condition:
    """``MailingState = CA``, ``Status in Open, Working``, ``Email != null`` -> a Condition."""
    match = _CONDITION.match(line)
    if match is None:
        raise ConfigError(
            f"{line.strip()!r} is not FIELD OP VALUE (OP one of = != < <= > >= like in, not in)"
        )
    groups = match.groups()
    field, op, raw = groups[0:3] if groups[0] else groups[3:6]
    op = op.lower()
    value: Any = (
        tuple(_value(v) for v in raw.split(",") if v.strip()) if op in ("in", "not in") else _value(raw)
    )
    try:
        return Condition(field=field, op=op, value=value)
    except ValidationError as exc:
        raise ConfigError(f"{line.strip()!r}: {exc.errors()[0]['msg']}") from None


def parse_conditions(text: str) -> list[Condition]:
    """One condition per non-empty line."""
    return [parse_condition(line) for line in text.splitlines() if line.strip()]


def show_condition(cond: dict[str, Any] | Condition) -> str:
    """A condition as a person writes it (the inverse of :func:`parse_condition`)."""
    data = cond.model_dump() if isinstance(cond, Condition) else cond
    value = data["value"]
    if isinstance(value, list | tuple):
        shown = ", ".join(str(v) for v in value)
    elif value is None:
        shown = "null"
    elif isinstance(value, bool):
        shown = str(value).lower()
    else:
        shown = str(value)
    return f"{data['field']} {data['op']} {shown}"


def parse_names(text: str) -> list[str]:
    """A comma- or line-separated list of field names."""
    return [part.strip() for part in re.split(r"[,\n]", text) if part.strip()]


def parse_mapping(text: str) -> dict[str, str]:
    """``key=Field`` pairs, one a line (or comma-separated)."""
    mapping: dict[str, str] = {}
    for item in parse_names(text):
        key, sep, field = item.partition("=")
        if not sep or not key.strip() or not field.strip():
            raise ConfigError(f"{item!r} is not KEY=CRM_FIELD")
        mapping[key.strip()] = field.strip()
    return mapping
