"""``/composite``: references, allOrNone with real rollback, PROCESSING_HALTED, limits, one API call."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sf_emulator_testkit import API_VERSION, Control
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

BASE = f"/services/data/v{API_VERSION}"
ROLLED_BACK = [
    {
        "errorCode": "PROCESSING_HALTED",
        "message": "The transaction was rolled back since another operation in the same transaction failed.",
    }
]


def sub(method: str, url: str, ref: str, body: Any = None, **extra: Any) -> dict[str, Any]:
    request: dict[str, Any] = {"method": method, "url": f"{BASE}{url}", "referenceId": ref}
    if body is not None:
        request["body"] = body
    return request | extra


def composite(sf: Salesforce, requests: list[dict[str, Any]], **options: Any) -> list[dict[str, Any]]:
    answer = sf.restful("composite", method="POST", json={"compositeRequest": requests, **options})
    assert isinstance(answer, dict)
    entries: list[dict[str, Any]] = answer["compositeResponse"]
    assert [entry["referenceId"] for entry in entries] == [request["referenceId"] for request in requests]
    return entries


def count(sf: Salesforce, object_name: str) -> int:
    total: int = sf.query(f"SELECT COUNT() FROM {object_name}")["totalSize"]
    return total


def test_references_chain_creates_reads_and_queries(sf: Salesforce) -> None:
    entries = composite(
        sf,
        [
            sub("POST", "/sobjects/Account", "household", {"Name": "Doe Household"}),
            sub("POST", "/sobjects/Contact", "jane", {"LastName": "Doe", "AccountId": "@{household.id}"}),
            sub("GET", "/sobjects/Contact/@{jane.id}?fields=Id,Name,AccountId", "read"),
            sub("GET", "/query?q=SELECT+Id,Name+FROM+Account+WHERE+Id='@{household.id}'", "found"),
            sub(
                "PATCH",
                "/sobjects/Account/@{found.records[0].Id}",
                "rename",
                {"Name": "Copy of @{read.Name}"},
            ),
        ],
        collateSubrequests=False,
    )
    household, jane, read, found, rename = entries
    assert household["httpStatusCode"] == 201
    assert household["body"] == {"id": household["body"]["id"], "success": True, "errors": []}
    assert household["httpHeaders"] == {"Location": f"{BASE}/sobjects/Account/{household['body']['id']}"}
    assert read["httpStatusCode"] == 200
    assert read["body"]["AccountId"] == household["body"]["id"]
    assert read["httpHeaders"] == {}
    assert found["body"]["totalSize"] == 1
    assert rename == {"body": None, "httpHeaders": {}, "httpStatusCode": 204, "referenceId": "rename"}
    assert sf.Account.get(household["body"]["id"])["Name"] == "Copy of Doe"
    assert jane["body"]["success"] is True


def test_without_all_or_none_failures_stay_local(sf: Salesforce) -> None:
    entries = composite(
        sf,
        [
            sub("POST", "/sobjects/Account", "good", {"Name": "Kept"}),
            sub("POST", "/sobjects/Contact", "bad", {"FirstName": "No last name"}),
            sub("POST", "/sobjects/Contact", "orphan", {"LastName": "X", "AccountId": "@{bad.id}"}),
            sub("GET", "/query?q=SELECT+Id+FROM+Contact", "empty"),
            sub("POST", "/sobjects/Contact", "nothing", {"LastName": "@{empty.records[0].Id}"}),
            sub("POST", "/sobjects/Contact", "kept", {"LastName": "Kept", "AccountId": "@{good.id}"}),
        ],
    )
    statuses = [entry["httpStatusCode"] for entry in entries]
    assert statuses == [201, 400, 400, 200, 400, 201]
    assert entries[1]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert entries[2]["body"] == [
        {
            "errorCode": "PROCESSING_HALTED",
            "message": "Invalid reference specified. No value for bad.id found in bad. Provided referenceId "
            "('bad.id') must start with a letter or a number, and it can contain only letters, numbers "
            "and underscores ('_').",
        }
    ]
    assert entries[4]["body"][0]["message"].startswith(
        "Invalid reference specified. No value for empty.records[0].Id found in empty."
    )
    assert count(sf, "Account") == 1
    assert count(sf, "Contact") == 1


def test_all_or_none_rolls_back_everything_done(sf: Salesforce, control: Control) -> None:
    existing = sf.Contact.create({"LastName": "Before", "Title": "Old"})["id"]
    requests = [
        sub("POST", "/sobjects/Account", "acct", {"Name": "Rolled back"}),
        sub("PATCH", f"/sobjects/Contact/{existing}", "edit", {"Title": "New"}),
        sub("DELETE", f"/sobjects/Contact/{existing}", "gone"),
        sub("POST", "/sobjects/Contact", "bad", {"LastName": "X", "Email": "not an email"}),
        sub("POST", "/sobjects/Contact", "never", {"LastName": "Never run"}),
    ]
    entries = composite(sf, requests, allOrNone=True)
    assert [entry["httpStatusCode"] for entry in entries] == [400] * 5
    assert entries[3]["body"][0]["errorCode"] == "INVALID_EMAIL_ADDRESS"
    for index in (0, 1, 2, 4):
        assert entries[index]["body"] == ROLLED_BACK
        assert entries[index]["httpHeaders"] == {}
    assert count(sf, "Account") == 0
    restored = sf.Contact.get(existing)
    assert restored["Title"] == "Old"
    assert restored["IsDeleted"] is False
    assert control.get("/stats")["deleted"]["Contact"] == 0


def test_all_or_none_makes_collections_all_or_none(sf: Salesforce) -> None:
    records = [
        {"attributes": {"type": "Account"}, "Name": "Fine"},
        {"attributes": {"type": "Account"}},
    ]
    requests = [
        sub("POST", "/composite/sobjects", "accounts", {"allOrNone": False, "records": records}),
        sub("POST", "/sobjects/Contact", "contact", {"LastName": "Smith"}),
    ]
    using = sub(
        "POST", "/sobjects/Contact", "member", {"LastName": "Member", "AccountId": "@{accounts[0].id}"}
    )
    partial = composite(sf, [*requests, using], allOrNone=False)
    assert [r["success"] for r in partial[0]["body"]] == [True, False]
    assert partial[2]["httpStatusCode"] == 201  # a partly failed collection can still be referred to
    assert count(sf, "Account") == 1
    entries = composite(sf, requests, allOrNone=True)
    assert entries[0]["httpStatusCode"] == 200
    assert [r["errors"][0]["statusCode"] for r in entries[0]["body"]] == [
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "REQUIRED_FIELD_MISSING",
    ]
    assert entries[1]["body"] == ROLLED_BACK
    assert count(sf, "Account") == 1
    assert count(sf, "Contact") == 2


def test_unresolvable_reference_fails_an_all_or_none_composite(sf: Salesforce) -> None:
    entries = composite(
        sf,
        [
            sub("POST", "/sobjects/Account", "acct", {"Name": "A"}),
            sub("POST", "/sobjects/Contact", "contact", {"LastName": "@{acct.Name}"}),
        ],
        allOrNone=True,
    )
    assert entries[0]["body"] == ROLLED_BACK
    assert entries[1]["body"][0]["message"].startswith("Invalid reference specified. No value for acct.Name")
    assert count(sf, "Account") == 0


def test_counts_as_one_api_call(sf: Salesforce, control: Control, api: httpx.Client) -> None:
    before = control.get("/stats")["api_calls"]["total"]
    requests = [
        sub("POST", "/sobjects/Lead", f"lead{n}", {"LastName": f"L{n}", "Company": "C"}) for n in range(25)
    ]
    response = api.post("/composite", json={"compositeRequest": requests})
    assert response.status_code == 200
    stats = control.get("/stats")["api_calls"]
    assert stats["total"] == before + 1
    assert stats["by_resource"]["composite"] == 1
    assert response.headers["Sforce-Limit-Info"] == f"api-usage={before + 1}/100000"
    composite(sf, requests[:1])
    assert sf.api_usage["api-usage"].used == before + 2
    assert count(sf, "Lead") == 26


@pytest.mark.parametrize(
    ("requests", "code"),
    [
        ([sub("GET", "/limits", f"r{n}") for n in range(26)], "LIMIT_EXCEEDED"),
        ([sub("GET", "/query?q=SELECT+Id+FROM+User", f"q{n}") for n in range(6)], "LIMIT_EXCEEDED"),
        ([sub("get", "/limits", "lower")], "INVALID_API_INPUT"),
        ([{"method": "GET", "url": "/limits", "referenceId": "short"}], "INVALID_API_INPUT"),
        ([sub("GET", "/limits", "1same"), sub("GET", "/limits", "1same")], "INVALID_API_INPUT"),
        ([sub("GET", "/limits", "bad-ref")], "INVALID_API_INPUT"),
        ([sub("GET", "/limits", "h", httpHeaders={"Authorization": "x"})], "INVALID_API_INPUT"),
    ],
)
def test_malformed_composites_fail_whole(
    sf: Salesforce, control: Control, requests: list[dict[str, Any]], code: str
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.restful("composite", method="POST", json={"compositeRequest": requests})
    assert caught.value.content[0]["errorCode"] == code
    assert control.get("/stats")["api_calls"]["by_resource"] == {"composite": 1}


def test_composite_resources_listing(api: httpx.Client) -> None:
    listing = api.get("/composite").json()
    assert listing["batch"] == f"{BASE}/composite/batch"
    assert set(listing) == {"tree", "batch", "sobjects", "graph"}


def test_unsupported_subrequest_resources(sf: Salesforce) -> None:
    entries = composite(
        sf,
        [
            sub("GET", "/limits", "limits"),
            sub("GET", "/nope", "nope"),
            sub("PUT", "/sobjects/Account", "put"),
            {"method": "GET", "url": "/services/data/v10.0/limits", "referenceId": "old"},
        ],
    )
    assert [entry["httpStatusCode"] for entry in entries] == [400, 404, 405, 404]
    assert entries[0]["body"][0]["errorCode"] == "INVALID_API_INPUT"


def test_subrequest_http_headers_reach_the_subrequest(sf: Salesforce, control: Control) -> None:
    control.post(
        "/duplicate-rules",
        {"name": "Email", "object": "Contact", "match_fields": ["Email"], "action": "alert"},
        expect=201,
    )
    sf.Contact.create(
        {"LastName": "A", "Email": "a@example.org"},
        headers={"Sforce-Duplicate-Rule-Header": "allowSave=true"},
    )
    body = {"LastName": "B", "Email": "A@example.org"}
    entries = composite(
        sf,
        [
            sub("POST", "/sobjects/Contact", "refused", body),
            sub(
                "POST",
                "/sobjects/Contact",
                "allowed",
                body,
                httpHeaders={"Sforce-Duplicate-Rule-Header": "allowSave=true"},
            ),
        ],
    )
    assert entries[0]["body"][0]["errorCode"] == "DUPLICATES_DETECTED"
    assert entries[0]["body"][0]["duplicateResult"]["allowSave"] is True
    assert entries[1]["httpStatusCode"] == 201
