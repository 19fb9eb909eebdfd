"""Pushes merge field by field: only what the platform changed is sent, CRM edits survive."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import bloomerang_testkit as bl
import httpx
import pytest
import sqlalchemy as sa
from bloomerang_testkit import Control
from cs_testkit import connect_cs, customers, fetch, linked, row_of, seeded, write
from engine_testkit import CONNECTION, FAST, connect, live, sync

from crmsync.connectors.base import Connector, Page, ReadRequest
from crmsync.emulators.bloomerang import Emulator as BloomerangEmulator
from crmsync.emulators.salesforce.seed import seed_npsp
from crmsync.emulators.salesforce.server import Emulator
from crmsync.engine.apply import Scope
from crmsync.engine.commands import run_push, run_resync, run_sweep
from crmsync.engine.push import PushItem, push
from crmsync.engine.section_commands import run_daily_push, run_push_model
from crmsync.engine.workspace import Workspace
from crmsync.store import logs, records
from crmsync.store.db import reading
from crmsync.store.tables import links

BOTH_WAYS = {"default": {"pull": True, "push": True}}
HEALTH = {"health_score": {"crm": "Health_Score__c", "direction": "send"}}


def _supporter(workspace: Workspace, emulator: Emulator) -> tuple[str, int]:
    contact = live(emulator, "Contact")[0]["Id"]
    with reading(workspace.engine) as conn:
        platform_id = conn.execute(
            sa.select(links.c.platform_id).where(
                links.c.platform_type == "supporters", links.c.crm_id == contact
            )
        ).scalar_one()
    return contact, int(platform_id)


def _edit(workspace: Workspace, platform_type: str, platform_id: int, values: dict[str, Any]) -> None:
    with workspace.engine.begin() as conn:
        records.update_many(conn, workspace.organization_id, platform_type, [(platform_id, values)])


def _crm(emulator: Emulator, object_name: str, crm_id: str) -> dict[str, Any]:
    row = emulator.org.get(object_name, crm_id)
    assert row is not None
    return dict(row)


def _messages(workspace: Workspace, text: str) -> list[logs.StoredLogEntry]:
    with reading(workspace.engine) as conn:
        return [e for e in logs.page(conn, workspace.organization_id, limit=1000) if text in e.message]


@pytest.fixture
def npsp(workspace: Workspace, emulator: Emulator) -> tuple[str, int]:
    """An NPSP org pulled both ways; a supporter's CRM id and platform id."""
    seed_npsp(emulator.org, 150, seed=41)
    connect(workspace, emulator, toggles=BOTH_WAYS)
    sync(workspace)
    return _supporter(workspace, emulator)


def test_a_crm_edit_not_pulled_yet_survives_the_push_of_another_field(
    workspace: Workspace, emulator: Emulator, npsp: tuple[str, int]
) -> None:
    contact, supporter = npsp
    emulator.org.clock.advance(5)
    emulator.org.update("Contact", contact, {"Title": "Edited in Salesforce"})
    _edit(workspace, "supporters", supporter, {"phone": "555-0142"})
    report = run_push(workspace, CONNECTION, retry=FAST)
    assert report.outcomes[("supporters", supporter)].status == "pushed"
    crm = _crm(emulator, "Contact", contact)
    assert (crm["Phone"], crm["Title"]) == ("555-0142", "Edited in Salesforce")
    # The CRM's edit came to the platform with the push: both sides are equal at rest.
    assert row_of(workspace, "supporters", supporter)["title"] == "Edited in Salesforce"
    (entry,) = _messages(workspace, f"from supporters {supporter}: sent phone; took title")
    assert entry.direction == "push"
    # Nothing moves on the next pull, nor on the next push.
    again = sync(workspace)
    assert sum(c.updated + c.created for c in again.counts.values()) == 0
    assert run_push(workspace, CONNECTION, retry=FAST).outcomes == {}


