"""Manual syncs an administrator starts: Full Fetch, Fetch one section, Sync one company, Push one model.

- **Full Fetch** reads all history of every receiving section (whatever the cursors say),
  respecting filters, first pages in one call, and applies every record again (newly
  custom-mapped fields arrive); its pages checkpoint as any pull's do.
- **Fetch** reads one section (with the team, which resolves its owners) or all, since the
  cursors, or their whole history with ``full``.
- **Sync one company** pulls the team, then that CRM record and everything related to it in
  every section (records whose lookups lead to it, directly or through each other) by id,
  without moving any cursor, so the scheduled jobs miss nothing.
- **Push one model** pushes every record of a section that sends, now.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from sqlalchemy.engine import Engine

from crmsync.connectors.base import Connector, ReadRequest
from crmsync.engine.apply import Scope
from crmsync.engine.full_push import push_all
from crmsync.engine.progress import Observer
from crmsync.engine.pull import PullOptions, RunResult, sync_all
from crmsync.engine.push import PushReport
from crmsync.engine.sections import OFF, direction, pulled_steps, section_named, sections
from crmsync.errors import ConfigError
from crmsync.model.profile import Condition, ObjectMapping
from crmsync.store import links, tenancy
from crmsync.store.db import reading
from crmsync.store.tables import links as links_table

# Ids in one `Field IN (...)` condition while finding related records.
IDS_PER_QUERY = 200


def fetch(
    engine: Engine,
    scope: Scope,
    connector: Connector,
    options: PullOptions,
    *,
    section: str | None = None,
    full: bool = False,
    observer: Observer | None = None,
) -> RunResult:
    """Fetch every receiving section (or one), since the cursors or, with ``full``, all history."""
    only = None
    if section is not None:
        mapping = section_named(scope.profile, section)
        _check_receives(engine, scope, mapping)
        # The team comes along: every section's owners resolve through it.
        only = frozenset({mapping.type, *(m.type for m in sections(scope.profile) if m.pull_only)})
    kind = "full_fetch" if full and section is None else ("fetch_full" if full else "fetch")
    if full:
        _forget_versions(engine, scope, only)
    chosen = replace(options, kind=kind, only=only, full=full)
    return sync_all(engine, scope, connector, chosen, observer, batched=True)


def _forget_versions(engine: Engine, scope: Scope, only: frozenset[str] | None) -> None:
    """Make a full fetch apply every record it reads again, not only those changed since.

    The version on a link lets a pull skip a record it already applied; after custom-mapped
    fields were added, the records must be applied again for them, which is what an
    administrator runs a Full Fetch for.
    """
    with reading(engine) as conn:
        toggles = tenancy.get_toggles(conn, scope.organization_id, scope.connection_id)
    steps, _ = pulled_steps(scope.profile, toggles, only)
    types = [m.type for step in steps for m in step]
    with engine.begin() as conn:
        conn.execute(
            links_table.update()
            .where(
                links_table.c.organization_id == scope.organization_id,
                links_table.c.connection_id == scope.connection_id,
                links_table.c.platform_type.in_(types),
            )
            .values(crm_modstamp=None)
        )


@dataclass
class CompanySync:
    """The two runs of Sync one company: the team, then the record and what relates to it."""

    team: RunResult | None
    company: RunResult
    ids: dict[str, int]


def sync_related(
    engine: Engine,
    scope: Scope,
    connector: Connector,
    options: PullOptions,
    *,
    section: str,
    record: str,
    observer: Observer | None = None,
) -> CompanySync:
    """Pull one record of ``section`` (a CRM id, or the platform id of a linked record) and every
    record related to it in every receiving section, plus the pull-only sections (the team)."""
    mapping = section_named(scope.profile, section)
    _check_receives(engine, scope, mapping)
    crm_id = _crm_id(engine, scope, mapping, record)
    team_types = frozenset(m.type for m in sections(scope.profile) if m.pull_only)
    team = None
    if team_types and mapping.type not in team_types:
        team = sync_all(
            engine, scope, connector, replace(options, kind="sync_team", only=team_types), observer
        )
    found = _related(engine, scope, connector, options.filters, mapping, crm_id)
    by_object: dict[str, set[str]] = {}
    for platform_type, ids in found.items():
        by_object.setdefault(scope.profile.mapping(platform_type).object.casefold(), set()).update(ids)
    chosen = replace(
        options,
        kind="sync_company",
        only=frozenset(found),
        ids={o: tuple(sorted(ids)) for o, ids in by_object.items()},
    )
    run = sync_all(engine, scope, connector, chosen, observer)
    return CompanySync(team, run, {t: len(ids) for t, ids in found.items()})


def push_model(engine: Engine, scope: Scope, connector: Connector, section: str) -> PushReport:
    """Push every record of a section that sends, now (locked records stay locked)."""
    mapping = section_named(scope.profile, section)
    with reading(engine) as conn:
        toggle = tenancy.get_toggles(conn, scope.organization_id, scope.connection_id).get(mapping.type, OFF)
    if not toggle.push or mapping.pull_only:
        raise ConfigError(
            f"{mapping.label_text} do not send to the CRM (direction {direction(toggle)}); "
            "set the section's direction to send or both first"
        )
    return push_all(engine, scope, connector, mapping.type)


def _check_receives(engine: Engine, scope: Scope, mapping: ObjectMapping) -> None:
    with reading(engine) as conn:
        toggle = tenancy.get_toggles(conn, scope.organization_id, scope.connection_id).get(mapping.type, OFF)
    if not toggle.pull and not (toggle.push and any(f.direction == "pull" for f in mapping.fields)):
        raise ConfigError(
            f"{mapping.label_text} receive nothing from the CRM (direction {direction(toggle)}); "
            "set the section's direction to receive or both first"
        )


def _crm_id(engine: Engine, scope: Scope, mapping: ObjectMapping, record: str) -> str:
    """A CRM id as given, or the CRM id linked to a platform id."""
    if not record.isdigit():
        return record
    with reading(engine) as conn:
        link = links.by_platform_ids(
            conn, scope.organization_id, scope.connection_id, mapping.type, [int(record)]
        ).get(int(record))
    if link is None:
        raise ConfigError(
            f"{mapping.label_text} {record} is not linked to a {mapping.object} on this connection; "
            f"give the {mapping.object} id instead"
        )
    return link.crm_id


def _related(
    engine: Engine,
    scope: Scope,
    connector: Connector,
    filters: Mapping[str, tuple[Condition, ...]],
    root: ObjectMapping,
    crm_id: str,
) -> dict[str, set[str]]:
    """CRM ids by platform type: the root record, then, section by section in pull order, the
    records whose lookups point at one already found."""
    conditions = (*root.filter, *filters.get(root.type, ()), Condition(field="Id", op="=", value=crm_id))
    if not _ids(connector, root.object, conditions):
        raise ConfigError(
            f"{root.object} {crm_id} is not in the {root.label_text} section: it does not exist "
            "or does not meet the section's filter"
        )
    found: dict[str, set[str]] = {root.type: {crm_id}}
    with reading(engine) as conn:
        toggles = tenancy.get_toggles(conn, scope.organization_id, scope.connection_id)
    for mapping in (m for s in sections(scope.profile) for m in (s, *scope.profile.parts_of(s.type))):
        if mapping.type in found or mapping.pull_only:
            continue
        if not toggles.get(mapping.part_of or mapping.type, OFF).pull:
            continue
        ids: set[str] = set()
        for lookup in mapping.lookups:
            parents = sorted({i for t in lookup.targets for i in found.get(t.type, ())})
            for start in range(0, len(parents), IDS_PER_QUERY):
                chunk = tuple(parents[start : start + IDS_PER_QUERY])
                ids |= _ids(connector, mapping.object, (Condition(field=lookup.crm, op="in", value=chunk),))
        if ids:
            found[mapping.type] = ids
    return found


def _ids(connector: Connector, object_name: str, conditions: tuple[Condition, ...]) -> set[str]:
    """Ids of the records (deleted ones too, so that their removal is applied) meeting ``conditions``."""
    request = ReadRequest(object=object_name, fields=(), conditions=conditions, include_deleted=True)
    return {r.id for page in connector.read(request) for r in page.records}
