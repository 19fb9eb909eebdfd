"""Helpers for engine tests: connect a workspace to the emulator, compute the expected state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
import testkit

from crmsync.config import SalesforceConfig
from crmsync.connectors.retry import RetryPolicy
from crmsync.emulators.salesforce.server import Emulator
from crmsync.engine.commands import run_sync_all
from crmsync.engine.pull import RunResult
from crmsync.engine.workspace import Workspace
from crmsync.model.load import load_profile
from crmsync.store.platform import platform_table
from crmsync.store.tables import archived, links

CONNECTION = "sf"
FAST = RetryPolicy(attempts=3, base_delay=0.0, max_delay=0.0, sleep=lambda _s: None)


def connection_data(emulator: Emulator, **overrides: Any) -> dict[str, Any]:
    """The emulated org's connection settings as plain data, every object pulled unless overridden."""
    data: dict[str, Any] = {
        "login_url": emulator.base_url,
        "auth": "password",
        "client_id": "crmsync-emulator",
        "client_secret": "emulator-secret",
        "username": "admin@npsp.example.org",
        "password": "emulator-password",
        "toggles": {"default": {"pull": True, "push": False}},
    }
    data.update(overrides)
    return data


def connection_config(emulator: Emulator, **overrides: Any) -> SalesforceConfig:
    """The emulated org's connection settings, validated."""
    return SalesforceConfig.model_validate(connection_data(emulator, **overrides))


def bare_connection(workspace: Workspace) -> int:
    """A connection ``sf`` with the npsp profile and no credentials (nothing is called); its id."""
    return testkit.bare_connection(workspace, CONNECTION)


def connect(workspace: Workspace, emulator: Emulator, **overrides: Any) -> None:
    """Register the emulator as connection ``sf``."""
    workspace.register(CONNECTION, connection_config(emulator, **overrides))


def sync(workspace: Workspace, **kwargs: Any) -> RunResult:
    """Sync All on ``sf`` with fast retries."""
    return run_sync_all(workspace, CONNECTION, retry=FAST, **kwargs)


def live(emulator: Emulator, object_name: str) -> list[Mapping[str, Any]]:
    """Live (not deleted) rows of an object in the emulated org."""
    return [r for r in emulator.org.scan(object_name) if not r["IsDeleted"]]


def expected_ids(emulator: Emulator) -> dict[str, set[str]]:
    """CRM ids each platform type should link after a complete pull (computed from the org)."""
    record_types = {r["Id"]: r["DeveloperName"] for r in emulator.org.scan("RecordType")}
    accounts = live(emulator, "Account")
    opportunities = live(emulator, "Opportunity")
    pledged = {o["Id"] for o in opportunities if o["StageName"] == "Pledged"}
    return {
        "funds": {r["Id"] for r in live(emulator, "npsp__General_Accounting_Unit__c")},
        "households": {a["Id"] for a in accounts if record_types.get(a["RecordTypeId"]) == "HH_Account"},
        "supporters": {r["Id"] for r in live(emulator, "Contact")},
        "organizations": {a["Id"] for a in accounts if record_types.get(a["RecordTypeId"]) == "Organization"},
        "campaigns": {r["Id"] for r in live(emulator, "Campaign")},
        "recurring_donations": {r["Id"] for r in live(emulator, "npe03__Recurring_Donation__c")},
        "pledges": pledged,
        "transactions": {o["Id"] for o in opportunities} - pledged,
        "transaction_payments": {
            p["Id"]
            for p in live(emulator, "npe01__OppPayment__c")
            if p["npe01__Opportunity__c"] not in pledged
        },
        "fund_allocations": {r["Id"] for r in live(emulator, "npsp__Allocation__c")},
        "campaign_members": {r["Id"] for r in live(emulator, "CampaignMember") if r["ContactId"]},
        "soft_credits": {r["Id"] for r in live(emulator, "npsp__Partial_Soft_Credit__c")},
        "subscriptions": {r["Id"] for r in live(emulator, "Communication_Subscription__c")},
    }


def linked_ids(workspace: Workspace) -> dict[str, set[str]]:
    """CRM ids linked per platform type."""
    with workspace.engine.connect() as conn:
        rows = conn.execute(sa.select(links.c.platform_type, links.c.crm_id))
        found: dict[str, set[str]] = {}
        for row in rows:
            found.setdefault(row.platform_type, set()).add(row.crm_id)
    return found


def platform_state(workspace: Workspace) -> dict[str, dict[str, dict[str, Any]]]:
    """Every platform row by type and CRM id, with lookups as parent CRM ids (comparable across DBs)."""
    profile = load_profile("npsp")
    with workspace.engine.connect() as conn:
        crm_of: dict[tuple[str, int], str] = {
            (r.platform_type, r.platform_id): r.crm_id
            for r in conn.execute(sa.select(links.c.platform_type, links.c.platform_id, links.c.crm_id))
        }
        kept = {(r.platform_type, r.platform_id) for r in conn.execute(sa.select(archived))}
        state: dict[str, dict[str, dict[str, Any]]] = {}
        for mapping in profile.objects:
            table = platform_table(mapping.type)
            targets = {t.column: t.type for lookup in mapping.lookups for t in lookup.targets}
            rows = {}
            for row in conn.execute(sa.select(table)):
                values = dict(row._mapping)
                if (mapping.type, values["id"]) in kept:
                    continue  # deleted in the CRM: archived, not part of what the CRM holds
                crm_id = crm_of.get((mapping.type, values.pop("id")), f"<unlinked {len(rows)}>")
                for column in ("organization_id", "created_at", "updated_at"):
                    values.pop(column)
                for column, target in targets.items():
                    if values.get(column) is not None:
                        values[column] = crm_of.get((target, values[column]), "<dangling>")
                rows[crm_id] = {k: str(v) if v is not None else None for k, v in values.items()}
            state[mapping.type] = rows
    return state


def row_counts(workspace: Workspace) -> dict[str, int]:
    """Platform rows per type."""
    profile = load_profile("npsp")
    with workspace.engine.connect() as conn:
        return {
            m.type: conn.execute(sa.select(sa.func.count()).select_from(platform_table(m.type))).scalar_one()
            for m in profile.objects
        }
