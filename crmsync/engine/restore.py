"""Bringing back platform records archived when their CRM record was deleted or merged away.

A restored record (and those archived with it) is linked again when its CRM record is back
(undeleted in the CRM's recycle bin); otherwise it stays on the platform as a record of its
own, which the next push or sweep makes again in the CRM if its section sends.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crmsync.connectors.base import Connector, ReadRequest
from crmsync.engine.apply import Scope
from crmsync.errors import ConfigError
from crmsync.store import archive, links, logs
from crmsync.store.archive import Archived
from crmsync.store.db import reading
from crmsync.store.links import NewLink
from crmsync.store.logs import LogEntry


@dataclass
class Restored:
    """What restoring one archived record did."""

    record: Archived
    # The CRM id it is linked to again; None when its CRM record is not back.
    linked_to: str | None
    message: str


@dataclass
class RestoreResult:
    """Every record restored (the one asked for first), and the API calls made."""

    restored: list[Restored] = field(default_factory=list)
    api_calls: int = 0


def restore(
    engine: Engine, scope: Scope, connector: Connector, platform_type: str, platform_id: int
) -> RestoreResult:
    """Restore one archived record and those archived with it."""
    org, cid = scope.organization_id, scope.connection_id
    calls = connector.api_calls
    with reading(engine) as conn:
        family = _family(conn, org, cid, platform_type, platform_id)
    if not family:
        noun = platform_type.replace("_", " ")
        raise ConfigError(
            f"{noun} {platform_id} is not archived on this connection; `crmsync archived` lists those "
            "that are"
        )
    live = _live(connector, family)
    result = RestoreResult()
    with engine.begin() as conn:
        result.restored = [_one(conn, scope, record, live) for record in family]
        entries = [_entry(done) for done in result.restored]
        logs.write(conn, org, entries, connection_id=cid, run_id=None)
    result.api_calls = connector.api_calls - calls
    return result


def _one(conn: sa.Connection, scope: Scope, record: Archived, live: set[str]) -> Restored:
    """Take one record out of the archive, linked again if its CRM record is live and free."""
    org, cid = scope.organization_id, scope.connection_id
    archive.remove(conn, org, cid, record.platform_type, record.platform_id)
    crm_id = record.crm_id
    taken = bool(crm_id) and bool(links.by_crm_ids(conn, org, cid, record.platform_type, [crm_id or ""]))
    noun = f"{record.platform_type.replace('_', ' ')} {record.platform_id}"
    if crm_id is not None and crm_id in live and not taken:
        again = NewLink(
            record.platform_type,
            record.platform_id,
            record.crm_object,
            crm_id,
            None,
            None,
            record.synced_values,
        )
        links.write(conn, org, cid, [again], existing=set())
        return Restored(
            record, crm_id, f"restored {noun}: {record.crm_object} {crm_id} is in the CRM; linked again"
        )
    why = "is linked to another record" if taken else "is not in the CRM"
    message = (
        f"restored {noun}: {record.crm_object} {crm_id or '(none)'} {why}; the record stays on the "
        "platform, and the next push or sweep creates it in the CRM if its section sends"
    )
    return Restored(record, None, message)


def _entry(done: Restored) -> LogEntry:
    return LogEntry(
        data_type=done.record.platform_type,
        action="update",
        direction="pull",
        status="processed",
        message=done.message,
        crm_id=done.linked_to,
        platform_id=done.record.platform_id,
        details={"restored": True},
    )


def _family(conn: sa.Connection, org: int, cid: int, platform_type: str, platform_id: int) -> list[Archived]:
    """The archived record and, recursively, those archived with it."""
    first = archive.get(conn, org, cid, platform_type, platform_id)
    found = [first] if first is not None else []
    queue = list(found)
    while queue:
        parent = queue.pop()
        children = archive.listing(
            conn, org, connection_id=cid, parent=(parent.platform_type, parent.platform_id)
        )
        found += children
        queue += children
    return found


def _live(connector: Connector, family: list[Archived]) -> set[str]:
    """The CRM ids of ``family`` whose records exist (not deleted) in the CRM now."""
    by_object: dict[str, list[str]] = {}
    for record in family:
        if record.crm_id:
            by_object.setdefault(record.crm_object, []).append(record.crm_id)
    live: set[str] = set()
    for object_name, ids in by_object.items():
        request = ReadRequest(object=object_name, fields=(), ids=tuple(ids))
        live.update(r.id for page in connector.read(request) for r in page.records if not r.deleted)
    return live
