"""Planning a push: the records to write, their parents first, and matches in the CRM.

A record's lookups are walked upwards: a parent that is linked is referenced by its CRM id;
one that is not is written in the same request, before its children (and matched first,
so an existing CRM record is linked instead of duplicated).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from crmsync import matchkey
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
    """Link unlinked records to existing CRM records by the profile's matching rules.

    The CRM is asked by value (``Email IN (...)``) and compares text regardless of case only,
    so each text part is asked in the forms a CRM record may hold it (:func:`_asked`); what
    the CRM returns is keyed like the platform (:mod:`crmsync.matchkey`) and compared here.
    """
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
            asked: dict[tuple[Any, ...], list[list[Any]]] = {}
            for node in pending:
                parts = _parts(node, rule.columns, plan.parent_ids)
                key = _match_key(parts, rule.normalize)
                if key is not None and key not in keyed:
                    keyed[key] = node
                    asked[key] = [_asked(value, is_id, rule.normalize) for value, is_id in parts]
            found: dict[tuple[Any, ...], str] = {}
            for values in _queries(list(asked.values()), len(fields)):
                conditions = tuple(
                    Condition(field=f, op="in", value=tuple(sorted(v, key=str)))
                    for f, v in zip(fields, values, strict=True)
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


def _parts(node: Node, columns: Sequence[str], parent_ids: Mapping[Key, str]) -> list[tuple[Any, bool]]:
    """Each column's value for matching, and whether it is a CRM id (a linked parent's)."""
    parts: list[tuple[Any, bool]] = []
    for column in columns:
        parent = next(
            (k for f, k in node.parents.items() if _is_lookup_column(node.mapping, f, column)), None
        )
        if parent is None:
            parts.append((node.row.get(column), False))
        else:
            parts.append((parent_ids.get(parent), True))
    return parts


def _match_key(parts: Sequence[tuple[Any, bool]], normalize: Normalize) -> tuple[Any, ...] | None:
    """The key of a record's parts; None when one is empty (a parent not in the CRM yet)."""
    # A CRM id is compared exactly: Salesforce ids differ by letter case.
    key = tuple(value if is_id else matchkey.part(value, normalize) for value, is_id in parts)
    return None if any(p is None or p == "" for p in key) else key


# A control character other than tab and line breaks cannot be put in a query (SOQL has no
# escape for it): such a form is not asked, and a CRM record holding it is not found.
_UNASKABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _asked(value: Any, is_id: bool, normalize: Normalize) -> list[Any]:
    """The values to ask the CRM for one key part.

    A CRM record holds a part as someone typed it, and the CRM compares text regardless of
    case only: a text part is asked as the platform holds it, trimmed, composed and
    decomposed (accents as one character, or a letter and a combining mark) and folded
    (``ß`` as ``ss``), each once whatever its case. A record whose text differs in any other
    way that folding forgives cannot be found by value: white space or a no-break space
    around it, ``ss`` where the platform has ``ß``, full-width letters or ligatures where
    the platform has plain ones. Such a record is not matched, and the push creates one.
    """
    if is_id or normalize != "casefold" or not isinstance(value, str):
        return [value]
    trimmed = matchkey.trim(value)
    forms = (
        value,
        trimmed,
        unicodedata.normalize("NFC", trimmed),
        unicodedata.normalize("NFD", trimmed),
        matchkey.fold(value),
    )
    by_case: dict[str, str] = {}
    for form in forms:
        if form and not _UNASKABLE.search(form):
            by_case.setdefault(form.lower(), form)
    return list(by_case.values())


def _queries(asked: Sequence[list[list[Any]]], width: int) -> list[list[set[Any]]]:
    """The keys' values grouped into queries of at most :data:`MATCH_CHUNK` values a field, so
    that each query's IN lists stay short enough for a URL."""
    queries: list[list[set[Any]]] = []
    current: list[set[Any]] = [set() for _ in range(width)]
    for parts in asked:
        grown = [have | set(more) for have, more in zip(current, parts, strict=True)]
        if any(current) and any(len(values) > MATCH_CHUNK for values in grown):
            queries.append(current)
            grown = [set(more) for more in parts]
        current = grown
    if any(current):
        queries.append(current)
    return queries


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
                record.values.get(f) if f in exact else matchkey.part(record.values.get(f), normalize)
                for f in fields
            )
            found.setdefault(key, record.id)
    return found


def _by_type(keys: Sequence[Key]) -> dict[str, list[int]]:
    grouped: dict[str, list[int]] = {}
    for platform_type, platform_id in keys:
        grouped.setdefault(platform_type, []).append(platform_id)
    return grouped
