"""Scripted faults: every kind, matching by method and path, ``after`` and ``count``."""

from __future__ import annotations

import json
import time

import httpx
import pytest
import requests
from sf_emulator_testkit import API_VERSION, Control
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceGeneralError, SalesforceRefusedRequest

from crmsync.emulators.salesforce.server import Emulator

QUERY_PATH = f"/services/data/v{API_VERSION}/query"


def add_fault(control: Control, **rule: object) -> dict[str, object]:
    created: dict[str, object] = control.post("/faults", rule, expect=201)
    return created


def test_status_fault_then_recovery(sf: Salesforce, control: Control) -> None:
    add_fault(control, kind="status", path_prefix=QUERY_PATH, status=503, error_code="SERVER_UNAVAILABLE")
    with pytest.raises(SalesforceGeneralError) as caught:
        sf.query("SELECT Id FROM User")
    assert caught.value.status == 503
    assert caught.value.content[0]["errorCode"] == "SERVER_UNAVAILABLE"
    assert sf.query("SELECT Id FROM User")["totalSize"] == 1  # count defaults to 1
    rules = control.get("/faults")["faults"]
    assert rules[0]["fired"] == 1
    assert rules[0]["active"] is False


def test_after_count_and_method(sf: Salesforce, control: Control, api: httpx.Client) -> None:
    add_fault(
        control,
        kind="status",
        method="POST",
        path_prefix="/services/data/",
        after=1,
        count=2,
        status=500,
        error_code="UNKNOWN_EXCEPTION",
        message="boom",
    )
    assert api.get("/limits").status_code == 200  # GET does not match
    results = [
        api.post("/sobjects/Lead", json={"LastName": "L", "Company": "C"}).status_code for _ in range(4)
    ]
    assert results == [201, 500, 500, 201]


def test_unlimited_fault_until_cleared(api: httpx.Client, control: Control) -> None:
    add_fault(
        control, kind="status", path_prefix=QUERY_PATH, count=None, status=502, error_code="BAD_GATEWAY"
    )
    assert [api.get("/query", params={"q": "SELECT Id FROM User"}).status_code for _ in range(3)] == [502] * 3
    assert control.call("DELETE", "/faults") == {"cleared": 1}
    assert api.get("/query", params={"q": "SELECT Id FROM User"}).status_code == 200


def test_latency(api: httpx.Client, control: Control) -> None:
    add_fault(control, kind="latency", path_prefix=QUERY_PATH, latency_ms=300)
    started = time.perf_counter()
    response = api.get("/query", params={"q": "SELECT Id FROM User"})
    assert response.status_code == 200
    assert time.perf_counter() - started >= 0.3


def test_rate_limit(sf: Salesforce, control: Control) -> None:
    add_fault(control, kind="rate_limit", path_prefix="/services/data/")
    with pytest.raises(SalesforceRefusedRequest) as caught:
        sf.query("SELECT Id FROM User")
    assert caught.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"


def test_expire_session_is_survived_by_simple_salesforce(
    sf: Salesforce, control: Control, emulator: Emulator
) -> None:
    old = sf.session_id
    add_fault(control, kind="expire_session", path_prefix=QUERY_PATH)
    assert sf.query("SELECT Id FROM User")["totalSize"] == 1  # 401, login again, replay
    assert sf.session_id != old
    stale = httpx.get(
        f"{emulator.base_url}/services/data/v{API_VERSION}/limits", headers={"Authorization": f"Bearer {old}"}
    )
    assert stale.status_code == 401


def test_malformed_body(api: httpx.Client, control: Control) -> None:
    add_fault(control, kind="malformed", path_prefix=QUERY_PATH)
    response = api.get("/query", params={"q": "SELECT Id, Username FROM User"})
    assert response.status_code == 200
    assert response.text.startswith("{")
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


def test_drop_connection(sf: Salesforce, control: Control) -> None:
    add_fault(control, kind="drop_connection", path_prefix=QUERY_PATH)
    with pytest.raises(requests.exceptions.ConnectionError):
        sf.query("SELECT Id FROM User")
    assert sf.query("SELECT Id FROM User")["totalSize"] == 1


def test_login_can_fail_too(control: Control, sf_session: requests.Session) -> None:
    add_fault(control, kind="status", path_prefix="/services/oauth2/token", status=503)
    response = sf_session.post(
        "https://login.salesforce.com/services/oauth2/token", data={"grant_type": "password"}
    )
    assert response.status_code == 503


def test_control_api_is_never_faulted(control: Control) -> None:
    add_fault(control, kind="status", path_prefix="/", count=None)
    assert control.get("/health")["status"] == "ok"


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"kind": "explode"}, "fault kind must be one of"),
        ({"kind": "status", "after": -1}, "non-negative integer"),
        ({"kind": "status", "colour": "red"}, "unknown fault keys: colour"),
        ({"kind": "status", "status": 42}, "HTTP status code"),
    ],
)
def test_invalid_fault_rules(control: Control, rule: dict[str, object], message: str) -> None:
    assert message in control.post("/faults", rule, expect=400)["message"]


def test_status_and_rate_limit_faults_can_send_retry_after(api: httpx.Client, control: Control) -> None:
    add_fault(control, kind="rate_limit", path_prefix=QUERY_PATH, retry_after=120)
    add_fault(control, kind="status", path_prefix=QUERY_PATH, status=503, retry_after=5)
    add_fault(control, kind="status", path_prefix=QUERY_PATH, status=500)
    answers = [api.get("/query", params={"q": "SELECT Id FROM User"}) for _ in range(4)]
    assert [(a.status_code, a.headers.get("Retry-After")) for a in answers] == [
        (403, "120"),
        (503, "5"),
        (500, None),
        (200, None),
    ]
    refused = control.post("/faults", {"kind": "latency", "retry_after": 5}, expect=400)
    assert "retry_after" in refused["message"]
