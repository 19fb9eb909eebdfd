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
