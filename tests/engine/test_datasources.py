"""Contact-centre profile: data sources feed platform campaigns through org syncs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from engine_testkit import FAST, connect, live

from crmsync.emulators.salesforce.seed import seed_npsp
from crmsync.emulators.salesforce.server import Emulator
from crmsync.engine.datasources import add_source, link_source, list_sources, set_source
from crmsync.engine.orgsync import Change, add_sync, remove_sync, set_sync
from crmsync.engine.poll import due, poll
from crmsync.engine.pull import PullOptions
from crmsync.engine.workspace import Workspace
from crmsync.errors import ConfigError
from crmsync.model.profile import Condition
from crmsync.store import records
from crmsync.store.db import reading
from crmsync.store.platform import cc_campaign_contacts
from crmsync.store.types import utcnow


def _poll(workspace: Workspace) -> None:
    row = workspace.connection("sf")
    scope = workspace.scope(row)
    connector = workspace.connector(row, retry=FAST)
    try:
        syncs = due(workspace.engine, scope, now=utcnow() + timedelta(days=1))
        result = poll(
            workspace.engine,
            scope,
            connector,
            PullOptions(kind="poll", lookback=timedelta(seconds=300)),
            syncs=syncs,
        )
        assert not result.failed, result.failed
    finally:
        connector.close()


def _imported(workspace: Workspace, campaign: int) -> dict[str, dict[str, Any]]:
    with reading(workspace.engine) as conn:
        rows = conn.execute(
            sa.select(cc_campaign_contacts).where(cc_campaign_contacts.c.campaign_id == campaign)
        )
        return {r.crm_id: dict(r._mapping) for r in rows}


@pytest.fixture
def centre(workspace: Workspace, emulator: Emulator) -> int:
    """A contact-centre connection with polled Contact and Lead org syncs, and a campaign."""
    seed_npsp(emulator.org, 600, seed=80)
    connect(workspace, emulator, profile="contact-center")
    for crm_object in ("Contact", "Lead"):
        add_sync(workspace, "sf", crm_object)
        set_sync(workspace, "sf", crm_object, Change(method="poll", interval_minutes=5, enabled=True))
    with workspace.engine.begin() as conn:
        (campaign,) = records.insert_many(
            conn, workspace.organization_id, "cc_campaigns", [{"name": "CA calls"}]
        )
    return campaign


def test_a_linked_data_source_imports_matching_records_with_their_phones(
    workspace: Workspace, emulator: Emulator, centre: int
) -> None:
    add_source(
        workspace,
        "sf",
        "california",
        "Contact",
        filters=[Condition(field="MailingState", op="=", value="CA")],
    )
    link_source(
        workspace,
        "sf",
        "california",
        centre,
        phone_fields=["Phone", "MobilePhone"],
        custom_fields={"title": "Title"},
    )
    _poll(workspace)
    imported = _imported(workspace, centre)
    contacts = {c["Id"]: c for c in live(emulator, "Contact")}
    expected = {i for i, c in contacts.items() if c["MailingState"] == "CA"}
    assert expected
    assert set(imported) == expected
    sample = next(iter(imported.values()))
    crm = contacts[sample["crm_id"]]
    assert sample["phone_numbers"] == [p for p in (crm["Phone"], crm["MobilePhone"]) if p]
    assert sample["custom_fields"] == {"title": crm["Title"]}
    assert sample["data_source"] == "california"
    (source,) = list_sources(workspace, "sf")
    assert not source.needs_backfill
    # A later change in Salesforce reaches the campaign on the next poll.
    emulator.org.update("Contact", sample["crm_id"], {"Title": "Volunteer lead"})
    _poll(workspace)
    assert _imported(workspace, centre)[sample["crm_id"]]["custom_fields"] == {"title": "Volunteer lead"}


def test_a_changed_field_list_is_read_on_the_next_poll(
    workspace: Workspace, emulator: Emulator, centre: int
) -> None:
    add_source(workspace, "sf", "leads", "Lead", filters=[Condition(field="Status", op="!=", value="Closed")])
    link_source(workspace, "sf", "leads", centre, phone_fields=["Phone"], custom_fields={})
    _poll(workspace)
    before = _imported(workspace, centre)
    assert before
    set_source(workspace, "sf", "leads", fields=["Company", "LeadSource"])
    link_source(
        workspace, "sf", "leads", centre, phone_fields=["Phone"], custom_fields={"source": "LeadSource"}
    )
    _poll(workspace)
    after = _imported(workspace, centre)
    leads = {r["Id"]: r for r in live(emulator, "Lead")}
    assert set(after) == set(before)
    assert all(row["custom_fields"] == {"source": leads[i]["LeadSource"]} for i, row in after.items())


def test_removing_the_org_sync_removes_its_sources_but_keeps_imported_records(
    workspace: Workspace, emulator: Emulator, centre: int
) -> None:
    add_source(workspace, "sf", "everyone", "Contact")
    link_source(workspace, "sf", "everyone", centre, phone_fields=["Phone"], custom_fields={})
    _poll(workspace)
    imported = _imported(workspace, centre)
    assert imported
    remove_sync(workspace, "sf", "Contact")
    assert list_sources(workspace, "sf") == []
    assert _imported(workspace, centre) == imported


def test_data_sources_check_what_they_are_given(
    workspace: Workspace, emulator: Emulator, centre: int
) -> None:
    with pytest.raises(ConfigError, match="Account has no org sync"):
        add_source(workspace, "sf", "orgs", "Account")
    with pytest.raises(ConfigError, match="Contact has no field 'Nope'"):
        add_source(workspace, "sf", "x", "Contact", fields=["Nope"])
    add_source(workspace, "sf", "x", "Contact")
    with pytest.raises(ConfigError, match="already exists"):
        add_source(workspace, "sf", "x", "Contact")
    with pytest.raises(ConfigError, match="no platform campaign 999"):
        link_source(workspace, "sf", "x", 999, phone_fields=["Phone"], custom_fields={})
    with pytest.raises(ConfigError, match="at least one phone field"):
        link_source(workspace, "sf", "x", centre, phone_fields=[], custom_fields={})