class Recording(httpx.HTTPTransport):
    """A real transport that keeps what was sent."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return super().handle_request(request)


def test_a_push_sends_only_the_fields_the_platform_changed(
    workspace: Workspace, emulator: Emulator, npsp: tuple[str, int]
) -> None:
    contact, supporter = npsp
    _edit(workspace, "supporters", supporter, {"mobile_phone": "555-0199"})
    recording = Recording()
    run_push(workspace, CONNECTION, retry=FAST, transport=recording)
    (patch,) = [r for r in recording.sent if r.method == "PATCH"]
    # One record: an update of its row, on condition that nobody saved it since it was read.
    assert patch.url.path.endswith(f"/sobjects/Contact/{contact}")
    # The platform id goes once, as a label; then only what changes.
    assert json.loads(patch.content) == {
        "MobilePhone": "555-0199",
        "Platform_Id__c": f"supporters:{supporter}",
    }
    assert "If-Unmodified-Since" in patch.headers
    assert _crm(emulator, "Contact", contact)["MobilePhone"] == "555-0199"
    _edit(workspace, "supporters", supporter, {"mobile_phone": None, "email": "moved@example.org"})
    recording.sent.clear()
    run_push(workspace, CONNECTION, retry=FAST, transport=recording)
    (patch,) = [r for r in recording.sent if r.method == "PATCH"]
    # A value the platform cleared is sent as null: that change was the platform's own.
    assert json.loads(patch.content) == {"MobilePhone": None, "Email": "moved@example.org"}


@pytest.mark.parametrize(("policy", "winner"), [("crm_wins", "crm"), ("platform_wins", "platform")])
def test_a_field_changed_on_both_sides_follows_the_policy_on_push_and_says_so(
    workspace: Workspace, emulator: Emulator, policy: str, winner: str
) -> None:
    seed_npsp(emulator.org, 150, seed=42)
    connect(workspace, emulator, toggles=BOTH_WAYS, conflict_policy=policy)
    sync(workspace)
    contact, supporter = _supporter(workspace, emulator)
    emulator.org.clock.advance(5)
    emulator.org.update("Contact", contact, {"Title": "CRM title"})
    _edit(workspace, "supporters", supporter, {"title": "Platform title"})
    run_push(workspace, CONNECTION, retry=FAST)
    final = "CRM title" if winner == "crm" else "Platform title"
    assert _crm(emulator, "Contact", contact)["Title"] == final
    assert row_of(workspace, "supporters", supporter)["title"] == final
    (entry,) = _messages(workspace, "conflict on")
    assert entry.direction == "push"
    assert entry.details is not None
    assert entry.details["conflict"]["winner"] == winner
    assert f"policy {policy}" in entry.message


def test_a_crm_write_racing_the_push_is_detected_and_merged_again(
    workspace: Workspace, emulator: Emulator, npsp: tuple[str, int]
) -> None:
    contact, supporter = npsp
    _edit(workspace, "supporters", supporter, {"phone": "555-0101"})

    class Racing:
        """The connector, with a person saving the contact right after crmsync read it."""

        def __init__(self, inner: Connector) -> None:
            self.inner = inner
            self.raced = False

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def read(self, request: ReadRequest) -> Iterator[Page]:
            yield from self.inner.read(request)
            if request.ids and not self.raced:
                self.raced = True
                emulator.org.clock.advance(3)
                emulator.org.update("Contact", contact, {"Title": "Saved meanwhile"})

    row = workspace.connection(CONNECTION)
    scope: Scope = workspace.scope(row)
    inner = workspace.connector(row, retry=FAST)
    racing = Racing(inner)
    try:
        report = push(workspace.engine, scope, racing, [PushItem("supporters", supporter)])  # type: ignore[arg-type]
    finally:
        inner.close()
    assert racing.raced
    assert report.outcomes[("supporters", supporter)].status == "pushed"
    crm = _crm(emulator, "Contact", contact)
    assert (crm["Phone"], crm["Title"]) == ("555-0101", "Saved meanwhile")
    assert row_of(workspace, "supporters", supporter)["title"] == "Saved meanwhile"


def test_push_model_resync_and_sweep_never_overwrite_a_crm_edit(
    workspace: Workspace, emulator: Emulator, npsp: tuple[str, int]
) -> None:
    contact, supporter = npsp
    for step, run in enumerate(
        (
            lambda: run_push_model(workspace, CONNECTION, "supporters", retry=FAST),
            lambda: run_resync(workspace, CONNECTION, "supporters", ids=[supporter], retry=FAST),
            lambda: run_sweep(workspace, CONNECTION, retry=FAST),
        )
    ):
        emulator.org.clock.advance(5)
        emulator.org.update("Contact", contact, {"Department": f"CRM {step}"})
        run()
        assert _crm(emulator, "Contact", contact)["Department"] == f"CRM {step}"


def test_a_matched_record_keeps_values_only_the_crm_has(workspace: Workspace, emulator: Emulator) -> None:
    seed_npsp(emulator.org, 150, seed=43)
    chosen = next(c for c in live(emulator, "Contact") if c["Email"])
    emulator.org.update("Contact", chosen["Id"], {"Title": "Trustee"})
    connect(workspace, emulator, toggles=BOTH_WAYS)
    sync(workspace)
    contact = _crm(emulator, "Contact", chosen["Id"])
    # The application has its own supporter with the same email, not linked, with no title.
    with workspace.engine.begin() as conn:
        (mine,) = records.insert_many(
            conn,
            workspace.organization_id,
            "supporters",
            [
                {
                    "first_name": contact["FirstName"],
                    "last_name": contact["LastName"],
                    "email": contact["Email"].upper(),
                    "phone": "555-0177",
                }
            ],
        )
        conn.execute(links.delete().where(links.c.crm_id == contact["Id"]))
    run_push(workspace, CONNECTION, retry=FAST)
    crm = _crm(emulator, "Contact", contact["Id"])
    # Never a null over a value: the title only the CRM had stays, and comes to the platform.
    assert crm["Title"] == contact["Title"]
    assert row_of(workspace, "supporters", mine)["title"] == contact["Title"]


def test_the_daily_push_never_blanks_a_send_only_field(workspace: Workspace, emulator: Emulator) -> None:
    seeded(emulator)
    connect_cs(workspace, emulator, sections={"cs_companies": {"fields": HEALTH}})
    fetch(workspace, full=True)
    scored = {a["Id"]: a["Health_Score__c"] for a in customers(emulator) if a["Health_Score__c"] is not None}
    assert scored
    daily = run_daily_push(workspace, CONNECTION, retry=FAST)
    assert daily.status == "succeeded", daily.message
    # The platform never had a score: nothing is sent, nothing is blanked.
    assert {a["Id"]: a["Health_Score__c"] for a in customers(emulator) if a["Id"] in scored} == scored
    # A score set on the platform goes, and only that account's.
    crm_id, company = next(iter(linked(workspace, "cs_companies").items()))
    write(workspace, "cs_companies", company, {"health_score": 61}, origin="system")
    daily = run_daily_push(workspace, CONNECTION, retry=FAST)
    assert daily.status == "succeeded", daily.message
    assert _crm(emulator, "Account", crm_id)["Health_Score__c"] == 61
    others = {
        a["Id"]: a["Health_Score__c"] for a in customers(emulator) if a["Id"] in scored and a["Id"] != crm_id
    }
    assert others == {k: v for k, v in scored.items() if k != crm_id}
    # Sent once: the next daily push has nothing to send (the base holds the sent value).
    assert run_daily_push(workspace, CONNECTION, retry=FAST).api_calls <= daily.api_calls


def test_a_bloomerang_edit_not_pulled_yet_survives_a_push(
    workspace: Workspace, bl_emulator: BloomerangEmulator, bl_control: Control
) -> None:
    bl_control.seed(200, seed=44)
    bl.connect(workspace, bl_emulator, toggles=bl.BOTH_WAYS)
    assert bl.sync(workspace).status == "succeeded"
    with bl_emulator.store.lock:
        person = next(
            c
            for c in bl_emulator.store.tables["Constituent"].values()
            if c["Type"] == "Individual" and c.get("JobTitle") != "Edited in Bloomerang"
        )
    supporter = bl.platform_id(workspace, "supporters", person["Id"])
    assert supporter is not None
    bl_control.update("Constituent", person["Id"], {"JobTitle": "Edited in Bloomerang"})
    _edit(workspace, "supporters", supporter, {"city": "Porto"})
    report = bl.push(workspace)
    assert report.outcomes[("supporters", supporter)].status == "pushed", report.outcomes
    after = bl_control.get("Constituent", person["Id"])
    assert after["JobTitle"] == "Edited in Bloomerang"
    assert after["PrimaryAddress"]["City"] == "Porto"
    assert row_of(workspace, "supporters", supporter)["title"] == "Edited in Bloomerang"
