"""What a push writes for one record: a new record with the values it has, an update with the
fields the platform changed and nothing else.

A new record is upserted by the platform-id external field, so a retry after a lost answer
updates the record made the first time. An update goes by CRM id and, where the CRM can
condition it, only if the record is still as it was read before the merge.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmsync.connectors.base import Connector, ObjectInfo
from crmsync.connectors.writes import Ref, WriteRecord
from crmsync.engine.conflicts import Flow, snapshot
from crmsync.engine.outbound import PLATFORM_ID_FIELD, equality_defaults, platform_key, to_crm
from crmsync.engine.push_merge import Update
from crmsync.engine.push_plan import Node, Plan


def create(
    connector: Connector, plan: Plan, node: Node, flows: Mapping[str, Flow]
) -> tuple[WriteRecord, dict[str, Any]]:
    """The upsert that makes ``node``'s record, and the base it leaves (the values it sends)."""
    mapping = node.mapping
    info = connector.describe(mapping.object)
    body: dict[str, Any] = {}
    sent: dict[str, Any] = {}
    for fmap in mapping.fields:
        value = node.row.get(fmap.column)
        field = info.field(fmap.crm)
        flow = flows.get(fmap.column)
        # Only the values it has: a null would only blank a default the CRM sets.
        if value is None or field is None or not field.createable or flow is None or not flow.sends:
            continue
        body[field.name] = to_crm(value)
        sent[fmap.column] = value
    depends = _lookups(plan, node, info, body, sent, creating=True)
    defaults = connector.create_defaults(mapping.object, equality_defaults(mapping))
    for name, value in {**defaults, **mapping.create_values}.items():
        if body.get(name) is None:
            body[name] = value
    key = platform_key(*node.key)
    body.pop(PLATFORM_ID_FIELD, None)
    record = WriteRecord(
        key,
        mapping.object,
        body,
        external_field=PLATFORM_ID_FIELD,
        external_id=key,
        depends_on=tuple(depends),
    )
    return record, snapshot(sent)


def update(connector: Connector, plan: Plan, node: Node, change: Update) -> WriteRecord:
    """The update of ``node``'s CRM record with what the merge sends."""
    assert change.merged is not None
    assert node.crm_id is not None
    mapping = node.mapping
    info = connector.describe(mapping.object)
    sending = set(change.merged.send)
    body: dict[str, Any] = {}
    for fmap in mapping.fields:
        field = info.field(fmap.crm)
        if fmap.column in sending and field is not None:
            # The platform changed it, to a value or to nothing: either is sent.
            body[field.name] = to_crm(node.row.get(fmap.column))
    depends = _lookups(plan, node, info, body, None, creating=False, only=sending)
    key = platform_key(*node.key)
    if change.stamp_platform_id:
        body[PLATFORM_ID_FIELD] = key
    return WriteRecord(
        key,
        mapping.object,
        body,
        crm_id=node.crm_id,
        depends_on=tuple(depends),
        unmodified_since=change.stamp,
    )


def _lookups(
    plan: Plan,
    node: Node,
    info: ObjectInfo,
    body: dict[str, Any],
    sent: dict[str, Any] | None,
    *,
    creating: bool,
    only: set[str] | None = None,
) -> list[str]:
    """Put the lookups into ``body`` (those with a column in ``only``, if given); the keys of
    parents written in the same request."""
    depends: list[str] = []
    for lookup in node.mapping.lookups:
        if only is not None and not any(c in only for c in lookup.columns):
            continue
        field = info.field(lookup.crm)
        if field is None or not (field.createable if creating else field.updateable):
            continue
        parent = node.parents.get(lookup.crm)
        if parent is None:
            if not creating:
                body[field.name] = None
            continue
        if parent in plan.parent_ids:
            body[field.name] = plan.parent_ids[parent]
        elif parent in plan.nodes and plan.nodes[parent].crm_id:
            body[field.name] = plan.nodes[parent].crm_id
        else:
            body[field.name] = Ref(platform_key(*parent))
            depends.append(platform_key(*parent))
        if sent is not None:
            column = next(t.column for t in lookup.targets if t.type == parent[0])
            sent[column] = parent[1]
    return depends
