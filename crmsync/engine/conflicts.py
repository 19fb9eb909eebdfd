"""Three-way merge of one record, field by field: base, platform value, CRM value.

The link keeps the base: the value of each field both sides last agreed on. A field that
only one side changed since takes that side's value, so both end equal; a field both
changed to different values is a conflict, decided by the field's (or the connection's)
policy, and the losing side gets a log entry. A field that flows one way only has an
owner: a receive-only field always takes the CRM's value, a send-only field is never
written from the CRM, and the CRM's own edit of it stands until the platform changes it.

Pulls and pushes use the same decisions: a pull writes what the platform receives and
leaves what it would send to the push; a push sends only what the platform changed and
writes what the CRM changed onto the platform.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from crmsync.model.profile import POLICIES, Policy

__all__ = ["POLICIES", "Conflict", "Flow", "Merged", "Policy", "Undecided", "merge_fields", "normalized"]

Side = Literal["crm", "platform"]

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
    winner: Side
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


@dataclass(frozen=True)
class Undecided:
    """A field the merge could not decide: both sides keep their values, and the log says why."""

    column: str
    reason: str


@dataclass(frozen=True)
class Flow:
    """Which way one column's values move in a sync, and who wins when both sides changed it."""

    sends: bool
    receives: bool
    policy: Policy = "latest_wins"


@dataclass
class Merged:
    """What a merge decided for one record."""

    # Columns whose platform value goes to the CRM.
    send: list[str] = field(default_factory=list)
    # Columns the platform takes from the CRM, with the CRM's value.
    receive: dict[str, Any] = field(default_factory=dict)
    # The base once the decisions are carried out (normalized values), for every column compared.
    agreed: dict[str, Any] = field(default_factory=dict)
    # Each column's CRM value as compared (normalized).
    crm: dict[str, Any] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)
    undecided: list[Undecided] = field(default_factory=list)

    def base_before_sending(self) -> dict[str, Any]:
        """The base while the values to send have not reached the CRM: what the CRM holds there.

        A pull cannot send: it stores this, so that the push that follows still finds those
        fields changed on the platform only, and sends them without deciding again.
        """
        return {**self.agreed, **{column: self.crm.get(column) for column in self.send}}


_MISSING = object()


def merge_fields(
    flows: Mapping[str, Flow],
    platform: Mapping[str, Any],
    crm: Mapping[str, Any],
    base: Mapping[str, Any] | None,
    *,
    crm_modified_at: datetime | None,
    platform_modified_at: datetime | None,
    unreadable: Mapping[str, str] | None = None,
) -> Merged:
    """Decide, for every column of ``flows``, which side's value both sides end with.

    ``platform`` and ``crm`` hold the values in the platform's types (``crm`` as mapped from
    the CRM record); ``base`` is the link's synced values (None: never synced both ways).
    A column missing from ``base`` has no known history: a side with a value there counts as
    changed, one without does not (so a null never overwrites a value by default).
    ``unreadable``: columns whose CRM value could not be mapped, with why: left as they are,
    and undecided (logged) where the platform changed them.
    """
    merged = Merged()
    for column, flow in flows.items():
        known = base.get(column, _MISSING) if base is not None else _MISSING
        platform_value, crm_value = platform.get(column), crm.get(column)
        ours = normalized(platform_value)
        if unreadable and column in unreadable:
            # Undecided only if the platform changed the field: else there is nothing to send,
            # and a pull of the record says what is wrong with the CRM's value.
            if ours != (None if known is _MISSING else known):
                merged.undecided.append(Undecided(column, unreadable[column]))
            if known is not _MISSING:
                merged.agreed[column] = known
            continue
        theirs = normalized(crm_value)
        merged.crm[column] = theirs
        if ours == theirs:
            merged.agreed[column] = ours
            continue
        if known is _MISSING:
            ours_changed, theirs_changed = ours is not None, theirs is not None
        else:
            ours_changed, theirs_changed = ours != known, theirs != known
        winner: Side | None
        reason = ""
        if not flow.sends and not flow.receives:
            winner = None
        elif not flow.sends:
            # The CRM owns a receive-only field: the platform's edit never goes anywhere.
            winner, reason = "crm", "the field is receive-only: the CRM's value is kept"
        elif not flow.receives:
            # The platform owns a send-only field; the CRM's own edit stands until it changes.
            winner = "platform" if ours_changed else None
            reason = "the field is send-only: the platform's value is sent"
        elif ours_changed and not theirs_changed:
            winner = "platform"
        elif theirs_changed and not ours_changed:
            winner = "crm"
        else:
            decided = _decide(flow.policy, crm_modified_at, platform_modified_at)
            if isinstance(decided, Undecided):
                merged.undecided.append(Undecided(column, decided.reason))
                if known is not _MISSING:
                    merged.agreed[column] = known
                continue
            winner, reason = decided
        if winner is None:
            if known is not _MISSING:
                merged.agreed[column] = known
            continue
        # The side whose own change gives way is told so in the log.
        if ours_changed if winner == "crm" else theirs_changed:
            base_value = None if known is _MISSING else known
            merged.conflicts.append(Conflict(column, crm_value, platform_value, base_value, winner, reason))
        if winner == "platform":
            merged.send.append(column)
            merged.agreed[column] = ours
        else:
            merged.receive[column] = crm_value
            merged.agreed[column] = theirs
    return merged


def _decide(
    policy: Policy, crm_at: datetime | None, platform_at: datetime | None
) -> tuple[Side, str] | Undecided:
    if policy == "crm_wins":
        return "crm", "policy crm_wins"
    if policy == "platform_wins":
        return "platform", "policy platform_wins"
    if crm_at is None or platform_at is None:
        side = "the CRM" if crm_at is None else "the platform"
        return Undecided(
            "",
            f"policy latest_wins cannot tell which change came last: {side} gives no modification time; "
            "both values are kept until one side changes again (or set conflict_policy to crm_wins "
            "or platform_wins)",
        )
    if platform_at > crm_at:
        when = f"{platform_at:%Y-%m-%d %H:%M:%S} UTC"
        return "platform", f"policy latest_wins: the platform changed last ({when})"
    return "crm", f"policy latest_wins: the CRM changed last ({crm_at:%Y-%m-%d %H:%M:%S} UTC)"
