"""Conditions evaluated on a record's values where the CRM cannot filter (SOQL semantics).

Text compares ignoring case and surrounding space, LIKE takes % and _, a number compares
with a number written as text, and nothing is less or greater than null.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from crmsync.model.profile import Condition


def meets(conditions: Sequence[Condition], values: Mapping[str, Any]) -> bool:
    """Whether a record's values meet every condition."""
    return all(holds(c.field, c.op, c.value, values) for c in conditions)


def holds(field: str, op: str, expected: Any, values: Mapping[str, Any]) -> bool:
    """Whether ``values[field]`` meets ``op expected``."""
    actual = values.get(field)
    if op in ("in", "not in"):
        inside = any(_equal(actual, e) for e in expected or ())
        return inside if op == "in" else not inside
    if op == "=":
        return _equal(actual, expected)
    if op == "!=":
        return not _equal(actual, expected)
    if actual is None or expected is None:
        return False
    if op == "like":
        pattern = re.escape(str(expected).casefold()).replace("%", ".*").replace("_", ".")
        return re.fullmatch(pattern, str(actual).casefold()) is not None
    try:
        left, right = _comparable(actual, expected)
        return bool({"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op])
    except (TypeError, ValueError, KeyError):
        return False


def _equal(actual: Any, expected: Any) -> bool:
    if actual is None or expected is None:
        return actual is None and expected is None
    if isinstance(actual, str) and isinstance(expected, str):
        return actual.strip().casefold() == expected.strip().casefold()
    try:
        left, right = _comparable(actual, expected)
        return bool(left == right)
    except (TypeError, ValueError):
        return False


def _comparable(actual: Any, expected: Any) -> tuple[Any, Any]:
    if isinstance(actual, bool) or isinstance(expected, bool):
        return str(actual).casefold(), str(expected).casefold()
    if isinstance(actual, int | float) or isinstance(expected, int | float):
        return float(actual), float(expected)
    return str(actual), str(expected)
