"""Push planning: records the CRM already holds are matched, ids exactly and text by its key."""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from engine_testkit import FAST, connect, live, sync

from crmsync.emulators.salesforce.seed import seed_npsp
from crmsync.emulators.salesforce.server import Emulator
from crmsync.engine.commands import run_push
from crmsync.engine.workspace import Workspace
from crmsync.store import records
from crmsync.store.db import reading
from crmsync.store.tables import links

PUSH_ALL = {"default": {"pull": True, "push": True}}


def _platform_id(workspace: Workspace, platform_type: str, crm_id: str) -> int:
    with reading(workspace.engine) as conn:
        return int(
            conn.execute(
                sa.select(links.c.platform_id).where(
                    links.c.platform_type == platform_type, links.c.crm_id == crm_id
                )
            ).scalar_one()
        )


def test_a_campaign_member_made_in_the_crm_meanwhile_is_matched_by_its_exact_ids(
    workspace: Workspace, emulator: Emulator
) -> None:
    seed_npsp(emulator.org, 150, seed=31)
    connect(workspace, emulator, toggles=PUSH_ALL)
    sync(workspace)
    members = {(m["CampaignId"], m["ContactId"]) for m in live(emulator, "CampaignMember")}
    campaign = live(emulator, "Campaign")[0]["Id"]
    contact = next(c["Id"] for c in live(emulator, "Contact") if (campaign, c["Id"]) not in members)
    # Salesforce ids mix letter cases: matching must not fold them.
    assert campaign != campaign.lower() or contact != contact.lower()
    made_in_crm = emulator.org.insert(
        "CampaignMember", {"CampaignId": campaign, "ContactId": contact, "Status": "Responded"}
    )
    with workspace.engine.begin() as conn:
        (member,) = records.insert_many(
            conn,
            workspace.organization_id,
            "campaign_members",
            [
                {
                    "campaign_id": _platform_id(workspace, "campaigns", campaign),
                    "supporter_id": _platform_id(workspace, "supporters", contact),
                    "status": "Sent",
                }
            ],
        )
    report = run_push(workspace, "sf", retry=FAST)
    outcome = report.outcomes[("campaign_members", member)]
    assert outcome.status == "pushed", outcome
    assert outcome.crm_id == made_in_crm
    pair = [
        m
        for m in live(emulator, "CampaignMember")
        if (m["CampaignId"], m["ContactId"]) == (campaign, contact)
    ]
    assert [m["Id"] for m in pair] == [made_in_crm]
    sync(workspace)
    with reading(workspace.engine) as conn:
        linked = conn.execute(
            sa.select(sa.func.count()).where(
                links.c.platform_type == "campaign_members", links.c.crm_id == made_in_crm
            )
        ).scalar_one()
        rows = conn.execute(
            sa.text("SELECT count(*) FROM campaign_members WHERE campaign_id = :c AND supporter_id = :s"),
            {
                "c": _platform_id(workspace, "campaigns", campaign),
                "s": _platform_id(workspace, "supporters", contact),
            },
        ).scalar_one()
    assert (linked, rows) == (1, 1)


def test_a_subscription_made_in_the_crm_meanwhile_is_matched_not_doubled(
    workspace: Workspace, emulator: Emulator
) -> None:
    seed_npsp(emulator.org, 150, seed=32)
    connect(workspace, emulator, toggles=PUSH_ALL)
    sync(workspace)
    contact = live(emulator, "Contact")[0]["Id"]
    made_in_crm = emulator.org.insert(
        "Communication_Subscription__c",
        {"Contact__c": contact, "List_Name__c": "Monthly Newsletter", "Status__c": "Subscribed"},
    )
    with workspace.engine.begin() as conn:
        (subscription,) = records.insert_many(
            conn,
            workspace.organization_id,
            "subscriptions",
            [
                {
                    "supporter_id": _platform_id(workspace, "supporters", contact),
                    "list_name": " monthly newsletter ",
                    "status": "Subscribed",
                }
            ],
        )
    report = run_push(workspace, "sf", retry=FAST)
    assert report.outcomes[("subscriptions", subscription)].crm_id == made_in_crm
    mine = [s for s in live(emulator, "Communication_Subscription__c") if s["Contact__c"] == contact]
    assert [s["Id"] for s in mine if s["List_Name__c"].strip().casefold() == "monthly newsletter"] == [
        made_in_crm
    ]


def test_a_supporter_is_matched_to_a_contact_holding_its_email_in_another_form(
    workspace: Workspace, emulator: Emulator
) -> None:
    # (platform value, CRM value): the CRM is asked by value and compares case only, so a
    # push asks in the forms the CRM may hold (trimmed, composed, decomposed, folded).
    forms = {
        "spaces": ("\tJane.Tab@Example.org\n", "jane.tab@example.org"),
        "decomposed": ("Zoë.Müller@example.org", unicodedata.normalize("NFD", "zoë.müller@example.org")),
        "sharp s": ("Straße@Example.de", "STRASSE@EXAMPLE.DE"),
    }
    connect(workspace, emulator, toggles={"default": {"pull": False, "push": True}})
    existing = {
        name: emulator.org.insert("Contact", {"LastName": name.title(), "Email": crm})
        for name, (_, crm) in forms.items()
    }
    before = len(live(emulator, "Contact"))
    with workspace.engine.begin() as conn:
        ids = records.insert_many(
            conn,
            workspace.organization_id,
            "supporters",
            [{"last_name": name.title(), "email": platform} for name, (platform, _) in forms.items()],
        )
    report = run_push(workspace, "sf", retry=FAST)
    assert {
        name: report.outcomes[("supporters", i)].crm_id for name, i in zip(forms, ids, strict=True)
    } == existing
    assert len(live(emulator, "Contact")) == before
