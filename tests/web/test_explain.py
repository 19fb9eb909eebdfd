"""Why didn't this sync? Each reason, and the pages that show it."""

from __future__ import annotations

from datetime import timedelta

from web_testkit import TestClient, Web

from crmsync.engine.explain import note_next_sweep
from crmsync.store import push_state, records, tenancy
from crmsync.store.types import utcnow


def _why(web: Web, platform_type: str, record_id: int) -> dict[str, str]:
    answer = web.client.get(f"/api/v1/connections/sf/records/{platform_type}/{record_id}/why")
    assert answer.status_code == 200, answer.text
    result: dict[str, str] = answer.json()
    return result


def _toggles(web: Web, **toggles: tuple[bool, bool]) -> None:
    body = {t: {"pull": pull, "push": push} for t, (pull, push) in toggles.items()}
    assert web.client.patch("/api/v1/connections/sf/settings", json={"toggles": body}).status_code == 200


def test_each_reason_in_one_sentence_with_its_fix(web: Web) -> None:
    org = web.workspace.organization_id
    with web.workspace.engine.begin() as conn:
        cid = tenancy.get_connection(conn, org, "sf").id  # type: ignore[union-attr]
        (household,) = records.insert_many(conn, org, "households", [{"name": "Doe Household"}])
        (supporter,) = records.insert_many(
            conn, org, "supporters", [{"last_name": "Doe", "household_id": household}]
        )
        (pledge_like,) = records.insert_many(conn, org, "transactions", [{"name": "x", "stage": "Pledged"}])
        (fund,) = records.insert_many(conn, org, "funds", [{"name": "Fund"}])
    # Toggle off.
    why = _why(web, "supporters", supporter)
    assert why["reason"].startswith("The push toggle of supporters is off on sf")
    assert why["action"] == "settings"
    # Parent missing: households are not pushed and this one is not in the CRM.
    _toggles(web, supporters=(True, True))
    why = _why(web, "supporters", supporter)
    assert why["reason"].startswith("Its parent is missing: its households")
    # Filtered out: a transaction at stage Pledged is a pledge, not a gift.
    _toggles(web, transactions=(True, True), households=(True, True))
    assert _why(web, "transactions", pledge_like)["reason"].startswith("It is filtered out: it does not meet")
    # Waiting for the sweep, with and without a time.
    _toggles(web, funds=(True, True))
    assert "none is scheduled" in _why(web, "funds", fund)["reason"]
    at = utcnow() + timedelta(minutes=7)
    with web.workspace.engine.begin() as conn:
        note_next_sweep(conn, org, cid, at)
    assert _why(web, "funds", fund)["reason"] == f"It is waiting for the next sweep at {at:%H:%M} UTC"
    # A failed push, then a lock after three.
    with web.workspace.engine.begin() as conn:
        push_state.record_failure(conn, org, cid, "funds", fund, code="X", message="FIELD_X: nope")
    why = _why(web, "funds", fund)
    assert why["reason"].startswith("Its last push failed (1 of 3 before it locks): FIELD_X: nope")
    with web.workspace.engine.begin() as conn:
        for _ in range(2):
            push_state.record_failure(conn, org, cid, "funds", fund, code="X", message="FIELD_X: nope")
    why = _why(web, "funds", fund)
    assert why["reason"] == "It is locked after 3 failed pushes in a row; the last error was: FIELD_X: nope"
    assert why["action"] == "resync"


def test_crm_records_that_did_not_arrive(web: Web) -> None:
    url = "/api/v1/connections/sf/crm-records/supporters/why"
    _toggles(web, supporters=(False, False))
    assert (
        "pull toggle of supporters is off" in web.client.get(url, params={"crm_id": "003X"}).json()["reason"]
    )
    _toggles(web, supporters=(True, False))
    assert "not been pulled yet" in web.client.get(url, params={"crm_id": "003X"}).json()["reason"]


def test_the_why_page(web: Web, browser_client: tuple[TestClient, str]) -> None:
    client, _ = browser_client
    with web.workspace.engine.begin() as conn:
        (fund,) = records.insert_many(conn, web.workspace.organization_id, "funds", [{"name": "Fund"}])
    html = client.get("/integrations/sf/why", params={"type": "funds", "id": fund}).text
    assert "The push toggle of funds is off on sf" in html
    assert "Sync settings" in html
    assert client.get("/integrations/sf/why", params={"type": "funds", "id": 99999}).status_code == 404
    assert client.get("/integrations/sf/why", params={"type": "nope"}).status_code == 422
    assert (
        "not been pulled yet"
        in client.get("/integrations/sf/why", params={"type": "funds", "crm_id": "a0X"}).text
    )
