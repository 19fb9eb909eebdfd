"""``/composite/batch`` (independent subrequests, haltOnError) and ``/composite/graph`` (all or nothing)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sf_emulator_testkit import API_VERSION, Control
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from crmsync.emulators.salesforce.ids import make_id

V = f"v{API_VERSION}"
BASE = f"/services/data/{V}"


def batch(sf: Salesforce, requests: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
    answer = sf.restful("composite/batch", method="POST", json={"batchRequests": requests, **options})
    assert isinstance(answer, dict)
    return answer


def test_batch_polls_several_objects_in_one_call(sf: Salesforce, control: Control) -> None:
    sf.Contact.create({"LastName": "Doe"})
    sf.Lead.create({"LastName": "Lee", "Company": "Co"})
    before = control.get("/stats")["api_calls"]["total"]
    answer = batch(
        sf,
        [
            {"method": "GET", "url": f"{V}/query?q=SELECT Id, LastName FROM Contact"},
            {"method": "GET", "url": f"{V}/query?q=SELECT+Id,Company+FROM+Lead"},
            {"method": "GET", "url": f"{V}/queryAll?q=SELECT COUNT() FROM Account"},
            {"method": "GET", "url": f"{V}/limits"},
        ],
    )
    assert answer["hasErrors"] is False
    results = answer["results"]
    assert [result["statusCode"] for result in results] == [200, 200, 200, 200]
    assert results[0]["result"]["records"][0]["LastName"] == "Doe"
    assert results[1]["result"]["records"][0]["Company"] == "Co"
    assert results[2]["result"]["totalSize"] == 0
    assert "DailyApiRequests" in results[3]["result"]
    stats = control.get("/stats")["api_calls"]
    assert stats["total"] == before + 1
    assert stats["by_resource"]["composite/batch"] == 1


def test_batch_writes_commit_one_by_one(sf: Salesforce) -> None:
    contact = sf.Contact.create({"LastName": "Doe"})["id"]
    answer = batch(
        sf,
        [
            {"method": "PATCH", "url": f"{V}/sobjects/Contact/{contact}", "richInput": {"Title": "Chair"}},
            {"method": "GET", "url": f"{V}/sobjects/Contact/{contact}?fields=Title"},
            {"method": "POST", "url": f"{V}/sobjects/Contact", "richInput": {"FirstName": "No last"}},
            {"method": "POST", "url": f"{V}/sobjects/Lead", "richInput": {"LastName": "L", "Company": "C"}},
            {"method": "GET", "url": f"/services/data/{V}/limits"},
            {"method": "POST", "url": f"{V}/composite", "richInput": {"compositeRequest": []}},
        ],
    )
    results = answer["results"]
    assert answer["hasErrors"] is True
    assert [result["statusCode"] for result in results] == [204, 200, 400, 201, 404, 400]
    assert results[0]["result"] is None
    assert results[1]["result"]["Title"] == "Chair"
    assert results[2]["result"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 1


def test_batch_halt_on_error(sf: Salesforce) -> None:
    answer = batch(
        sf,
        [
            {"method": "POST", "url": f"{V}/sobjects/Lead", "richInput": {"LastName": "L", "Company": "C"}},
            {"method": "GET", "url": f"{V}/sobjects/Lead/{make_id('00Q', 999)}"},
            {"method": "POST", "url": f"{V}/sobjects/Lead", "richInput": {"LastName": "M", "Company": "C"}},
        ],
        haltOnError=True,
    )
    assert [result["statusCode"] for result in answer["results"]] == [201, 404, 412]
    assert answer["results"][2]["result"][0]["errorCode"] == "BATCH_PROCESSING_HALTED"
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 1


def test_batch_limits(api: httpx.Client) -> None:
    requests = [{"method": "GET", "url": f"{V}/limits"}] * 26
    refused = api.post("/composite/batch", json={"batchRequests": requests})
    assert refused.status_code == 400
    assert refused.json()[0]["errorCode"] == "LIMIT_EXCEEDED"
    assert api.post("/composite/batch", json={"batchRequests": [{"url": "x"}]}).status_code == 400


def node(method: str, url: str, ref: str, body: Any = None) -> dict[str, Any]:
    return {"method": method, "url": f"{BASE}{url}", "referenceId": ref} | ({"body": body} if body else {})


def household(graph_id: str, last_name: str | None) -> dict[str, Any]:
    contact = {"AccountId": "@{acct.id}"} | ({"LastName": last_name} if last_name else {})
    return {
        "graphId": graph_id,
        "compositeRequest": [
            node("POST", "/sobjects/Account", "acct", {"Name": f"{graph_id} Household"}),
            node("POST", "/sobjects/Contact", "contact", contact),
            node("PATCH", "/sobjects/Account/@{acct.id}", "touch", {"Phone": "555"}),
        ],
    }


def test_graphs_are_all_or_nothing_each(sf: Salesforce, control: Control) -> None:
    graphs = [household("g1", "Doe"), household("g2", None), household("g3", "Roe")]
    answer = sf.restful("composite/graph", method="POST", json={"graphs": graphs})
    assert [graph["graphId"] for graph in answer["graphs"]] == ["g1", "g2", "g3"]
    assert [graph["isSuccessful"] for graph in answer["graphs"]] == [True, False, True]
    ok = answer["graphs"][0]["graphResponse"]["compositeResponse"]
    assert [entry["httpStatusCode"] for entry in ok] == [201, 201, 204]
    failed = answer["graphs"][1]["graphResponse"]["compositeResponse"]
    assert [entry["httpStatusCode"] for entry in failed] == [400, 400, 400]
    assert failed[0]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert failed[1]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert failed[2]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    names = {row["Name"] for row in sf.query("SELECT Name FROM Account")["records"]}
    assert names == {"g1 Household", "g3 Household"}
    stats = control.get("/stats")
    assert stats["records"]["Contact"] == 2
    assert stats["api_calls"]["by_resource"] == {"composite/graph": 1, "query": 1}


def test_graph_references_stay_within_a_graph(sf: Salesforce) -> None:
    first = household("a", "Doe")
    second = {
        "graphId": "b",
        "compositeRequest": [node("POST", "/sobjects/Contact", "c", {"LastName": "@{acct.id}"})],
    }
    answer = sf.restful("composite/graph", method="POST", json={"graphs": [first, second]})
    assert [graph["isSuccessful"] for graph in answer["graphs"]] == [True, False]
    entry = answer["graphs"][1]["graphResponse"]["compositeResponse"][0]
    assert entry["body"][0]["message"].startswith("Invalid reference specified. No value for acct.id")


def test_graph_nodes_are_sobject_requests_only(sf: Salesforce) -> None:
    graph = {"graphId": "q", "compositeRequest": [node("GET", "/query?q=SELECT+Id+FROM+User", "users")]}
    answer = sf.restful("composite/graph", method="POST", json={"graphs": [graph]})
    assert answer["graphs"][0]["isSuccessful"] is False


@pytest.mark.parametrize(
    ("graphs", "code"),
    [
        (
            [{"graphId": "big", "compositeRequest": [node("GET", "/limits", f"n{i}") for i in range(501)]}],
            "LIMIT_EXCEEDED",
        ),
        (
            [
                {
                    "graphId": f"g{n}",
                    "compositeRequest": [node("GET", "/limits", f"n{i}") for i in range(100)],
                }
                for n in range(6)
            ],
            "LIMIT_EXCEEDED",
        ),
        ([household("same", "A"), household("same", "B")], "INVALID_API_INPUT"),
        ([{"graphId": "-x", "compositeRequest": []}], "INVALID_API_INPUT"),
    ],
)
def test_graph_limits(sf: Salesforce, graphs: list[dict[str, Any]], code: str) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.restful("composite/graph", method="POST", json={"graphs": graphs})
    assert caught.value.content[0]["errorCode"] == code
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0


def test_five_hundred_nodes_in_one_graph(api: httpx.Client, control: Control) -> None:
    nodes = [
        node("POST", "/sobjects/Lead", f"n{i}", {"LastName": f"L{i}", "Company": "C"}) for i in range(500)
    ]
    response = api.post("/composite/graph", json={"graphs": [{"graphId": "big", "compositeRequest": nodes}]})
    assert response.status_code == 200
    assert response.json()["graphs"][0]["isSuccessful"] is True
    assert control.get("/stats")["records"]["Lead"] == 500
