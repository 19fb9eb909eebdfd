"""Records that failed because of another: a child whose new parent was rejected (the CRM
halted it, or crmsync did not send it) waits for that parent, and goes when the parent does.

Without this, the child's lock outlived the cause: resyncing the parent once it was fixed
left the child locked until an administrator found and archived it too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa

from crmsync.engine.apply import Scope
from crmsync.engine.push_plan import Key
from crmsync.engine.push_report import PushReport
from crmsync.store import push_state
from crmsync.store.logs import LogEntry

if TYPE_CHECKING:
    from crmsync.engine.push_record import Written


def waited_for(key: Key, written: Mapping[Key, Written]) -> Key | None:
    """The record whose failure made ``key`` fail: a parent that failed, or, for a record the
    CRM did not get to (halted), the child of it that failed."""
    item = written[key]
    node = item.node
    if node is None:
        return None
    for parent in node.parents.values():
        other = written.get(parent)
        if other is not None and not other.result.ok and other.node is not None:
            return parent
    if item.result.halted:
        for other_key, other in written.items():
            culprit = other.node is not None and not other.result.ok and not other.result.halted
            if culprit and other.node is not None and key in other.node.parents.values():
                return other_key
    return None


def release(
    conn: sa.Connection,
    scope: Scope,
    successes: Sequence[Key],
    entries: list[LogEntry],
    report: PushReport,
) -> None:
    """Lift the failures of records that waited for ``successes`` and queue them again."""
    released = push_state.release_waiting(conn, scope.organization_id, scope.connection_id, successes)
    for (platform_type, platform_id), parent in released.items():
        noun = f"{scope.profile.mapping(platform_type).label_text} {platform_id}"
        entries.append(
            LogEntry(
                data_type=platform_type,
                action="push",
                direction="push",
                status="pending",
                message=f"{noun} failed because {parent} could not be pushed; {parent} is pushed now, "
                "so its failures (and lock) are lifted and it is queued to be pushed again",
                platform_id=platform_id,
            )
        )
        report.released.append((platform_type, platform_id))
