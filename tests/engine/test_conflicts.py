"""Conflicts: a field changed on both sides since the last sync goes by the policy; no flip-flop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from engine_testkit import FAST, connect, live, platform_state, sync

from crmsync.emulators.salesforce.seed import seed_npsp
from crmsync.emulators.salesforce.server import Emulator
from crmsync.engine.commands import run_push
from crmsync.engine.conflicts import merge, snapshot
from crmsync.engine.workspace import Workspace
from crmsync.store import logs, records
from crmsync.store.db import reading
from crmsync.store.tables import links

EARLY = datetime(2026, 1, 1, tzinfo=UTC)
LATE = EARLY + timedelta(hours=1)


def test_merge_takes_each_sides_own_changes() -> None:
    synced = snapshot({"a": "x", "b": 10, "c": "z"})
    writes, conflicts = merge(
        {"a": "x-crm", "b": Decimal("10.00"), "c": "z"},
        {"a": "x", "b": 10, "c": "z-platform"},
        synced,
        policy="latest_wins",
        crm_modified_at=EARLY,
        platform_modified_at=LATE,
    )
    assert writes == {"a": "x-crm"}  # c changed on the platform only: kept for the push
    assert conflicts == []


@pytest.mark.parametrize(
    ("policy", "crm_at", "platform_at", "winner"),
    [
        ("crm_wins", EARLY, LATE, "crm"),
        ("platform_wins", LATE, EARLY, "platform"),
        ("latest_wins", EARLY, LATE, "platform"),
        ("latest_wins", LATE, EARLY, "crm"),
        ("latest_wins", None, LATE, "crm"),
    ],
)
def test_merge_decides_conflicts_by_policy(
    policy: str, crm_at: datetime | None, platform_at: datetime | None, winner: str
) -> None:
    writes, conflicts = merge(
        {"email": "crm@example.org"},
        {"email": "platform@example.org"},
        snapshot({"email": "old@example.org"}),
        policy=policy,  # type: ignore[arg-type]
        crm_modified_at=crm_at,
        platform_modified_at=platform_at,
    )
    (conflict,) = conflicts
    assert conflict.winner == winner
    assert conflict.as_details()["last_synced"] == "old@example.org"
    assert writes == ({"email": "crm@example.org"} if winner == "crm" else {})


def test_a_platform_edit_waiting_to_be_pushed_survives_a_pull(
    workspace: Workspace, emulator: Emulator
) -> None:
    seed_npsp(emulator.org, 200, seed=70)
    connect(workspace, emulator, toggles={"default": {"pull": True, "push": True}})
    sync(workspace)
    contact = live(emulator, "Contact")[0]["Id"]
    platform_id = _platform_id(workspace, contact)
    with workspace.engine.begin() as conn:
        records.update_many(
            conn, workspace.organization_id, "supporters", [(platform_id, {"phone": "555-0001"})]
        )
    emulator.org.update("Contact", contact, {"Title": "Director"})
    sync(workspace)
    row = platform_state(workspace)["supporters"][contact]
    assert (row["phone"], row["title"]) == ("555-0001", "Director")
    run_push(workspace, "sf", retry=FAST)
    crm = emulator.org.get("Contact", contact)
    assert crm is not None
    assert (crm["Phone"], crm["Title"]) == ("555-0001", "Director")


@pytest.mark.parametrize(("policy", "expected"), [("crm_wins", "crm"), ("platform_wins", "platform")])
def test_both_sides_edit_one_field(
    workspace: Workspace, emulator: Emulator, policy: str, expected: str
) -> None:
    seed_npsp(emulator.org, 200, seed=71)
    connect(workspace, emulator, toggles={"default": {"pull": True, "push": True}}, conflict_policy=policy)
    sync(workspace)
    contact = live(emulator, "Contact")[0]["Id"]
    platform_id = _platform_id(workspace, contact)
    with workspace.engine.begin() as conn:
        records.update_many(
            conn, workspace.organization_id, "supporters", [(platform_id, {"title": "Platform"})]
        )
    emulator.org.update("Contact", contact, {"Title": "CRM"})
    sync(workspace)
    run_push(workspace, "sf", retry=FAST)
    sync(workspace)
    final = "CRM" if expected == "crm" else "Platform"
    assert platform_state(workspace)["supporters"][contact]["title"] == final
    assert emulator.org.get("Contact", contact)["Title"] == final  # type: ignore[index]
    with reading(workspace.engine) as conn:
        entries = [
            e for e in logs.page(conn, workspace.organization_id, limit=1000) if "conflict" in e.message
        ]
    (entry,) = entries
    assert entry.details is not None
    conflict = entry.details["conflict"]
    assert (conflict["crm"], conflict["platform"], conflict["winner"]) == ("CRM", "Platform", expected)


def test_rapid_alternating_edits_converge_without_flip_flop(workspace: Workspace, emulator: Emulator) -> None:
    seed_npsp(emulator.org, 150, seed=72)
    connect(workspace, emulator, toggles={"default": {"pull": True, "push": True}})
    sync(workspace)
    contact = live(emulator, "Contact")[0]["Id"]
    platform_id = _platform_id(workspace, contact)
    org = emulator.org
    for step in range(6):
        org.clock.advance(5)
        if step % 2:
            org.update("Contact", contact, {"Title": f"crm {step}", "MobilePhone": f"crm-{step}"})
        else:
            with workspace.engine.begin() as conn:
                records.update_many(
                    conn,
                    workspace.organization_id,
                    "supporters",
                    [(platform_id, {"title": f"platform {step}"})],
                )
        sync(workspace)
        run_push(workspace, "sf", retry=FAST)
    sync(workspace)
    run_push(workspace, "sf", retry=FAST)
    settled = platform_state(workspace)["supporters"][contact]
    crm = org.get("Contact", contact)
    assert crm is not None
    assert (settled["title"], settled["mobile_phone"]) == (crm["Title"], crm["MobilePhone"])
    # Settled: another round moves nothing either way.
    usage = emulator.state.usage.by_resource.copy()
    again = sync(workspace)
    assert sum(c.updated + c.created for c in again.counts.values()) == 0
    assert run_push(workspace, "sf", retry=FAST).outcomes == {}
    delta = emulator.state.usage.by_resource - usage
    assert not any(k in delta for k in ("composite/graph", "composite/sobjects", "sobjects"))


def _platform_id(workspace: Workspace, crm_id: str) -> int:
    with reading(workspace.engine) as conn:
        return int(conn.execute(sa.select(links.c.platform_id).where(links.c.crm_id == crm_id)).scalar_one())
