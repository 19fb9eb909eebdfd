"""Conflicts: a field changed on both sides since the last sync goes by the policy; no flip-flop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from engine_testkit import FAST, connect, live, platform_state, sync

from crmsync.emulators.salesforce.seed import seed_npsp
from crmsync.emulators.salesforce.server import Emulator
from crmsync.engine.commands import run_push
from crmsync.engine.conflicts import Flow, Merged, merge_fields, snapshot
from crmsync.engine.workspace import Workspace
from crmsync.model.profile import Policy
from crmsync.store import logs, records
from crmsync.store.db import reading
from crmsync.store.tables import links

EARLY = datetime(2026, 1, 1, tzinfo=UTC)
LATE = EARLY + timedelta(hours=1)


TWO_WAY = Flow(sends=True, receives=True)


def _merge(
    platform: dict[str, Any],
    crm: dict[str, Any],
    base: dict[str, Any] | None,
    flows: dict[str, Flow] | None = None,
    *,
    crm_at: datetime | None = EARLY,
    platform_at: datetime | None = LATE,
) -> Merged:
    return merge_fields(
        flows or dict.fromkeys(platform, TWO_WAY),
        platform,
        crm,
        None if base is None else snapshot(base),
        crm_modified_at=crm_at,
        platform_modified_at=platform_at,
    )


def test_merge_takes_each_sides_own_changes() -> None:
    merged = _merge(
        {"a": "x", "b": 10, "c": "z-platform"},
        {"a": "x-crm", "b": Decimal("10.00"), "c": "z"},
        {"a": "x", "b": 10, "c": "z"},
    )
    assert merged.receive == {"a": "x-crm"}
    assert merged.send == ["c"]
    assert merged.conflicts == []
    assert merged.agreed == {"a": "x-crm", "b": "10", "c": "z-platform"}
    # Until the push has sent it, the base of c stays what the CRM holds.
    assert merged.base_before_sending()["c"] == "z"


@pytest.mark.parametrize(
    ("policy", "crm_at", "platform_at", "winner"),
    [
        ("crm_wins", EARLY, LATE, "crm"),
        ("platform_wins", LATE, EARLY, "platform"),
        ("latest_wins", EARLY, LATE, "platform"),
        ("latest_wins", LATE, EARLY, "crm"),
    ],
)
def test_merge_decides_conflicts_by_policy(
    policy: Policy, crm_at: datetime, platform_at: datetime, winner: str
) -> None:
    merged = _merge(
        {"email": "platform@example.org"},
        {"email": "crm@example.org"},
        {"email": "old@example.org"},
        {"email": Flow(sends=True, receives=True, policy=policy)},
        crm_at=crm_at,
        platform_at=platform_at,
    )
    (conflict,) = merged.conflicts
    assert conflict.winner == winner
    assert conflict.as_details()["last_synced"] == "old@example.org"
    if winner == "crm":
        assert (merged.receive, merged.send) == ({"email": "crm@example.org"}, [])
    else:
        assert (merged.receive, merged.send) == ({}, ["email"])


def test_latest_wins_without_a_time_decides_nothing_and_says_so() -> None:
    merged = _merge({"title": "P"}, {"title": "C"}, {"title": "B"}, crm_at=None)
    assert (merged.send, merged.receive, merged.conflicts) == ([], {}, [])
    (undecided,) = merged.undecided
    assert undecided.column == "title"
    assert "crm_wins or platform_wins" in undecided.reason
    assert merged.agreed == {"title": "B"}


def test_a_null_never_overwrites_a_value_without_history() -> None:
    # No base (a record matched, or a field never synced): a side without a value has not
    # changed it, so the other side's value flows to it, never the null.
    merged = _merge({"phone": None, "title": "Chair"}, {"phone": "555-0100", "title": None}, None)
    assert merged.receive == {"phone": "555-0100"}
    assert merged.send == ["title"]
    assert merged.conflicts == []


def test_one_way_fields_have_an_owner() -> None:
    flows = {
        "score": Flow(sends=True, receives=False),
        "rating": Flow(sends=False, receives=True),
        "note": Flow(sends=True, receives=False),
    }
    merged = _merge(
        {"score": 7, "rating": "Hot (edited on the platform)", "note": "same"},
        {"score": 5, "rating": "Warm", "note": "edited in the CRM"},
        {"score": 5, "rating": "Warm", "note": "same"},
        flows,
    )
    # Send-only: the platform's change goes; the CRM's own edit of a field it does not own
    # stands until the platform changes it. Receive-only: the CRM's value is put back.
    assert merged.send == ["score"]
    assert merged.receive == {"rating": "Warm"}
    (conflict,) = merged.conflicts
    assert (conflict.column, conflict.winner) == ("rating", "crm")
    assert "receive-only" in conflict.reason
    assert merged.agreed == {"score": "7", "rating": "Warm", "note": "same"}


def test_a_send_only_field_edited_on_both_sides_sends_and_tells_the_crm() -> None:
    merged = _merge({"score": 9}, {"score": 4}, {"score": 5}, {"score": Flow(sends=True, receives=False)})
    assert merged.send == ["score"]
    (conflict,) = merged.conflicts
    assert (conflict.winner, conflict.crm_value) == ("platform", 4)


def test_an_unreadable_crm_value_leaves_both_sides_and_says_why() -> None:
    def merged_with(platform_born: str | None) -> Merged:
        return merge_fields(
            {"born": TWO_WAY, "title": TWO_WAY},
            {"born": platform_born, "title": "P"},
            {"title": "C"},
            snapshot({"born": "1990-02-01", "title": "B"}),
            crm_modified_at=EARLY,
            platform_modified_at=LATE,
            unreadable={"born": "Birthdate has the value '31/02/1990', which is not a valid date"},
        )

    # The platform changed the field: nothing can be decided against what the CRM holds.
    changed = merged_with("1990-03-01")
    (undecided,) = changed.undecided
    assert undecided.column == "born"
    assert "born" not in changed.receive
    assert "born" not in changed.send
    assert changed.agreed["born"] == "1990-02-01"
    assert changed.send == ["title"]  # the other fields go on
    # The platform did not: nothing to send, nothing to say (a pull logs the CRM's value).
    kept = merged_with("1990-02-01")
    assert (kept.undecided, kept.send) == ([], ["title"])


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
