"""Before a push updates CRM records: what the CRM holds now, merged field by field.

A push sends only what the platform changed since the base its link keeps, never a null it
did not set, and never over a CRM edit it has not seen. So the records it updates (linked
ones, and those just matched in the CRM) are read first, one query per object and 200 ids,
never a call per record; their values are mapped into the platform's types as a pull maps
them and merged (:mod:`crmsync.engine.conflicts`). What the platform changed is sent; what
the CRM changed is written onto the platform when the push is recorded; a field both sides
changed follows the policy, and the side that loses is told in the log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crmsync.connectors.base import Connector, CrmRecord, ObjectInfo, ReadRequest
from crmsync.engine import lookups
from crmsync.engine.apply import Scope, modified_at
from crmsync.engine.conflicts import Flow, Merged, merge_fields
from crmsync.engine.flows import column_flows, toggle_of
from crmsync.engine.mapping import compared_values
from crmsync.engine.outbound import PLATFORM_ID_FIELD, platform_key
from crmsync.engine.push_plan import Key, Node
from crmsync.model.profile import ObjectMapping
from crmsync.store import records
from crmsync.store.db import reading
from crmsync.store.platform import platform_table
from crmsync.store.tenancy import Toggle

MODIFIED = "LastModifiedDate"


@dataclass
class Update:
    """What a push does to one record the CRM already holds."""

    # None: the record is no longer in the CRM (deleted there since it was linked).
    merged: Merged | None
    # The CRM's modification time as read: an update made only if it still holds.
    stamp: str | None = None
    # Whether the CRM record lacks this platform record's id in its platform-id field.
    stamp_platform_id: bool = False

    @property
    def gone(self) -> bool:
        """The record was deleted in the CRM."""
        return self.merged is None

    @property
    def idle(self) -> bool:
        """Nothing to send: both sides hold the same, or only the CRM changed."""
        return self.merged is not None and not self.merged.send and not self.stamp_platform_id


def merge_with_crm(
    engine: Engine,
    scope: Scope,
    connector: Connector,
    nodes: Sequence[Node],
    toggles: Mapping[str, Toggle],
) -> dict[Key, Update]:
    """Read the CRM records of ``nodes`` (each with a CRM id) and merge each with its row."""
    updates: dict[Key, Update] = {}
    by_type: dict[str, list[Node]] = {}
    for node in nodes:
        by_type.setdefault(node.mapping.type, []).append(node)
    for group in by_type.values():
        mapping = group[0].mapping
        info = connector.describe(mapping.object)
        flows = writable_flows(
            mapping, info, column_flows(mapping, toggle_of(mapping, toggles), scope.policy)
        )
        fields = [
            *map(mapping.crm_field, flows),
            *(f for f in (MODIFIED, PLATFORM_ID_FIELD) if info.field(f)),
        ]
        request = ReadRequest(
            object=mapping.object,
            fields=tuple(dict.fromkeys(fields)),
            ids=tuple(dict.fromkeys(n.crm_id for n in group if n.crm_id)),
        )
        found = {r.id: r for page in connector.read(request) for r in page.records if not r.deleted}
        with reading(engine) as conn:
            parents = lookups.parents(
                conn, scope.organization_id, scope.connection_id, mapping, list(found.values()), {}, {}
            )
            deleted = _drop_deleted(conn, scope.organization_id, parents)
        for node in group:
            record = found.get(node.crm_id or "")
            if record is None:
                updates[node.key] = Update(None)
                continue
            values, unreadable = _platform_view(mapping, flows, record, parents, deleted)
            merged = merge_fields(
                flows,
                node.row,
                values,
                None if node.matched else node.base,
                crm_modified_at=modified_at(record),
                platform_modified_at=node.row.get("updated_at"),
                unreadable=unreadable,
            )
            stamp = record.values.get(MODIFIED)
            mine = platform_key(*node.key)
            updates[node.key] = Update(
                merged,
                str(stamp) if stamp else None,
                stamp_platform_id=info.field(PLATFORM_ID_FIELD) is not None
                and record.values.get(PLATFORM_ID_FIELD) != mine,
            )
    return updates


def writable_flows(mapping: ObjectMapping, info: ObjectInfo, flows: Mapping[str, Flow]) -> dict[str, Flow]:
    """``flows`` of the columns whose CRM field exists, sending only where it can be written."""
    writable: dict[str, Flow] = {}
    for column, flow in flows.items():
        field = info.field(mapping.crm_field(column))
        if field is None:
            continue
        writable[column] = flow if field.updateable or not flow.sends else replace(flow, sends=False)
    return writable


def _drop_deleted(
    conn: sa.Connection, organization_id: int, parents: dict[str, dict[str, int]]
) -> dict[str, tuple[str, int]]:
    """Take out of ``parents`` the platform rows deleted since they were linked; CRM id ->
    (type, id) of those.

    Their links stay until their deletes reach the CRM, and the CRM's children still point at
    them meanwhile: not a value the platform can take back (its rows are gone).
    """
    deleted: dict[str, tuple[str, int]] = {}
    for platform_type, by_crm_id in parents.items():
        present = records.existing_ids(conn, organization_id, platform_type, list(by_crm_id.values()))
        for crm_id, platform_id in list(by_crm_id.items()):
            if platform_id not in present:
                deleted[crm_id] = (platform_type, platform_id)
                del by_crm_id[crm_id]
    return deleted


def _platform_view(
    mapping: ObjectMapping,
    flows: Mapping[str, Flow],
    record: CrmRecord,
    parents: Mapping[str, Mapping[str, int]],
    deleted: Mapping[str, tuple[str, int]],
) -> tuple[dict[str, Any], dict[str, str]]:
    """The CRM record's values of the merged columns in platform terms (lookups as platform
    ids), and the columns whose value does not map, with why."""
    values, unreadable = compared_values(mapping, platform_table(mapping.type), flows, record.values)
    for lookup in mapping.lookups:
        columns = [c for c in lookup.columns if c in flows]
        if not columns:
            continue
        values.update(dict.fromkeys(columns))
        crm_value = record.values.get(lookup.crm)
        if not crm_value:
            continue
        target = next(
            (t for t in lookup.targets if t.column in flows and str(crm_value) in parents.get(t.type, {})),
            None,
        )
        if target is None:
            # A parent the platform does not have: nothing to compare it with.
            reason = f"{lookup.crm} points to {crm_value}, which is not in the platform"
            if str(crm_value) in deleted:
                gone_type, gone_id = deleted[str(crm_value)]
                reason = (
                    f"{lookup.crm} points to {crm_value}, whose {gone_type.replace('_', ' ')} {gone_id} "
                    "the platform deleted; the CRM follows once that delete reaches it"
                )
            unreadable.update(dict.fromkeys(columns, reason))
            continue
        values[target.column] = parents[target.type][str(crm_value)]
    return values, unreadable
