"""Sections: a profile's platform types as administrators see them, with their direction.

A section's direction is its pull/push toggles (receive, send, both, off). A field restricted
to one way also flows when its section only flows the other way: the ``pull`` fields of a
section that only sends are received onto the records it already linked (never creating
any), and the ``push`` fields of a section that only receives are sent by the daily push.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crmsync.catalogs import load_catalog
from crmsync.connectors.base import Connector, CrmRecord, ReadRequest
from crmsync.engine.apply import Scope
from crmsync.errors import ConfigError
from crmsync.model.customize import SectionDirection
from crmsync.model.order import pull_order, pull_steps
from crmsync.model.profile import Condition, Lookup, LookupTarget, ObjectMapping, Profile
from crmsync.store import links, retries
from crmsync.store.db import reading
from crmsync.store.platform import platform_table
from crmsync.store.tables import links as links_table
from crmsync.store.tenancy import Toggle

OFF = Toggle(pull=False, push=False)
# Ids in one `Id IN (...)` condition (keeps the query URL short).
IDS_PER_QUERY = 200


def direction(toggle: Toggle | None) -> SectionDirection:
    """The section direction that a pair of toggles means."""
    if toggle is None:
        return "off"
    if toggle.pull and toggle.push:
        return "both"
    return "receive" if toggle.pull else ("send" if toggle.push else "off")


def sections(profile: Profile) -> list[ObjectMapping]:
    """Top-level mappings in the order every pull walks them."""
    return [profile.mapping(t) for t in pull_order(profile)]


def section_named(profile: Profile, name: str) -> ObjectMapping:
    """The section called ``name``: its type (``cs_end_users``) or label (``end users``, ``end-users``)."""
    wanted = name.strip().casefold().replace("-", " ").replace("_", " ")
    for mapping in sections(profile):
        names = {mapping.type.replace("_", " "), mapping.label_text.casefold()}
        if wanted in names:
            return mapping
    known = ", ".join(m.label_text for m in sections(profile))
    raise ConfigError(f"profile {profile.name} has no section {name!r}; its sections are {known}")


def received_only(mapping: ObjectMapping) -> ObjectMapping | None:
    """The part of a mapping that a section which only sends still receives (``pull`` fields)."""
    fields = tuple(f for f in mapping.fields if f.direction == "pull")
    if not fields:
        return None
    return mapping.model_copy(update={"fields": fields, "lookups": (), "match": ()})


def sent_only(mapping: ObjectMapping) -> tuple[str, ...]:
    """Columns that a section which only receives still sends, by the daily push (``push`` fields)."""
    return tuple(f.column for f in mapping.fields if f.direction == "push")


def pulled_steps(
    profile: Profile, toggles: Mapping[str, Toggle], only: frozenset[str] | None
) -> tuple[list[tuple[ObjectMapping, ...]], set[str]]:
    """The steps a pull walks, and the types of those that only update linked records.

    A section whose pull toggle is on is pulled whole; one that only sends but has ``pull``
    fields is pulled for those fields, onto the records it already linked.
    """
    steps: list[tuple[ObjectMapping, ...]] = []
    linked_only: set[str] = set()
    for step in pull_steps(profile):
        owner = step[0]
        if only is not None and owner.type not in only:
            continue
        toggle = toggles.get(owner.type, OFF)
        if toggle.pull:
            steps.append(step)
            continue
        if not toggle.push:
            continue
        reduced = tuple(r for m in step if (r := received_only(m)) is not None)
        if reduced:
            steps.append(reduced)
            linked_only.update(m.type for m in reduced)
    return steps, linked_only


def in_section(
    engine: Engine,
    scope: Scope,
    connector: Connector,
    mapping: ObjectMapping,
    records: list[CrmRecord],
    filters: Mapping[str, tuple[Condition, ...]],
    *,
    linked_only: bool,
) -> tuple[list[CrmRecord], list[tuple[CrmRecord, str, str]]]:
    """The records of a page that belong to the section, read before the page is applied, and
    those left out with the parent that keeps them out, and why.

    With ``linked_only`` (a section that only sends), the live records already linked. And a
    record whose parent is missing from the platform because a filter keeps that parent out
    of its section (checked with the CRM, one query per lookup and page) is left out, as the
    section's own filter would leave it out if SOQL could say so (Task.WhatId, Note.ParentId
    are polymorphic): it is not an error, and it is not fetched again and again, but it is
    noted once with the reason (a contact owned by a user outside the team).
    """
    org, cid = scope.organization_id, scope.connection_id
    parent_types = {t.type for lookup in mapping.lookups for t in lookup.targets}
    with reading(engine) as conn:
        # Parents a filter left out before: their children are left out with them.
        kept_out = {t for t in parent_types if retries.any_left_out(conn, org, cid, t)}
    if not linked_only and not kept_out and not any(filters.get(t) for t in parent_types):
        return records, []
    unresolved: list[tuple[Lookup, set[str]]] = []
    outside: dict[str, str] = {}
    with reading(engine) as conn:
        if linked_only:
            live = [r for r in records if not r.deleted]
            known = links.platform_ids(conn, org, cid, mapping.type, [r.id for r in live])
            return [r for r in live if r.id in known], []
        for lookup in mapping.lookups:
            filtered = all(filters.get(t.type) for t in lookup.targets)
            noted = [t.type for t in lookup.targets if t.type in kept_out]
            if not filtered and not noted:
                continue
            wanted = sorted({str(v) for r in records if not r.deleted and (v := r.values.get(lookup.crm))})
            missing = set(wanted)
            for target in lookup.targets:
                missing -= set(links.platform_ids(conn, org, cid, target.type, wanted))
            for parent_type in noted:
                for parent, why in retries.left_out_reasons(
                    conn, org, cid, parent_type, sorted(missing)
                ).items():
                    outside[parent] = f"its {lookup.crm} {parent} was left out too ({why})"
                    missing.discard(parent)
            if missing and filtered:
                unresolved.append((lookup, missing))
    # Asked once the database is let go: no transaction stays open during a CRM call.
    for lookup, missing in unresolved:
        beyond = missing - _meeting(connector, scope.profile, lookup.targets, missing, filters)
        outside.update({parent: _why_out(scope.profile, lookup, parent, filters) for parent in beyond})
    if not outside:
        return records, []
    kept: list[CrmRecord] = []
    left: list[tuple[CrmRecord, str, str]] = []
    for record in records:
        parents = (str(record.values.get(lookup.crm)) for lookup in mapping.lookups)
        keeper = next((p for p in parents if p in outside), None)
        if keeper is None or record.deleted:
            kept.append(record)
        else:
            left.append((record, keeper, outside[keeper]))
    return kept, left


def _why_out(
    profile: Profile, lookup: Lookup, parent: str, filters: Mapping[str, tuple[Condition, ...]]
) -> str:
    """Why a record pointing to ``parent`` through ``lookup`` is left out of its section."""
    sections_ = " or ".join(profile.mapping(t.type).label_text for t in lookup.targets)
    conditions = "; ".join(
        f"{c.field} {c.op} {c.value!r}" for t in lookup.targets for c in filters.get(t.type, ())
    )
    return (
        f"its {lookup.crm} {parent} is not among the {sections_} synced, which the filter "
        f"({conditions}) keeps out; widen that filter to sync it"
    )


def _meeting(
    connector: Connector,
    profile: Profile,
    targets: Sequence[LookupTarget],
    ids: set[str],
    filters: Mapping[str, tuple[Condition, ...]],
) -> set[str]:
    """Which of ``ids`` are records of a target section that meet its filters (live ones)."""
    found: set[str] = set()
    catalog = load_catalog(profile.catalog)
    for target in targets:
        mapping = profile.mapping(target.type)
        obj = catalog.object(mapping.object)
        # Only ids of the target's object (by key prefix): a polymorphic field mixes objects.
        chosen = sorted(i for i in ids if obj is None or i.startswith(obj.key_prefix))
        for start in range(0, len(chosen), IDS_PER_QUERY):
            chunk = tuple(chosen[start : start + IDS_PER_QUERY])
            conditions = (
                *mapping.filter,
                *filters.get(target.type, ()),
                Condition(field="Id", op="in", value=chunk),
            )
            request = ReadRequest(object=mapping.object, fields=(), conditions=conditions)
            found |= {r.id for page in connector.read(request) for r in page.records}
    return found


@dataclass(frozen=True)
class TeamMember:
    """One entry of a connection's user list."""

    platform_id: int
    crm_id: str
    name: str
    email: str | None
    active: bool | None


def connection_users(engine: Engine, scope: Scope) -> list[TeamMember]:
    """The connection's user list: the pull-only section's records linked on this connection.

    Owners of every other section resolve through it (``OwnerId`` -> this list).
    """
    team = next((m for m in scope.profile.objects if m.pull_only), None)
    if team is None:
        return []
    table = platform_table(team.type)
    query = (
        sa.select(table, links_table.c.crm_id)
        .join(
            links_table,
            sa.and_(
                links_table.c.platform_id == table.c.id,
                links_table.c.platform_type == team.type,
                links_table.c.connection_id == scope.connection_id,
            ),
        )
        .where(table.c.organization_id == scope.organization_id)
        .order_by(table.c.id)
    )
    with reading(engine) as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
    return [
        TeamMember(
            platform_id=int(r["id"]),
            crm_id=str(r["crm_id"]),
            name=" ".join(str(p) for p in (r.get("first_name"), r.get("last_name")) if p),
            email=r.get("email"),
            active=r.get("active"),
        )
        for r in rows
    ]
