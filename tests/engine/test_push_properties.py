"""Property: whatever the interleaving of platform writes, faults and retries, nothing is
lost, nothing is duplicated in Salesforce, and links stay consistent."""

from __future__ import annotations

import contextlib
import os
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from engine_testkit import FAST, connect, live
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmsync.emulators.salesforce.seed import seed_npsp
from crmsync.emulators.salesforce.server import Emulator
from crmsync.engine import pusher
from crmsync.engine.commands import run_push
from crmsync.engine.workspace import Workspace
from crmsync.errors import TransientError
from crmsync.secrets import Vault, generate_key
from crmsync.store import logs, push_state, records
from crmsync.store.db import reading
from crmsync.store.tables import links

EMAILS = ["ada@example.org", "grace@example.org", "ADA@example.org", None]

FAULTS = [
    {"kind": "drop_after_write", "path_prefix": "/services/data/v61.0/composite", "count": 1},
    {"kind": "status", "status": 503, "path_prefix": "/services/data/v61.0/composite", "count": 2},
    {"kind": "status", "status": 503, "path_prefix": "/services/data", "count": 5},
    {"kind": "record_error", "object": "Contact", "count": 1, "error_code": "UNABLE_TO_LOCK_ROW"},
    {
        "kind": "record_error",
        "object": "Opportunity",
        "count": 1,
        "error_code": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
    },
    {"kind": "drop_connection", "path_prefix": "/services/data/v61.0/query", "count": 1},
]

operation = st.one_of(
    st.tuples(st.just("supporter"), st.sampled_from(EMAILS), st.text("abcxyz", min_size=1, max_size=6)),
    st.tuples(st.just("edit"), st.integers(0, 20), st.text("0123456789", min_size=1, max_size=8)),
    st.tuples(st.just("gift"), st.integers(0, 20), st.integers(1, 500)),
    st.tuples(st.just("delete"), st.integers(0, 20), st.none()),
    st.tuples(st.just("fault"), st.integers(0, len(FAULTS) - 1), st.none()),
    st.tuples(st.just("push"), st.none(), st.none()),
)


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    # Queued retries come due at once, so a test can drain to the end.
    monkeypatch.setattr(pusher, "RETRY_BASE", timedelta(0))


@settings(
    max_examples=int(os.environ.get("CRMSYNC_PROPERTY_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operation, min_size=1, max_size=25))
def test_interleaved_writes_faults_and_retries(
    ops: list[tuple[str, Any, Any]],
    emulator: Emulator,
    tmp_path_factory: pytest.TempPathFactory,
    fast_retries: None,
) -> None:
    emulator.state.faults.clear()
    seed_npsp(emulator.org, 100, seed=40)
    workspace = Workspace(
        f"sqlite:///{tmp_path_factory.mktemp('prop') / 'p.db'}", vault=Vault(generate_key())
    )
    try:
        connect(workspace, emulator, toggles={"default": {"pull": False, "push": True}})
        _play(workspace, emulator, ops)
        emulator.state.faults.clear()
        for _ in range(6):
            try:
                run_push(workspace, "sf", retry=FAST)
            except TransientError:
                continue
        _check(workspace, emulator)
    finally:
        workspace.close()


def _play(workspace: Workspace, emulator: Emulator, ops: list[tuple[str, Any, Any]]) -> None:
    org = workspace.organization_id
    supporters: list[int] = []
    for kind, a, b in ops:
        with workspace.engine.begin() as conn:
            if kind == "supporter":
                supporters += records.insert_many(conn, org, "supporters", [{"last_name": b, "email": a}])
            elif kind == "edit" and supporters:
                records.update_many(
                    conn, org, "supporters", [(supporters[a % len(supporters)], {"phone": b})]
                )
            elif kind == "gift" and supporters:
                records.insert_many(
                    conn,
                    org,
                    "transactions",
                    [
                        {
                            "name": f"gift {b}",
                            "amount": b,
                            "close_date": date(2026, 3, 1),
                            "stage": "Closed Won",
                            "supporter_id": supporters[a % len(supporters)],
                        }
                    ],
                )
            elif kind == "delete" and supporters:
                victim = supporters.pop(a % len(supporters))
                records.delete(conn, org, "supporters", victim)
        if kind == "fault":
            emulator.state.faults.add(dict(FAULTS[a]))
        elif kind == "push":
            with contextlib.suppress(TransientError):
                run_push(workspace, "sf", retry=FAST)


def _check(workspace: Workspace, emulator: Emulator) -> None:
    org = workspace.organization_id
    objects = {"supporters": "Contact", "transactions": "Opportunity"}
    with reading(workspace.engine) as conn:
        stored = {(r.platform_type, r.platform_id): r.crm_id for r in conn.execute(sa.select(links))}
        errors = {
            (e.data_type, e.platform_id)
            for e in logs.page(conn, org, direction="push", status="error", limit=100_000)
        }
        queued = push_state.depth(conn, org, workspace.connection("sf").id)
        rows = {t: records.get_many(conn, org, t, list(range(1, 1000))) for t in objects}
    assert queued == 0, "something is still waiting in the push queue"
    for platform_type, object_name in objects.items():
        crm = [r for r in live(emulator, object_name) if r["Platform_Id__c"]]
        keys = [r["Platform_Id__c"] for r in crm]
        # No duplicates: one CRM record per platform record.
        assert len(keys) == len(set(keys)), f"duplicate {object_name} records: {sorted(keys)}"
        by_key = {r["Platform_Id__c"]: r for r in crm}
        for platform_id, row in rows[platform_type].items():
            key = f"{platform_type}:{platform_id}"
            if (platform_type, platform_id) in errors and key not in by_key:
                continue  # not lost: logged as an error (and counted towards a lock)
            assert key in by_key, f"{key} never reached Salesforce and has no error log entry"
            if (platform_type, platform_id) not in stored:
                # A create that went through while its answer was lost, then failed on retry
                # until locked: logged, and a Resync links it (it upserts by the platform id).
                assert (platform_type, platform_id) in errors, f"{key} is in Salesforce without a link"
                continue
            assert stored[(platform_type, platform_id)] == by_key[key]["Id"], (
                "link does not name the CRM record"
            )
            if platform_type == "supporters":
                assert by_key[key]["LastName"] == row["last_name"]
                assert by_key[key]["Phone"] == row["phone"]
        # Deleted platform records are gone from Salesforce too, and so are their links.
        for key, record in by_key.items():
            platform_id = int(key.split(":")[1])
            if platform_id not in rows[platform_type]:
                assert (platform_type, platform_id) in errors, f"{key} was deleted on the platform only"
                assert (platform_type, platform_id) not in stored or record["IsDeleted"]
    for (platform_type, platform_id), crm_id in stored.items():
        row = emulator.org.get(objects[platform_type], crm_id)
        assert row is not None
        assert row["Platform_Id__c"] == f"{platform_type}:{platform_id}"
