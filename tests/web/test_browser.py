"""The admin console in a real browser: Debian's headless Chromium driven by Playwright.

Signs in, turns every pull toggle off and presses Sync All ("nothing is enabled"), turns
them on and syncs against the emulator (counts), breaks records with an emulator
validation rule and watches them lock after 3 failed Resyncs, fixes the rule, Resyncs
one and archives the other's lock; then org syncs and data sources. Every screen is
saved under artifacts/screenshots/.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from engine_testkit import connection_config
from web_testkit import EMAIL, PASSWORD, connect

from crmsync.emulators.salesforce.server import Emulator
from crmsync.engine import accounts
from crmsync.engine.workspace import Workspace
from crmsync.secrets import Vault, generate_key
from crmsync.store import records
from crmsync.store.tables import links
from crmsync.web.server import WebServer

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None, reason="needs Debian's chromium (apt-get install chromium)"
    ),
]


@pytest.fixture(scope="module")
def served(
    emulator_server: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Workspace]]:
    path = tmp_path_factory.mktemp("browser") / "platform.db"
    workspace = Workspace(f"sqlite:///{path}", vault=Vault(generate_key()))
    connect(workspace, emulator_server)
    workspace.register("cc", connection_config(emulator_server, profile="contact-center"))
    accounts.create_admin(workspace.engine, workspace.organization_id, EMAIL, PASSWORD)
    with workspace.engine.begin() as conn:
        records.insert_many(conn, workspace.organization_id, "cc_campaigns", [{"name": "California calls"}])
    server = WebServer(workspace, "127.0.0.1", 0)
    server.start()
    try:
        yield server.url, workspace
    finally:
        server.stop()
        workspace.close()


@pytest.fixture(scope="module")
def page(served: tuple[str, Workspace]) -> Iterator[object]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(base_url=served[0], viewport={"width": 1280, "height": 900})
        context.set_default_timeout(20_000)
        yield context.new_page()
        browser.close()


def shot(page: object, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def test_the_admin_console_end_to_end(
    page: object, served: tuple[str, Workspace], emulator_server: Emulator
) -> None:
    p = page
    expect = playwright.expect
    _, workspace = served
    # Sign in.
    p.goto("/integrations")  # type: ignore[attr-defined]
    expect(p.get_by_role("heading", name="Sign in")).to_be_visible()  # type: ignore[attr-defined]
    p.get_by_label("Email").fill(EMAIL)  # type: ignore[attr-defined]
    p.get_by_label("Password").fill(PASSWORD)  # type: ignore[attr-defined]
    shot(p, "01-sign-in")
    p.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
    expect(p.get_by_role("heading", name="Integrations")).to_be_visible()  # type: ignore[attr-defined]
    p.get_by_role("button", name="Test sf", exact=True).click()  # type: ignore[attr-defined]
    expect(p.get_by_role("status")).to_contain_text("Connection successful")  # type: ignore[attr-defined]
    shot(p, "02-integrations")

    # Every pull toggle off: Sync All says nothing is enabled.
    p.goto("/integrations/sf/settings")  # type: ignore[attr-defined]
    p.get_by_role("button", name="All pull off").click()  # type: ignore[attr-defined]
    p.get_by_role("button", name="Save", exact=True).click()  # type: ignore[attr-defined]
    expect(p.get_by_role("status")).to_contain_text("Settings saved")  # type: ignore[attr-defined]
    shot(p, "03-sync-settings")
    p.goto("/integrations")  # type: ignore[attr-defined]
    p.get_by_role("button", name="Sync All sf", exact=True).click()  # type: ignore[attr-defined]
    expect(p.locator("#job-message")).to_contain_text("nothing is enabled to pull")  # type: ignore[attr-defined]
    shot(p, "04-sync-all-nothing-enabled")

    # Toggles on (and supporters pushed): Sync All against the emulator shows counts.
    p.goto("/integrations/sf/settings")  # type: ignore[attr-defined]
    p.get_by_role("button", name="All pull on").click()  # type: ignore[attr-defined]
    p.get_by_label("Push supporters").check()  # type: ignore[attr-defined]
    p.get_by_role("button", name="Save", exact=True).click()  # type: ignore[attr-defined]
    p.goto("/integrations")  # type: ignore[attr-defined]
    p.get_by_role("button", name="Sync All sf", exact=True).click()  # type: ignore[attr-defined]
    expect(p.locator("#job-status")).to_have_text("succeeded", timeout=60_000)  # type: ignore[attr-defined]
    supporters_row = p.locator("#job-objects tr", has_text="supporters")  # type: ignore[attr-defined]
    expect(supporters_row).to_be_visible()
    assert int(supporters_row.locator("td").nth(1).inner_text()) > 0
    expect(p.locator("#job-message")).to_contain_text("all records are in step")  # type: ignore[attr-defined]
    shot(p, "05-sync-all-counts")

    # Break two supporters with a validation rule: three failed Resyncs lock each.
    httpx.post(
        f"{emulator_server.base_url}/__emulator__/rules",
        json={
            "name": "Phone_Digits",
            "object": "Contact",
            "when": {"field": "Phone", "op": "contains", "value": "x"},
            "message": "Phone numbers may only contain digits",
            "field": "Phone",
        },
    ).raise_for_status()
    with workspace.engine.begin() as conn:
        ids = (
            conn.execute(
                sa.select(links.c.platform_id)
                .where(
                    links.c.connection_id == workspace.connection("sf").id,
                    links.c.platform_type == "supporters",
                )
                .order_by(links.c.platform_id)
                .limit(2)
            )
            .scalars()
            .all()
        )
        records.update_many(
            conn, workspace.organization_id, "supporters", [(i, {"phone": "12x4"}) for i in ids]
        )
    p.goto("/integrations/sf/records/supporters")  # type: ignore[attr-defined]
    shot(p, "06-records")
    for record_id in ids:
        p.goto(f"/integrations/sf/records/supporters/{record_id}")  # type: ignore[attr-defined]
        for attempt in range(3):
            p.get_by_role("button", name="Resync", exact=True).click()  # type: ignore[attr-defined]
            expect(p.get_by_role("alert")).to_contain_text("Phone numbers may only contain digits")  # type: ignore[attr-defined]
            expected = "locked" if attempt == 2 else "error"
            expect(p.locator("#record-state")).to_have_text(expected)  # type: ignore[attr-defined]
    expect(p.locator("#why-reason")).to_contain_text("It is locked after 3 failed pushes in a row")  # type: ignore[attr-defined]
    shot(p, "07-record-locked-why")
    p.goto("/locks")  # type: ignore[attr-defined]
    expect(p.locator("tbody tr")).to_have_count(2)  # type: ignore[attr-defined]
    shot(p, "08-locks")

    # Fix the rule, Resync the first: pushed, lock gone.
    httpx.delete(f"{emulator_server.base_url}/__emulator__/rules").raise_for_status()
    p.goto(f"/integrations/sf/records/supporters/{ids[0]}")  # type: ignore[attr-defined]
    p.get_by_role("button", name="Resync", exact=True).click()  # type: ignore[attr-defined]
    expect(p.get_by_role("status")).to_contain_text("Resync: 1 pushed")  # type: ignore[attr-defined]
    expect(p.locator("#record-state")).to_have_text("synced")  # type: ignore[attr-defined]
    shot(p, "09-record-resynced")

    # Archive the other lock from the locks screen (multi-select).
    p.goto("/locks")  # type: ignore[attr-defined]
    expect(p.locator("tbody tr")).to_have_count(1)  # type: ignore[attr-defined]
    p.get_by_label("Select all").check()  # type: ignore[attr-defined]
    p.get_by_role("button", name="Archive selected").click()  # type: ignore[attr-defined]
    expect(p.get_by_role("status")).to_contain_text("Archived 1 lock")  # type: ignore[attr-defined]
    expect(p.get_by_text("No locked records.")).to_be_visible()  # type: ignore[attr-defined]
    shot(p, "10-locks-archived")

    # Integration logs: tabs and details.
    p.goto("/logs?tab=errors")  # type: ignore[attr-defined]
    expect(p.locator("tbody")).to_contain_text("Phone numbers may only contain digits")  # type: ignore[attr-defined]
    shot(p, "11-logs-errors")
    p.goto("/logs?tab=push")  # type: ignore[attr-defined]
    shot(p, "12-logs-push")
    p.goto("/logs?tab=pull")  # type: ignore[attr-defined]
    p.get_by_label("Type").fill("supporters")  # type: ignore[attr-defined]
    p.get_by_role("button", name="Filter").click()  # type: ignore[attr-defined]
    shot(p, "13-logs-pull")
    p.locator("tbody a").first.click()  # type: ignore[attr-defined]
    expect(p.get_by_role("heading", name=re.compile("Log entry"))).to_be_visible()  # type: ignore[attr-defined]
    shot(p, "14-log-details")
    p.goto(f"/integrations/sf/why?type=supporters&id={ids[1]}")  # type: ignore[attr-defined]
    expect(p.locator("#why-reason")).to_contain_text("queued to be pushed")  # type: ignore[attr-defined]
    shot(p, "15-why")


def test_org_syncs_and_data_sources(page: object) -> None:
    p = page
    expect = playwright.expect
    p.goto("/integrations/cc/org-syncs")  # type: ignore[attr-defined]
    p.get_by_label("Add an org sync for").select_option("Contact")  # type: ignore[attr-defined]
    p.get_by_role("button", name="Add", exact=True).click()  # type: ignore[attr-defined]
    expect(p.get_by_text("CDC needs Change Data Capture enabled for Contact")).to_be_visible()  # type: ignore[attr-defined]
    p.get_by_label("Method").select_option("poll")  # type: ignore[attr-defined]
    expect(p.get_by_text("CDC needs Change Data Capture enabled for Contact")).to_be_hidden()  # type: ignore[attr-defined]
    p.get_by_label("Interval").select_option("5")  # type: ignore[attr-defined]
    p.get_by_label("Enabled").check()  # type: ignore[attr-defined]
    p.get_by_role("button", name="Save Contact sync").click()  # type: ignore[attr-defined]
    expect(p.get_by_role("status")).to_contain_text("Saved the Contact sync")  # type: ignore[attr-defined]
    p.get_by_role("button", name="Test Contact sync").click()  # type: ignore[attr-defined]
    expect(p.get_by_role("status")).to_contain_text("Connection successful")  # type: ignore[attr-defined]
    p.get_by_label("Name").fill("california")  # type: ignore[attr-defined]
    p.locator("#ds-filters").fill("MailingState = CA")  # type: ignore[attr-defined]
    p.locator("#ds-fields").fill("Title")  # type: ignore[attr-defined]
    p.get_by_role("button", name="Add data source").click()  # type: ignore[attr-defined]
    expect(p.get_by_role("status")).to_contain_text("Added data source california")  # type: ignore[attr-defined]
    p.get_by_label("Custom fields (key=Field)").fill("title=Title")  # type: ignore[attr-defined]
    p.get_by_role("button", name="Link", exact=True).click()  # type: ignore[attr-defined]
    expect(p.get_by_role("status")).to_contain_text("california now feeds campaign")  # type: ignore[attr-defined]
    expect(p.get_by_text("California calls: phones Phone")).to_be_visible()  # type: ignore[attr-defined]
    shot(p, "16-org-syncs-and-data-sources")
    questions: list[str] = []

    def answer(dialog: object) -> None:
        questions.append(dialog.message)  # type: ignore[attr-defined]
        dialog.accept()  # type: ignore[attr-defined]

    p.once("dialog", answer)  # type: ignore[attr-defined]
    p.get_by_role("button", name="Remove Contact sync").click()  # type: ignore[attr-defined]
    expect(p.get_by_role("status")).to_contain_text("Removed the Contact sync")  # type: ignore[attr-defined]
    assert questions == ["Remove Contact sync? This will also remove any data sources linked to this object."]
    expect(p.get_by_text("No data sources yet.")).to_be_visible()  # type: ignore[attr-defined]
