"""Planning a push: the records to write, their parents first, and matches in the CRM.

A record's lookups are walked upwards: a parent that is linked is referenced by its CRM id;
one that is not is written in the same request, before its children (and matched first,
so an existing CRM record is linked instead of duplicated).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from crmsync.connectors.base import Connector, ReadRequest
from crmsync.engine.outbound import filter_problem
from crmsync.model.profile import Condition, Normalize, ObjectMapping, Profile
from crmsync.store import archive, links, records
from crmsync.store.readable import Unreadable

Key = tuple[str, int]
MATCH_CHUNK = 100
# Failure codes of records that cannot go: a value the platform row cannot be read with, or
# another reason (a filter, a parent that cannot go).
UNREADABLE = "UNREADABLE_VALUE"
NOT_PUSHABLE = "NOT_PUSHABLE"


@dataclass
class Node:
    """One platform record in a push: its row, its link (if any) and its parents."""

    mapping: ObjectMapping
    row: dict[str, Any]
    crm_id: str | None
    requested: bool
    parents: dict[str, Key] = field(default_factory=dict)
    problem: str | None = None
    # The failure's code when there is a problem: a value that cannot be read, or another reason.
    problem_code: str = NOT_PUSHABLE
    matched: bool = False
    # The values both sides last agreed on (the link's), None when never synced both ways.
    base: dict[str, Any] | None = None

    @property
    def key(self) -> Key:
        """(platform type, platform id)."""
        return self.mapping.type, int(self.row["id"])


@dataclass
class Plan:
    """Everything a push writes, keyed by (type, id); parents of requested records included."""

    nodes: dict[Key, Node]
    parent_ids: dict[Key, str]
    missing: list[Key]


def plan_push(
    conn: sa.Connection,
    organization_id: int,
    connection_id: int,
    profile: Profile,
    requested: Sequence[Key],
    pushable: set[str],
) -> Plan:
    """Load requested rows and every unlinked parent they need; mark what cannot go."""
    nodes: dict[Key, Node] = {}
    parent_ids: dict[Key, str] = {}
    missing: list[Key] = []
    frontier = list(dict.fromkeys(requested))
    first = True
    while frontier:
        for platform_type, ids in _by_type(frontier).items():
            mapping = profile.mapping(platform_type)
            unreadable: dict[int, Unreadable] = {}
            rows = records.get_many(conn, organization_id, platform_type, ids, unreadable=unreadable)
            known = links.by_platform_ids(conn, organization_id, connection_id, platform_type, ids, base=True)
            kept = archive.archived_ids(conn, organization_id, connection_id, platform_type, ids)
            for platform_id in ids:
                row = rows.get(platform_id)
                bad = unreadable.get(platform_id)
                if row is None and bad is None:
                    missing.append((platform_type, platform_id))
                    continue
                link = known.get(platform_id)
                problem = _archived(platform_type, platform_id) if platform_id in kept else None
                nodes[(platform_type, platform_id)] = Node(
                    mapping,
                    row or {"id": platform_id},
                    link.crm_id if link else None,
                    requested=first,
                    base=link.synced_values if link else None,
                    problem=bad.problem if bad else problem,
                    problem_code=UNREADABLE if bad else NOT_PUSHABLE,
                )
        first = False
        wanted: list[Key] = []
        fresh = [n for n in nodes.values() if not n.parents and not n.problem]
        for node in fresh:
            _check_values(node)
            if not node.problem:
                _find_parents(node)
        parents = {k for n in fresh for k in n.parents.values() if k not in nodes}
        for platform_type, ids in _by_type(sorted(parents)).items():
            known = links.by_platform_ids(conn, organization_id, connection_id, platform_type, ids)
            for platform_id in ids:
                key = (platform_type, platform_id)
                if platform_id in known:
                    parent_ids[key] = known[platform_id].crm_id
                elif platform_type in pushable:
                    wanted.append(key)
        frontier = wanted
    _mark_problems(nodes, parent_ids, missing, pushable)
    return plan_with_order(nodes, parent_ids, missing)


def _check_values(node: Node) -> None:
    """A number no CRM takes (PostgreSQL keeps NaN and infinities in NUMERIC) is the node's problem."""
    for column, value in node.row.items():
        if isinstance(value, Decimal | float) and not math.isfinite(value):
            bad = Unreadable(node.key[1], column, str(value), "a finite number", "")
            node.problem, node.problem_code = bad.problem, UNREADABLE
            return


def _find_parents(node: Node) -> None:
    """The node's parents from its lookup columns; a column that holds no id is its problem."""
    for lookup in node.mapping.lookups:
        for target in lookup.targets:
            value = node.row.get(target.column)
            if value is None:
                continue
            try:
                node.parents[lookup.crm] = (target.type, int(value))
            except (TypeError, ValueError):
                # SQLite keeps text in an integer column as text.
                bad = Unreadable(node.key[1], target.column, str(value), "an id (a whole number)", "")
                node.problem, node.problem_code = bad.problem, UNREADABLE
                node.parents.clear()
                return
            break


def plan_with_order(nodes: dict[Key, Node], parent_ids: dict[Key, str], missing: list[Key]) -> Plan:
    """A plan whose nodes are ordered parents first (stable within a level)."""
    ordered: dict[Key, Node] = {}
    pending = dict(nodes)
    while pending:
        ready = [k for k, n in pending.items() if all(p not in pending for p in n.parents.values())]
        if not ready:
            ready = list(pending)  # a cycle among platform rows: let the CRM say what is wrong
        for key in ready:
            ordered[key] = pending.pop(key)
    return Plan(ordered, parent_ids, missing)


