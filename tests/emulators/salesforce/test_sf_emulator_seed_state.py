"""The NPSP seed (size, determinism, realism, bursts) and the state file across restarts."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import requests
from sf_emulator_testkit import ToEmulator, password_token
from simple_salesforce import Salesforce

from crmsync.catalogs import load_catalog
from crmsync.emulators.salesforce.clock import Clock
from crmsync.emulators.salesforce.org import Org
from crmsync.emulators.salesforce.seed import parse_seed_spec, seed_npsp
from crmsync.emulators.salesforce.server import running_emulator


def frozen_org() -> Org:
    clock = Clock()
    clock.freeze()
    clock.set(datetime(2025, 6, 15, 9, 30, tzinfo=UTC))
    org = Org(load_catalog("salesforce_npsp"), clock=clock)
    org.ensure_admin()
    return org


def snapshot(org: Org) -> dict[str, list[dict[str, object]]]:
    return {name: [row.to_dict() for row in org.scan(name)] for name in org.catalog.objects}


@pytest.mark.parametrize("records", [150, 1000, 5000])
def test_seed_size_is_within_five_percent(records: int) -> None:
    org = frozen_org()
    seed_npsp(org, records, seed=3)
    assert abs(org.total() - records) <= records * 0.05


def test_same_seed_same_org_and_other_seed_differs() -> None:
    first, second, other = frozen_org(), frozen_org(), frozen_org()
    seed_npsp(first, 2000, seed=7)
    seed_npsp(second, 2000, seed=7)
    seed_npsp(other, 2000, seed=8)
    assert snapshot(first) == snapshot(second)
    assert snapshot(first) != snapshot(other)


def test_seed_is_a_believable_npsp_org() -> None:
    org = frozen_org()
    counts = seed_npsp(org, 5000, seed=1)
    # Every object has records, but those only the customer-success preset fills.
    customer_success = {"Task", "Note", "Asset", "Case", "License__c", "Project__c"}
    assert set(counts) == set(org.catalog.objects) - customer_success
    assert 0.30 <= counts["Opportunity"] / org.total() <= 0.40
    types = {row["Id"]: row["DeveloperName"] for row in org.scan("RecordType")}
    assert set(types.values()) == {
        "HH_Account",
        "Organization",
        "Donation",
        "Grant",
        "Major_Gift",
        "Membership",
        "Pledge",
    }
    households = [row for row in org.scan("Account") if types.get(row["RecordTypeId"]) == "HH_Account"]
    assert all(row["Name"].endswith(" Household") for row in households)
    live_contacts = [row for row in org.scan("Contact") if not row["IsDeleted"]]
    per_household = Counter(row["AccountId"] for row in live_contacts)
    assert set(per_household.values()) <= {1, 2, 3}
    emails = [row["Email"] for row in live_contacts]
    assert any(email is None for email in emails)
    assert any(email and email.isupper() for email in emails)
    stages = Counter(row["StageName"] for row in org.scan("Opportunity"))
    assert stages.most_common(1)[0][0] == "Closed Won"
    assert stages["Pledged"] > 0
    assert stages["Closed Lost"] > 0
    assert any(row["npe03__Recurring_Donation__c"] for row in org.scan("Opportunity"))
    assert any(row["npsp__Recurring_Donation__c"] for row in org.scan("npsp__Allocation__c"))
    organizations = [row for row in org.scan("Account") if types.get(row["RecordTypeId"]) == "Organization"]
    assert any(row["npe01__One2OneContact__c"] for row in organizations)
    deleted = [row for row in org.scan("Contact") if row["IsDeleted"]]
    assert any(row["MasterRecordId"] for row in deleted)
    assert any(row["MasterRecordId"] is None for row in deleted)
    # Three years of history up to the start of the clock's day (the integration user is new).
    stamps = [row["CreatedDate"] for name in org.catalog.objects for row in org.scan(name) if name != "User"]
    assert min(stamps) >= "2022-06-14"
    assert max(stamps) < "2025-06-15T00:00"


def test_large_seed_has_bursts_and_is_fast() -> None:
    org = frozen_org()
    started = time.perf_counter()
    seed_npsp(org, 100_000, seed=1)
    elapsed = time.perf_counter() - started
    assert elapsed < 20, elapsed
    assert abs(org.total() - 100_000) <= 5_000
    shared = Counter(row["SystemModstamp"] for row in org.scan("Opportunity")).most_common(1)[0][1]
    assert shared > 2000
    rollup = Counter(row["SystemModstamp"] for row in org.scan("Account")).most_common(1)[0]
    accounts = [row for row in org.scan("Account") if row["SystemModstamp"] == rollup[0]]
    assert rollup[1] > 2000
    assert any(row["LastModifiedDate"] < row["SystemModstamp"] for row in accounts)


def test_seed_spec_parsing() -> None:
    assert parse_seed_spec("npsp:250") == ("npsp", 250)
    with pytest.raises(ValueError, match="unknown seed preset"):
        parse_seed_spec("crm:5")
    with pytest.raises(ValueError, match="number of records"):
        parse_seed_spec("npsp:lots")


def test_state_file_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "org.sqlite"
    with running_emulator(state=state, seed="npsp:300") as first:
        session = requests.Session()
        session.mount("https://", ToEmulator(first.base_url.removeprefix("http://")))
        sf = Salesforce(
            username="admin@npsp.example.org",
            password="emulator-password",
            consumer_key="crmsync-emulator",
            consumer_secret="emulator-secret",
            session=session,
        )
        created = sf.Contact.create({"LastName": "Persistent", "Platform_Id__c": "keep-1"})["id"]
        sf.Contact.update(created, {"Title": "Kept", "npe01__Preferred_Email__c": None})
        before_total = first.org.total()
        used = first.state.usage.used
        doomed = sf.query("SELECT Id FROM Lead LIMIT 1")["records"][0]["Id"]
        sf.Lead.delete(doomed)
    with running_emulator(state=state, seed="npsp:300") as second:
        assert second.org.total() == before_total  # not seeded again
        row = second.org.get("Contact", created)
        assert row is not None
        assert row["Title"] == "Kept"
        assert row["npe01__Preferred_Email__c"] is None  # a cleared field does not get its default back
        assert second.org.get("Lead", doomed)["IsDeleted"] is True  # type: ignore[index]
        assert second.state.usage.used == used + 2
        token = password_token(second.base_url)["access_token"]
        response = httpx.post(
            f"{second.base_url}/services/data/v61.0/sobjects/Contact",
            json={"LastName": "After restart"},
            headers={"Authorization": f"Bearer {token}"},
        )
        new_id = response.json()["id"]
        assert new_id not in {
            row["Id"] for row in second.org.scan("Contact") if row["LastName"] != "After restart"
        }
        duplicate = httpx.patch(
            f"{second.base_url}/services/data/v61.0/sobjects/Contact/Platform_Id__c/keep-1",
            json={"Title": "Again"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert duplicate.json()["id"] == created
