"""Matching on a pull: the platform row without a link that a new CRM record already is.

A record with no link is looked for among the platform's rows that have no link on the
connection, rule by rule of its object mapping, by its key (:mod:`crmsync.matchkey`): the
keys of the platform's rows are the ones crmsync stores (:mod:`crmsync.store.match_keys`),
brought up to date inside the page's transaction before they are asked.

A small table is first asked whether any row has no link at all: a first pull into an
empty platform then builds no keys. A larger one is always asked for the page's keys, so
that a page costs the same however large the table grows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from crmsync import matchkey
from crmsync.model.profile import MatchRule, ObjectMapping
from crmsync.store import match_keys, records

if TYPE_CHECKING:
    from crmsync.engine.apply import Scope

# Up to about this many rows of a type, one scan for any row without a link costs less than
# looking up a page's keys (benchmarks/matching.py, the check in the page's transaction: a
# scan about 0.5 µs a row; 2,000 keys, their stored keys brought up to date first, 15 to
# 25 ms; the two cost the same at about 30,000 rows, plan and check together at 40,000).
SCANNED_UP_TO = 30_000


def matches(
    conn: sa.Connection, scope: Scope, mapping: ObjectMapping, rows: Sequence[Mapping[str, Any]]
) -> list[tuple[int, str] | None]:
    """For each of ``rows`` (mapped values), in a writing transaction: the platform row without a
    link it matches and how (the rule and key, for the log), or None."""
    found: list[tuple[int, str] | None] = [None] * len(rows)
    if not rows or not mapping.match:
        return found
    org, cid = scope.organization_id, scope.connection_id
    if records.size_hint(conn, mapping.type) <= SCANNED_UP_TO and not records.has_unlinked(
        conn, org, cid, mapping.type
    ):
        return found
    taken: set[int] = set()
    for rule in mapping.match:
        pending = [i for i, match in enumerate(found) if match is None]
        keys = _keys(rule, (rows[i] for i in pending))
        by_key = _unlinked_matches(conn, scope, mapping, rule, keys, refresh=True) or {}
        for i, key in zip(pending, keys, strict=True):
            platform_id = by_key.get(key) if key is not None else None
            # Two CRM records with the same key: the first one takes the platform row.
            if key is not None and platform_id is not None and platform_id not in taken:
                taken.add(platform_id)
                found[i] = (platform_id, matchkey.shown(rule.columns, key))
    return found


def matches_waiting(
    conn: sa.Connection,
    scope: Scope,
    mapping: ObjectMapping,
    rows: Sequence[Mapping[str, Any]],
    *,
    size: int,
    refresh: bool = False,
) -> bool:
    """Whether a platform row without a link may match one of ``rows`` (mapped values) by a rule:
    then applying them may match, where otherwise it only creates.

    ``size``: about how many rows the type has (its highest id will do). A small table is
    asked whether any row has no link; a larger one for the rows' keys. ``refresh``: in the
    page's writing transaction, the stored keys are brought up to date first; elsewhere
    (planning) keys not built yet count as a possible match.
    """
    if not rows or not mapping.match:
        return False
    if size <= SCANNED_UP_TO:
        return records.has_unlinked(conn, scope.organization_id, scope.connection_id, mapping.type)
    for rule in mapping.match:
        found = _unlinked_matches(conn, scope, mapping, rule, _keys(rule, rows), refresh=refresh)
        if found is None or found:
            return True
    return False


def _keys(rule: MatchRule, rows: Iterable[Mapping[str, Any]]) -> list[tuple[Any, ...] | None]:
    """Each row's key under ``rule`` (:func:`crmsync.matchkey.key`); None where a part is empty."""
    return [matchkey.key(values, rule.columns, rule.normalize) for values in rows]


def _unlinked_matches(
    conn: sa.Connection,
    scope: Scope,
    mapping: ObjectMapping,
    rule: MatchRule,
    keys: Sequence[tuple[Any, ...] | None],
    *,
    refresh: bool,
) -> dict[tuple[Any, ...], int] | None:
    """Key -> platform row without a link; None when the rule's stored keys are not built."""
    wanted = [key for key in keys if key is not None]
    if not wanted:
        return {}
    org = scope.organization_id
    if refresh and match_keys.keyed(mapping.type, rule.columns):
        match_keys.refresh(conn, org, mapping.type, rule.columns, rule.normalize)
    return records.find_unlinked_matches(
        conn, org, scope.connection_id, mapping.type, rule.columns, rule.normalize, wanted
    )