def _archived(platform_type: str, platform_id: int) -> str:
    noun = platform_type.replace("_", " ")
    return (
        f"{noun} {platform_id} is archived: its CRM record was deleted (or merged away); "
        f"`crmsync restore {platform_type} {platform_id}` brings it back"
    )


def _mark_problems(
    nodes: dict[Key, Node], parent_ids: dict[Key, str], missing: list[Key], pushable: set[str]
) -> None:
    for node in nodes.values():
        if node.problem:
            # Archived, or a value that cannot be read: nothing else about the record counts.
            continue
        node.problem = filter_problem(node.mapping, node.row) if node.crm_id is None else None
        for crm_field, parent in node.parents.items():
            if parent in parent_ids or parent in nodes:
                continue
            noun = parent[0].replace("_", " ")
            if parent in missing:
                node.problem = node.problem or f"its parent {noun} {parent[1]} ({crm_field}) no longer exists"
            elif parent[0] not in pushable:
                node.problem = node.problem or (
                    f"its parent {noun} {parent[1]} ({crm_field}) is not in the CRM and {noun} are not "
                    "pushed (turn on their push toggle, or pull the parent first)"
                )
    # A record whose parent cannot go cannot go either.
    changed = True
    while changed:
        changed = False
        for node in nodes.values():
            if node.problem:
                continue
            for crm_field, parent in node.parents.items():
                blocker = nodes.get(parent)
                if blocker is not None and blocker.problem:
                    noun = parent[0].replace("_", " ")
                    node.problem = (
                        f"its parent {noun} {parent[1]} ({crm_field}) cannot be pushed: {blocker.problem}"
                    )
                    changed = True
                    break


def match_in_crm(
    conn: sa.Connection,
    organization_id: int,
    connection_id: int,
    connector: Connector,
    plan: Plan,
) -> None:
    """Link unlinked records to existing CRM records by the profile's matching rules."""
    claimed: set[str] = set()
    by_type: dict[str, list[Node]] = {}
    for node in plan.nodes.values():
        if node.crm_id is None and not node.problem and node.mapping.match:
            by_type.setdefault(node.mapping.type, []).append(node)
    for platform_type, nodes in by_type.items():
        mapping = nodes[0].mapping
        for rule in mapping.match:
            pending = [n for n in nodes if n.crm_id is None]
            fields = [mapping.crm_field(column) for column in rule.columns]
            exact = {lookup.crm for lookup in mapping.lookups}
            keyed: dict[tuple[Any, ...], Node] = {}
            for node in pending:
                key = _match_key(node, rule.columns, rule.normalize, plan.parent_ids)
                if key is not None:
                    keyed.setdefault(key, node)
            found: dict[tuple[Any, ...], str] = {}
            keys = list(keyed)
            # Keep each query's IN lists short enough for a URL.
            for start in range(0, len(keys), MATCH_CHUNK):
                chunk = keys[start : start + MATCH_CHUNK]
                conditions = tuple(
                    Condition(field=f, op="in", value=tuple(sorted({k[i] for k in chunk}, key=str)))
                    for i, f in enumerate(fields)
                )
                for key, crm_id in _candidates(
                    connector, mapping.object, fields, conditions, rule.normalize, exact
                ).items():
                    found.setdefault(key, crm_id)
            taken = links.by_crm_ids(
                conn, organization_id, connection_id, platform_type, list(found.values())
            )
            for key, node in keyed.items():
                candidate = found.get(key)
                if candidate and candidate not in taken and candidate not in claimed:
                    claimed.add(candidate)
                    node.crm_id = candidate
                    node.matched = True


def _match_key(
    node: Node, columns: Sequence[str], normalize: Normalize, parent_ids: Mapping[Key, str]
) -> tuple[Any, ...] | None:
    parts: list[Any] = []
    for column in columns:
        value = node.row.get(column)
        parent = next(
            (k for f, k in node.parents.items() if _is_lookup_column(node.mapping, f, column)), None
        )
        if parent is not None:
            value = parent_ids.get(parent)
            if value is None:
                return None
            # A CRM id is compared exactly: Salesforce ids differ by letter case.
            parts.append(value)
            continue
        if value in (None, ""):
            return None
        parts.append(records.normalized(value, normalize))
    return tuple(parts)


def _is_lookup_column(mapping: ObjectMapping, crm_field: str, column: str) -> bool:
    return any(lookup.crm == crm_field and column in lookup.columns for lookup in mapping.lookups)


def _candidates(
    connector: Connector,
    object_name: str,
    fields: list[str],
    conditions: tuple[Condition, ...],
    normalize: Normalize,
    exact: set[str],
) -> dict[tuple[Any, ...], str]:
    """CRM records matching any of the keys: key -> the oldest record's id.

    ``exact``: the fields holding CRM ids (lookups), which are compared as they are.
    """
    found: dict[tuple[Any, ...], str] = {}
    request = ReadRequest(object=object_name, fields=tuple(fields), conditions=conditions)
    for page in connector.read(request):
        for record in sorted(page.records, key=lambda r: r.id):
            key = tuple(
                record.values.get(f) if f in exact else records.normalized(record.values.get(f), normalize)
                for f in fields
            )
            found.setdefault(key, record.id)
    return found


def _by_type(keys: Sequence[Key]) -> dict[str, list[int]]:
    grouped: dict[str, list[int]] = {}
    for platform_type, platform_id in keys:
        grouped.setdefault(platform_type, []).append(platform_id)
    return grouped
