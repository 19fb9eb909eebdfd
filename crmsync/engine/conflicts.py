"""Two-way merge of one record: which side's value each field takes, and conflicts.

The link keeps the values as they were at the last sync (either way). A field that only
the CRM changed since then takes the CRM's value; one that only the platform changed keeps
the platform's (its change is on its way to the CRM); one that both changed to different
values is a conflict, decided by the connection's policy and written to the log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

Policy = Literal["crm_wins", "platform_wins", "latest_wins"]
POLICIES: tuple[Policy, ...] = ("crm_wins", "platform_wins", "latest_wins")

# Types normalized() returns unchanged: asked first, they save a call or the chain of
# isinstance checks per value of every record a pull applies.
_AS_IS = frozenset({str, bool, type(None)})
# Ints with fewer digits than the decimal context's default precision (28).
_EXACT_INT = 10**28


@dataclass(frozen=True)
class Conflict:
    """One field changed on both sides since the last sync, and who won."""

    column: str
    crm_value: Any
    platform_value: Any
    synced_value: Any
    winner: Literal["crm", "platform"]
    reason: str

    def as_details(self) -> dict[str, Any]:
        """JSON-ready, for the log entry."""
        return {
            "column": self.column,
            "crm": normalized(self.crm_value),
            "platform": normalized(self.platform_value),
            "last_synced": normalized(self.synced_value),
            "winner": self.winner,
            "reason": self.reason,
        }


def normalized(value: Any) -> Any:
    """A JSON-ready form in which equal values compare equal (10 == 10.00, dates as ISO)."""
    if type(value) in _AS_IS or value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float | Decimal):
        return number_text(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def number_text(value: int | float | Decimal) -> str:
    """A number as plain text without trailing zeros: 10, 10.0 and Decimal("10.00") give "10"."""
    # Shortcuts for what a pull meets most (ids, amounts), same text as the general form:
    # an int below the default 28-digit precision comes through normalize() unchanged, and
    # Decimal(str(d)) is d itself.
    if type(value) is int and -_EXACT_INT < value < _EXACT_INT:
        return str(value)
    number = value if type(value) is Decimal else Decimal(str(value))
    return format(number.normalize(), "f")


def snapshot(values: Mapping[str, Any]) -> dict[str, Any]:
    """What to keep on the link as the last synced values."""
    return {column: value if type(value) in _AS_IS else normalized(value) for column, value in values.items()}


def merge(
    incoming: Mapping[str, Any],
    current: Mapping[str, Any],
    synced: Mapping[str, Any] | None,
    *,
    policy: Policy,
    crm_modified_at: datetime | None,
    platform_modified_at: datetime | None,
) -> tuple[dict[str, Any], list[Conflict]]:
    """The columns to write from ``incoming`` (CRM values) onto ``current`` (the platform row)."""
    if synced is None:
        # Never synced both ways before: the CRM's record is the reference.
        return {c: v for c, v in incoming.items() if normalized(v) != normalized(current.get(c))}, []
    writes: dict[str, Any] = {}
    conflicts: list[Conflict] = []
    for column, crm_value in incoming.items():
        crm_norm = normalized(crm_value)
        platform_value = current.get(column)
        platform_norm = normalized(platform_value)
        if crm_norm == platform_norm:
            continue
        base = synced.get(column)
        crm_changed = crm_norm != base
        platform_changed = platform_norm != base
        if crm_changed and not platform_changed:
            writes[column] = crm_value
        elif crm_changed and platform_changed:
            winner, reason = _decide(policy, crm_modified_at, platform_modified_at)
            conflicts.append(Conflict(column, crm_value, platform_value, base, winner, reason))
            if winner == "crm":
                writes[column] = crm_value
        # Only the platform changed: keep it; its change is pushed.
    return writes, conflicts


def _decide(
    policy: Policy, crm_at: datetime | None, platform_at: datetime | None
) -> tuple[Literal["crm", "platform"], str]:
    if policy == "crm_wins":
        return "crm", "policy crm_wins"
    if policy == "platform_wins":
        return "platform", "policy platform_wins"
    if crm_at is None or platform_at is None:
        return "crm", "policy latest_wins, but a side has no timestamp: the CRM's value is kept"
    if platform_at > crm_at:
        when = f"{platform_at:%Y-%m-%d %H:%M:%S} UTC"
        return "platform", f"policy latest_wins: the platform changed last ({when})"
    return "crm", f"policy latest_wins: the CRM changed last ({crm_at:%Y-%m-%d %H:%M:%S} UTC)"
