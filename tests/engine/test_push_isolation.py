"""No one record's exception stops a push: the push is tried again in halves down to the record
that raises, which fails alone (a log entry, a count, a lock after three); the others go."""

from __future__ import annotations

from typing import Any

import pytest
from engine_testkit import FAST, connect

from crmsync.emulators.salesforce.server import Emulator
from crmsync.engine import push_bodies
from crmsync.engine.commands import run_push, run_resync
from crmsync.engine.locks import list_locks
from crmsync.engine.workspace import Workspace
from crmsync.store import logs, records
from crmsync.store.db import reading

PUSH_FUNDS = {"default": {"pull": True, "push": False}, "funds": {"pull": True, "push": True}}


def test_a_record_that_raises_fails_alone(
    workspace: Workspace, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    connect(workspace, emulator, toggles=PUSH_FUNDS)
    with workspace.engine.begin() as conn:
        funds = records.insert_many(
            conn, workspace.organization_id, "funds", [{"name": f"Fund {n}"} for n in range(7)]
        )
    bad = funds[4]
    create = push_bodies.create

    def create_or_raise(*args: Any) -> Any:
        if args[2].key == ("funds", bad):
            raise KeyError("a value no code path expected")
        return create(*args)

    monkeypatch.setattr(push_bodies, "create", create_or_raise)

    report = run_push(workspace, "sf", retry=FAST)

    assert report.count("pushed") == 6, report.outcomes
    failed = report.outcomes[("funds", bad)]
    assert failed.code == "UNEXPECTED_ERROR"
    assert "KeyError: 'a value no code path expected'" in failed.message
    names = {r["Name"] for r in emulator.org.scan("npsp__General_Accounting_Unit__c")}
    assert {f"Fund {n}" for n in range(7) if n != 4} <= names
    assert "Fund 4" not in names
    with reading(workspace.engine) as conn:
        (entry,) = logs.page(conn, workspace.organization_id, status="error", limit=10)
    assert entry.message.startswith(f"funds {bad}: UNEXPECTED_ERROR: crmsync could not push it (KeyError: ")

    for _ in range(2):
        run_resync(workspace, "sf", "funds", ids=[bad], retry=FAST)
    (lock,) = list_locks(workspace)
    assert (lock.key, lock.failures, lock.last_error_code) == (f"funds:{bad}", 3, "UNEXPECTED_ERROR")
