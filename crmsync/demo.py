"""``crmsync demo``: an emulated NPSP org, a local SQLite platform, Sync All twice.

The first Sync All pulls the whole org. Then a few changes are made "in the Salesforce
screen" (edits, a merge, a deletion, a new gift) and a second Sync All pulls only those.
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from crmsync.config import SalesforceConfig, ToggleConfig
from crmsync.console import progress_bars, result_json, summary_table
from crmsync.emulators.salesforce.server import running_emulator
from crmsync.engine.commands import run_push, run_sync_all
from crmsync.engine.pull import RunResult
from crmsync.engine.workspace import Workspace
from crmsync.secrets import vault_from_environment
from crmsync.store import logs, records
from crmsync.store.db import reading

# The emulator's documented default connected app and integration user.
CLIENT_ID = "crmsync-emulator"
CLIENT_SECRET = "emulator-secret"  # noqa: S105 - a public test credential of the emulator
USERNAME = "admin@npsp.example.org"
PASSWORD = "emulator-password"  # noqa: S105 - a public test credential of the emulator
CONNECTION = "demo"


def run_demo(*, records: int, database: str, as_json: bool, console: Console) -> int:
    """Run the demo; returns the process exit code."""
    _fresh_sqlite(database)

    def say(text: str) -> None:
        if not as_json:
            console.print(text)

    say(f"[bold]Starting an emulated NPSP org with about {records:,} records...[/bold]")
    started = time.perf_counter()
    with running_emulator(seed=f"npsp:{records}") as emulator:
        say(f"emulator on {emulator.base_url} ({time.perf_counter() - started:.1f}s to seed)")
        workspace = Workspace(
            database, vault=vault_from_environment(default_key_file=Path(".crmsync/secret.key"))
        )
        try:
            workspace.register(CONNECTION, _connection(emulator.base_url))
            first = _sync(workspace, console, as_json, title="Sync All #1: the whole org")
            changes = _change_the_org(emulator.base_url)
            say(f"\nIn Salesforce: {changes}")
            second = _sync(workspace, console, as_json, title="Sync All #2: only what changed")
            pushed = _push_a_donation(workspace)
            say(f"\nOn the platform: {pushed}")
            errors = _recent_errors(workspace)
        finally:
            workspace.close()
    if as_json:
        print(
            json.dumps(
                {
                    "database": database,
                    "first": json.loads(result_json(first)),
                    "changes": changes,
                    "second": json.loads(result_json(second)),
                    "push": pushed,
                }
            )
        )
    else:
        if errors:
            console.print(
                "\n[bold]Latest errors in the integration log[/bold] (`crmsync logs --status error`):"
            )
            for line in errors:
                console.print(f"  [red]-[/red] {line}", highlight=False)
        console.print(
            f"\nThe platform is in [bold]{database}[/bold]. Explore it with:\n"
            f"  crmsync --database {database} logs\n"
            f"  crmsync --database {database} export supporters --json | head"
        )
    return 0 if second.status in ("succeeded", "partial") else 1


def _fresh_sqlite(database: str) -> None:
    prefix = "sqlite:///"
    if database.startswith(prefix):
        path = Path(database[len(prefix) :])
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def _connection(base_url: str) -> SalesforceConfig:
    return SalesforceConfig.model_validate(
        {
            "login_url": base_url,
            "auth": "password",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "username": USERNAME,
            "password": PASSWORD,
            "toggles": {"default": ToggleConfig(pull=True, push=True)},
        }
    )


def _sync(workspace: Workspace, console: Console, as_json: bool, *, title: str) -> RunResult:
    started = time.perf_counter()
    if as_json:
        result = run_sync_all(workspace, CONNECTION)
    else:
        console.print(f"\n[bold]{title}[/bold]")
        with progress_bars(console) as observer:
            result = run_sync_all(workspace, CONNECTION, observer=observer)
    elapsed = time.perf_counter() - started
    if not as_json:
        console.print(summary_table(result, title=f"{title}: {result.status} in {elapsed:.1f}s"))
        console.print(f"{result.message}; {result.api_calls} API calls")
    return result


def _change_the_org(base_url: str) -> str:
    """Edit, merge, delete and create records as a user in Salesforce would."""
    with httpx.Client(base_url=base_url, timeout=30) as http:
        token = http.post(
            "/services/oauth2/token",
            data={
                "grant_type": "password",
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "username": USERNAME,
                "password": PASSWORD,
            },
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}

        def query(soql: str) -> list[dict[str, Any]]:
            response = http.get("/services/data/v61.0/query", params={"q": soql}, headers=auth)
            response.raise_for_status()
            return list(response.json()["records"])

        contacts = query(
            "SELECT Id, AccountId, LastName FROM Contact WHERE Email != null "
            "ORDER BY CreatedDate DESC LIMIT 40"
        )
        for contact in contacts[:3]:
            _control(
                http,
                "PATCH",
                f"/__emulator__/records/Contact/{contact['Id']}",
                {"fields": {"Phone": "555-0100"}},
            )
        household: dict[str, str] = {}
        pair: tuple[str, str] | None = None
        for contact in contacts[3:]:
            other = household.setdefault(contact["AccountId"], contact["Id"])
            if other != contact["Id"]:
                pair = (other, contact["Id"])
                break
        merged = 0
        if pair is not None:
            _control(
                http,
                "POST",
                "/__emulator__/merge",
                {"object": "Contact", "master": pair[0], "losers": [pair[1]]},
            )
            merged = 1
        members = query("SELECT Id FROM CampaignMember ORDER BY Id LIMIT 1")
        if members:
            _control(
                http, "POST", "/__emulator__/delete", {"object": "CampaignMember", "ids": [members[0]["Id"]]}
            )
        donor = contacts[0]
        _control(
            http,
            "POST",
            "/__emulator__/records/Opportunity",
            {
                "fields": {
                    "Name": f"{donor['LastName']} Donation (demo)",
                    "AccountId": donor["AccountId"],
                    "npsp__Primary_Contact__c": donor["Id"],
                    "Amount": 125.0,
                    "StageName": "Closed Won",
                    "CloseDate": time.strftime("%Y-%m-%d"),
                }
            },
        )
    return (
        f"3 contacts edited, {merged} contact merged into its household member, "
        "1 campaign member deleted, 1 gift added"
    )


def _push_a_donation(workspace: Workspace) -> str:
    """The application records a gift by a new supporter; crmsync pushes it, parents first."""
    org = workspace.organization_id
    with workspace.engine.begin() as conn:
        (household,) = records.insert_many(conn, org, "households", [{"name": "Hopper Household"}])
        (supporter,) = records.insert_many(
            conn,
            org,
            "supporters",
            [
                {
                    "first_name": "Grace",
                    "last_name": "Hopper",
                    "email": "grace@example.org",
                    "household_id": household,
                }
            ],
        )
        records.insert_many(
            conn,
            org,
            "transactions",
            [
                {
                    "name": "Grace Hopper Donation",
                    "amount": 250,
                    "close_date": date.today(),
                    "stage": "Closed Won",
                    "supporter_id": supporter,
                    "household_id": household,
                }
            ],
        )
    report = run_push(workspace, CONNECTION)
    return (
        f"a new supporter, household and gift were written by the application and pushed: "
        f"{report.count('pushed')} records in {report.api_calls} API calls (one Composite Graph request "
        "for the chain, after matching by email)"
    )


def _control(http: httpx.Client, method: str, path: str, body: dict[str, Any]) -> None:
    response = http.request(method, path, json=body)
    response.raise_for_status()


def _recent_errors(workspace: Workspace) -> list[str]:
    with reading(workspace.engine) as conn:
        entries = logs.page(conn, workspace.organization_id, status="error", limit=5)
    return [e.message for e in entries]
