"""The seed (shape and determinism), data files, the state file, and the control API's
housekeeping (health, stats, reset, clock, settings)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from bl_testkit import Control, Validator, api_client, person

from crmsync.emulators.bloomerang import Emulator, running_emulator
from crmsync.emulators.bloomerang.seed import parse_seed_spec, seed_database
from crmsync.emulators.bloomerang.store import Store
from crmsync.emulators.bloomerang.views import render

FROZEN = 1_717_243_200  # 2024-06-01T12:00:00Z


def seeded(records: int, seed: int = 1) -> Store:
    store = Store()
    store.clock.freeze()
    store.clock.set(FROZEN)
    seed_database(store, records, seed)
    return store


def test_seed_shape_follows_the_benchmark_proportions() -> None:
    store = seeded(2100)
    counts = store.snapshot_counts()
    assert (counts["Household"], counts["Constituent"], counts["Transaction"]) == (100, 400, 1600)
    assert counts["SoftCredit"] > 0
    assert counts["Designation"] >= counts["Transaction"]
    designations = store.tables["Designation"].values()
    types = {d["Type"] for d in designations}
    assert types == {"Donation", "Pledge", "PledgePayment", "RecurringDonation", "RecurringDonationPayment"}
    people = store.tables["Constituent"].values()
    assert {p["Type"] for p in people} == {"Individual", "Organization"}
    assert sum(1 for p in people if p.get("HouseholdId")) >= 200
    fields = {f["Name"] for f in store.tables["CustomField"].values()}
    assert "Platform Id" in fields
    # Ids grow with creation time, as in the CRM.
    transactions = sorted(store.tables["Transaction"].values(), key=lambda t: t["Id"])
    assert [t["Created"] for t in transactions] == sorted(t["Created"] for t in transactions)
    assert max(t["Modified"] for t in transactions) < FROZEN


def test_seed_is_deterministic() -> None:
    first, again, other = seeded(600), seeded(600), seeded(600, seed=2)
    for kind in ("Constituent", "Household", "Transaction", "SoftCredit"):
        rendered = [render(first, kind, r) for r in first.tables[kind].values()]
        assert rendered == [render(again, kind, r) for r in again.tables[kind].values()], kind
    assert [r["FullName"] for r in first.tables["Constituent"].values()] != [
        r["FullName"] for r in other.tables["Constituent"].values()
    ]


def test_large_seed_has_a_burst_of_one_timestamp() -> None:
    store = seeded(10_500)
    stamps: dict[int, int] = {}
    for record in store.tables["Constituent"].values():
        stamps[record["Modified"]] = stamps.get(record["Modified"], 0) + 1
    assert max(stamps.values()) >= 200  # more than four pages of 50 share one second


def test_seeded_database_validates_page_by_page(
    emulator: Emulator, api: httpx.Client, control: Control
) -> None:
    control.post("/clock", {"freeze": True, "set": "2024-06-01T12:00:00Z"})
    counts = control.seed(1500)
    assert counts["Constituent"] == 286
    for path in (
        "/constituents",
        "/households",
        "/transactions",
        "/softcredits",
        "/transactions/designations",
    ):
        page = api.get(path, params={"take": 50, "skip": 50}).json()
        assert page["ResultCount"] == max(0, min(50, page["Total"] - 50)), path
    pledges = api.get("/transactions", params={"type": "Pledge", "take": 50}).json()
    assert pledges["TotalFiltered"] > 0
    assert api.get("/constituents/search", params={"search": "smith", "take": 5}).status_code == 200


def test_parse_seed_spec() -> None:
    assert parse_seed_spec("bloomerang:1000") == ("bloomerang", 1000)
    for bad in ("npsp:10", "bloomerang", "bloomerang:x", "bloomerang:0"):
        with pytest.raises(ValueError, match="PRESET:N"):
            parse_seed_spec(bad)


def test_load_keeps_ids_and_audit_trails(api: httpx.Client, control: Control) -> None:
    document = {
        "Fund": [{"Id": 1500, "Name": "Loaded Fund"}],
        "Constituent": [
            {
                "Id": 7001,
                "Type": "Individual",
                "FirstName": "Ada",
                "LastName": "Loaded",
                "HouseholdId": 7100,
                "PrimaryEmail": {"Value": "ada@loaded.example.org"},
                "AccountNumber": 41,
                "AuditTrail": {
                    "CreatedDate": "2020-01-01T00:00:00Z",
                    "LastModifiedDate": "2021-01-01T00:00:00Z",
                },
            },
            {"Id": 7002, "Type": "Individual", "FirstName": "Bea", "LastName": "Loaded"},
        ],
        "Household": [
            {
                "Id": 7100,
                **dict.fromkeys(
                    ("FullName", "SortName", "InformalName", "FormalName", "EnvelopeName", "RecognitionName"),
                    "The Loadeds",
                ),
                "HeadId": 7001,
            }
        ],
        "Transaction": [
            {
                "Id": 8001,
                "AccountId": 7001,
                "Date": "2020-02-02",
                "Amount": 10,
                "Method": "Cash",
                "Designations": [{"Id": 9001, "Type": "Donation", "Amount": 10, "Fund": {"Id": 1500}}],
                "AuditTrail": {"CreatedDate": "2020-02-02T10:00:00Z"},
            },
        ],
        "SoftCredit": [{"Id": 9501, "DesignationId": 9001, "AccountId": 7002, "Amount": 10}],
    }
    loaded = control.post("/load", document)["loaded"]
    assert loaded == {"Fund": 1, "Constituent": 2, "Household": 1, "Transaction": 1, "SoftCredit": 1}
    ada = api.get("/constituent/7001").json()
    assert (ada["AccountNumber"], ada["HouseholdId"], ada["IsHeadOfHousehold"]) == (41, 7100, True)
    assert ada["AuditTrail"]["LastModifiedDate"] == "2021-01-01T00:00:00Z"
    gift = api.get("/transaction/8001").json()
    assert gift["Designations"][0]["Id"] == 9001
    assert gift["Designations"][0]["SoftCreditIds"] == [9501]
    assert gift["AuditTrail"]["CreatedDate"] == "2020-02-02T10:00:00Z"
    fresh = api.post("/constituent", json=person()).json()
    assert fresh["Id"] > 7100  # sequences continue past loaded ids


def test_load_is_all_or_nothing(control: Control, api: httpx.Client) -> None:
    document = {
        "Constituent": [{"Id": 7001, "Type": "Individual", "FirstName": "Ada", "LastName": "Loaded"}],
        "Transaction": [
            {
                "AccountId": 7001,
                "Date": "2020-02-02",
                "Amount": 10,
                "Method": "Cash",
                "Designations": [{"Type": "Donation", "Amount": 10, "FundId": 404}],
            }
        ],
    }
    failed = control.post("/load", document, expect=400)
    assert failed["errorCode"] == "LOAD_FAILED"
    assert "Transaction[0]" in failed["message"]
    assert api.get("/constituents").json()["Total"] == 0
    assert control.post("/load", {"Planet": []}, expect=400)["errorCode"] == "LOAD_FAILED"


def test_state_file_survives_a_restart(tmp_path: Path, validator: Validator) -> None:
    state = tmp_path / "bloomerang.sqlite"
    with (
        running_emulator(state=state, seed="bloomerang:300") as first,
        api_client(first.base_url, validator) as api,
    ):
        total = api.get("/transactions", params={"take": 1}).json()["Total"]
        created = api.post("/constituent", json=person()).json()
        removed = api.get("/constituents", params={"take": 1}).json()["Results"][0]["Id"]
        assert api.delete(f"/constituent/{removed}").status_code == 200
        failing = api.post("/constituent", json={"Type": "Individual"})  # rolled back: nothing saved
        assert failing.status_code == 400
    with (
        running_emulator(state=state, seed="bloomerang:300") as second,
        api_client(second.base_url, validator) as api,
    ):
        assert api.get(f"/constituent/{created['Id']}").json() == created
        assert api.get(f"/constituent/{removed}").status_code == 404
        assert api.get("/transactions", params={"take": 1}).json()["Total"] <= total
        again = api.post("/constituent", json=person("Grace")).json()
        assert again["Id"] > created["Id"]  # sequences were kept too


def test_load_file_option(tmp_path: Path) -> None:
    data = tmp_path / "data.json"
    data.write_text(json.dumps({"Appeal": [{"Id": 3500, "Name": "From a file"}]}), encoding="utf-8")
    with running_emulator(load=data) as emulator:
        assert emulator.store.get("Appeal", 3500) is not None


def test_health_stats_reset_and_clock(api: httpx.Client, control: Control) -> None:
    api.post("/constituent", json=person())
    api.get("/constituent/1")
    health = control.get("/health")
    assert (health["status"], health["records"]) == ("ok", 1)
    stats = control.get("/stats")
    assert stats["api_calls"]["by_path"] == {"GET /v2/constituent/{id}": 1, "POST /v2/constituent": 1}
    assert stats["api_calls"]["by_status"] == {"200": 1, "404": 1}
    assert stats["records"]["Constituent"] == 1
    clock = control.post("/clock", {"freeze": True, "set": "2030-01-01T00:00:00Z"})
    assert clock == {"now": "2030-01-01T00:00:00Z", "frozen": True}
    assert control.post("/clock", {"advance_seconds": 61})["now"] == "2030-01-01T00:01:01Z"
    assert control.post("/clock", {"bogus": 1}, expect=400)["errorCode"] == "INVALID_REQUEST"
    assert control.post("/reset")["records"] == 0
    assert control.get("/stats")["api_calls"]["total"] == 0


def test_screen_edits_are_made_as_a_user(control: Control, api: httpx.Client, basics: dict[str, Any]) -> None:
    created = control.create("Constituent", person())
    assert created["AuditTrail"]["CreatedName"] == "Jordan Admin"
    edited = control.call("PUT", f"/records/Constituent/{created['Id']}", {"fields": {"JobTitle": "Poet"}})
    assert edited["JobTitle"] == "Poet"
    assert api.get(f"/constituent/{created['Id']}").json()["JobTitle"] == "Poet"
    via_api = api.put(f"/constituent/{created['Id']}", json={"JobTitle": "Analyst"}).json()
    assert via_api["AuditTrail"]["LastModifiedName"] == "API Integration User"
    assert control.call("DELETE", f"/records/Constituent/{created['Id']}")["Deleted"] is True
    assert control.get(f"/records/Constituent/{created['Id']}", expect=404)["errorCode"] == "NOT_FOUND"
    assert control.post("/records/Planet", {"fields": {}}, expect=400)
    assert control.get("/settings") == {"rate": None, "rejected": 0, "latency_ms": 0, "max_take": 50}
    auth = control.post("/auth", {"api_keys": ["k1", "k2"], "token_seconds": 60})
    assert (auth["api_keys"], auth["token_seconds"]) == (2, 60)
