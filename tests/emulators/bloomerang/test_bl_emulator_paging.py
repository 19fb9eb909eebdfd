"""Lists: skip/take paging and its limits, pipe-separated id filters, lastModified (inclusive),
orderBy/orderDirection with ties broken by Id, and stable pages over a shared timestamp."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from bl_testkit import LENIENT, Control, person


def make_people(api: httpx.Client, count: int) -> list[int]:
    ids = []
    for index in range(count):
        response = api.post("/constituent", json=person(f"P{index:03d}", "Pager", f"p{index}@example.org"))
        assert response.status_code == 200, response.text
        ids.append(response.json()["Id"])
    return ids


def walk(api: httpx.Client, path: str, take: int, **params: Any) -> list[dict[str, Any]]:
    """Every record of a list, page by page, checking the envelope of each page."""
    seen: list[dict[str, Any]] = []
    skip = 0
    while True:
        page = api.get(path, params={**params, "skip": skip, "take": take}).json()
        assert page["Start"] == skip
        assert page["ResultCount"] == len(page["Results"]) <= take
        seen += page["Results"]
        skip += take
        if skip >= page["TotalFiltered"]:
            return seen


def test_pages_cover_every_record_once(api: httpx.Client) -> None:
    ids = make_people(api, 23)
    first = api.get("/constituents", params={"take": 10}).json()
    assert (first["Total"], first["TotalFiltered"], first["Start"], first["ResultCount"]) == (23, 23, 0, 10)
    assert [r["Id"] for r in walk(api, "/constituents", 10)] == ids  # default order: Id ascending
    last = api.get("/constituents", params={"skip": 20, "take": 10}).json()
    assert last["ResultCount"] == 3
    beyond = api.get("/constituents", params={"skip": 100}).json()
    assert (beyond["ResultCount"], beyond["Results"], beyond["TotalFiltered"]) == (0, [], 23)


def test_take_defaults_to_50_and_must_be_1_to_50(api: httpx.Client) -> None:
    make_people(api, 55)
    assert api.get("/constituents").json()["ResultCount"] == 50
    for bad in ({"take": 0}, {"take": 51}, {"take": "ten"}, {"skip": -1}):
        response = api.get("/constituents", params=bad, extensions=LENIENT)
        assert response.status_code == 400, bad
        assert response.json()["Message"]


def test_max_take_is_a_setting(api: httpx.Client, control: Control) -> None:
    make_people(api, 12)
    control.post("/settings", {"max_take": 10})
    assert api.get("/constituents").json()["ResultCount"] == 10
    assert api.get("/constituents", params={"take": 11}).status_code == 400


def test_id_filters_are_pipe_separated(api: httpx.Client) -> None:
    ids = make_people(api, 5)
    wanted = f"{ids[3]}|{ids[1]}|999999"
    found = api.get("/constituents", params={"id": wanted}).json()
    assert [r["Id"] for r in found["Results"]] == [ids[1], ids[3]]
    assert found["TotalFiltered"] == 2
    assert api.get("/constituents", params={"id": "1|x"}, extensions=LENIENT).status_code == 400


def test_type_filter(api: httpx.Client) -> None:
    make_people(api, 2)
    org = api.post("/constituent", json={"Type": "Organization", "FullName": "Acme"}).json()
    found = api.get("/constituents", params={"type": "Organization"}).json()
    assert [r["Id"] for r in found["Results"]] == [org["Id"]]


def test_last_modified_keeps_records_modified_at_or_after(api: httpx.Client, control: Control) -> None:
    control.post("/clock", {"freeze": True, "set": "2024-01-01T00:00:00Z"})
    old = make_people(api, 2)
    control.post("/clock", {"set": "2024-02-01T12:00:00Z"})
    new = make_people(api, 2)
    control.post("/clock", {"set": "2024-03-01T00:00:00Z"})
    api.put(f"/constituent/{old[0]}", json={"JobTitle": "Edited"})
    exact = api.get("/constituents", params={"lastModified": "2024-02-01T12:00:00Z"}).json()
    assert [r["Id"] for r in exact["Results"]] == [old[0], *new]
    after = api.get("/constituents", params={"lastModified": "2024-02-01T12:00:01Z"}).json()
    assert [r["Id"] for r in after["Results"]] == [old[0]]
    with_offset = api.get("/constituents", params={"lastModified": "2024-02-01T07:00:00-05:00"}).json()
    assert with_offset["TotalFiltered"] == 3
    date_only = api.get("/constituents", params={"lastModified": "2024-02-02"}, extensions=LENIENT).json()
    assert [r["Id"] for r in date_only["Results"]] == [old[0]]
    bad = api.get("/constituents", params={"lastModified": "last tuesday"}, extensions=LENIENT)
    assert bad.status_code == 400


def test_order_by_last_modified_breaks_ties_by_id(api: httpx.Client, control: Control) -> None:
    control.post("/clock", {"freeze": True, "set": "2024-01-01T00:00:00Z"})
    ids = make_people(api, 4)
    control.post("/clock", {"advance_seconds": 5})
    api.put(f"/constituent/{ids[0]}", json={"JobTitle": "Later"})
    ascending = api.get(
        "/constituents", params={"orderBy": "LastModifiedDate", "orderDirection": "Asc"}
    ).json()
    assert [r["Id"] for r in ascending["Results"]] == [ids[1], ids[2], ids[3], ids[0]]
    descending = api.get(
        "/constituents", params={"orderBy": "LastModifiedDate", "orderDirection": "Desc"}
    ).json()
    assert [r["Id"] for r in descending["Results"]] == [ids[0], ids[3], ids[2], ids[1]]
    by_created = api.get("/constituents", params={"orderBy": "CreatedDate", "orderDirection": "Desc"}).json()
    assert [r["Id"] for r in by_created["Results"]] == list(reversed(ids))
    assert api.get("/constituents", params={"orderBy": "FirstName"}, extensions=LENIENT).status_code == 400


@pytest.mark.parametrize("take", [7, 50])
def test_paging_over_one_shared_timestamp_is_stable(api: httpx.Client, control: Control, take: int) -> None:
    control.post("/clock", {"freeze": True, "set": "2024-06-01T08:00:00Z"})
    ids = make_people(api, 60)
    pages = walk(api, "/constituents", take, lastModified="2024-06-01T08:00:00Z", orderBy="LastModifiedDate")
    assert [r["Id"] for r in pages] == ids
    assert {r["AuditTrail"]["LastModifiedDate"] for r in pages} == {"2024-06-01T08:00:00Z"}


def test_households_list_filters_by_id_and_last_modified(api: httpx.Client, control: Control) -> None:
    control.post("/clock", {"freeze": True, "set": "2024-01-01T00:00:00Z"})
    ada = api.post("/constituent", json=person()).json()
    names = dict.fromkeys(
        ("FullName", "SortName", "InformalName", "FormalName", "EnvelopeName", "RecognitionName"),
        "The Lovelaces",
    )
    household = api.post("/household", json={**names, "Head": {"Id": ada["Id"]}}).json()
    control.post("/clock", {"advance_seconds": 60})
    listed = api.get("/households", params={"id": str(household["Id"])}).json()
    assert listed["Results"][0]["MemberIds"] == [ada["Id"]]
    assert listed["Results"][0]["HeadId"] == ada["Id"]
    assert (
        api.get("/households", params={"lastModified": "2024-01-01T00:00:30Z"}).json()["TotalFiltered"] == 0
    )
    assert (
        api.get("/households", params={"lastModified": "2024-01-01T00:00:00Z"}).json()["TotalFiltered"] == 1
    )


def test_funds_campaigns_and_appeals_lists(api: httpx.Client, basics: dict[str, Any]) -> None:
    funds = api.get("/funds").json()
    assert [f["Name"] for f in funds["Results"]] == ["General Fund", "Building Fund"]
    assert api.get("/funds", params={"search": "build"}).json()["TotalFiltered"] == 1
    campaign = api.get(f"/campaign/{basics['campaign']}").json()
    assert (campaign["Name"], campaign["Goal"], campaign["Raised"]) == ("2024 Annual Fund", 50000.0, 0.0)
    assert api.get("/campaigns", params={"hasGoal": "true"}).json()["TotalFiltered"] == 1
    created = api.post("/appeal", json={"Name": "Spring Gala"})
    assert created.status_code == 200
    renamed = api.put(
        f"/appeal/{created.json()['Id']}", json={"Name": "Spring Gala 2024", "IsActive": False}
    ).json()
    assert renamed["IsActive"] is False
    assert api.get("/appeals", params={"isActive": "true"}).json()["TotalFiltered"] == 1
    fund = api.post("/fund", json={"Name": "Endowment"}).json()
    assert api.get(f"/fund/{fund['Id']}").json()["Name"] == "Endowment"
    assert api.delete(f"/fund/{fund['Id']}").status_code == 405
