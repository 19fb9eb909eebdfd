"""A lease kept while a run waits out a failing CRM: renewed in the background, then left alone."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from testkit import bare_connection

from crmsync.engine.workspace import Workspace
from crmsync.errors import RunBusyError
from crmsync.store import leases
from crmsync.store.tables import leases as lease_rows
from crmsync.store.types import utcnow


def _expiry(workspace: Workspace) -> object:
    with workspace.engine.connect() as conn:
        return conn.execute(sa.select(lease_rows.c.expires_at)).scalar_one()


def test_a_kept_lease_outlives_its_ttl_and_is_left_alone_afterwards(workspace: Workspace) -> None:
    cid = bare_connection(workspace, "c")
    with workspace.engine.begin() as conn:
        leases.acquire(conn, cid, "here:1:a", ttl=timedelta(seconds=0.2))
    with leases.kept(workspace.engine, cid, "here:1:a", every=0.05):
        # No page written for longer than the lease lasts: another process still cannot take it.
        time.sleep(0.5)
        with pytest.raises(RunBusyError), workspace.engine.begin() as conn:
            leases.acquire(conn, cid, "elsewhere:2:b")
    assert not any(t.name == "crmsync-lease" for t in threading.enumerate())
    renewed = _expiry(workspace)
    time.sleep(0.2)
    assert _expiry(workspace) == renewed


def _race(workspace: Workspace, cid: int, owners: list[str]) -> list[str]:
    """Owners that took the push lease, all trying at the same moment."""
    start = threading.Barrier(len(owners))
    won: list[str] = []

    def take(owner: str) -> None:
        start.wait()
        try:
            with workspace.engine.begin() as conn:
                leases.acquire(conn, cid, owner, kind=leases.PUSH)
            won.append(owner)
        except RunBusyError:
            pass

    threads = [threading.Thread(target=take, args=(owner,)) for owner in owners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return won


def test_pushes_and_pulls_have_leases_apart_and_one_taker_of_several_wins(workspace: Workspace) -> None:
    cid = bare_connection(workspace, "c")
    with workspace.engine.begin() as conn:
        leases.acquire(conn, cid, "here:1:pull")
    owners = [f"elsewhere:{n}:push" for n in range(4)]
    (first,) = _race(workspace, cid, owners)
    with workspace.engine.connect() as conn:
        held = leases.holder(conn, cid, leases.PUSH)
        assert held is not None
        assert held.owner == first
        assert leases.holder(conn, cid).owner == "here:1:pull"  # type: ignore[union-attr]
    busy = r"is pushing this connection's changes; it pushes these too"
    with pytest.raises(RunBusyError, match=busy), workspace.engine.begin() as conn:
        leases.acquire(conn, cid, "late:9:push", kind=leases.PUSH)

    # Expired, the lease is taken over by exactly one of those who try at once.
    with workspace.engine.begin() as conn:
        conn.execute(lease_rows.update().values(expires_at=utcnow() - timedelta(seconds=1)))
    (second,) = _race(workspace, cid, [o for o in owners if o != first])
    with workspace.engine.connect() as conn:
        assert leases.holder(conn, cid, leases.PUSH).owner == second  # type: ignore[union-attr]
        assert leases.holder(conn, cid) is None  # the pull lease expired too
