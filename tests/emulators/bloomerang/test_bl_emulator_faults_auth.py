"""What integrations must survive: the rate limit with Retry-After, latency, every scripted
fault, and authentication by API key or OAuth token (with refresh)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from bl_testkit import Control, Validator, api_client, person

from crmsync.emulators.bloomerang import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator


def add_fault(control: Control, **rule: Any) -> dict[str, Any]:
    created: dict[str, Any] = control.post("/faults", rule, expect=201)
    return created


def test_rate_limit_answers_429_with_retry_after(api: httpx.Client, control: Control) -> None:
    assert control.post("/settings", {"rate": "3/1"})["rate"] == "3/1"
    statuses = [api.get("/funds").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    refused = api.get("/funds")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert "rate limit" in refused.json()["Message"].lower()
    time.sleep(1.05)
    assert api.get("/funds").status_code == 200
    stats = control.get("/stats")["api_calls"]
    assert stats["rate_limited"] == 3
    assert stats["by_path"]["GET /v2/funds"] == 7
    assert control.get("/health")["status"] == "ok"  # the control API is never limited


def test_sliding_window_admits_exactly_the_limit(emulator: Emulator, control: Control) -> None:
    control.post("/settings", {"rate": "10/1"})
    admitted = [emulator.state.limiter.acquire() is None for _ in range(12)]
    assert admitted.count(True) == 10
    assert control.post("/settings", {"rate": None})["rate"] is None


def test_latency_setting_delays_every_call(api: httpx.Client, control: Control) -> None:
    control.post("/settings", {"latency_ms": 150})
    started = time.perf_counter()
    assert api.get("/funds").status_code == 200
    assert time.perf_counter() - started >= 0.15
    started = time.perf_counter()
    control.get("/health")
    assert time.perf_counter() - started < 0.15


def test_status_fault_after_and_count(api: httpx.Client, control: Control) -> None:
    add_fault(
        control,
        kind="status",
        status=503,
        path_prefix="/v2/constituent",
        method="POST",
        after=1,
        count=2,
        retry_after=7,
    )
    answers = [api.post("/constituent", json=person(email=f"a{i}@example.org")) for i in range(4)]
    assert [a.status_code for a in answers] == [200, 503, 503, 200]
    assert answers[1].headers["Retry-After"] == "7"
    assert api.get("/constituents").json()["Total"] == 2  # the faulted calls did nothing
    (rule,) = control.get("/faults")["faults"]
    assert (rule["matched"], rule["fired"], rule["active"]) == (3, 2, False)  # spent rules stop matching
    add_fault(control, kind="status", status=500, message="Boom")
    failed = api.get("/funds")
    assert (failed.status_code, failed.json()) == (500, {"Message": "Boom"})
    assert control.call("DELETE", "/faults") == {"cleared": 2}


def test_rate_limit_fault(api: httpx.Client, control: Control) -> None:
    add_fault(control, kind="rate_limit", retry_after=30)
    refused = api.get("/funds")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "30"
    assert api.get("/funds").status_code == 200


def test_latency_fault(api: httpx.Client, control: Control) -> None:
    add_fault(control, kind="latency", latency_ms=200, path_prefix="/v2/funds")
    started = time.perf_counter()
    api.get("/funds")
    assert time.perf_counter() - started >= 0.2


def test_malformed_answer_cannot_be_parsed(emulator: Emulator, control: Control) -> None:
    add_fault(control, kind="malformed")
    # The validating client would (rightly) reject it: use a plain one.
    response = httpx.get(f"{emulator.api_url}/funds", headers={"X-API-KEY": "bloomerang-emulator-key"})
    assert response.status_code == 200
    with pytest.raises(ValueError, match=r".*"):
        response.json()


def test_drop_connection_does_nothing(api: httpx.Client, control: Control) -> None:
    add_fault(control, kind="drop_connection", method="POST")
    with pytest.raises(httpx.TransportError):
        api.post("/constituent", json=person())
    assert api.get("/constituents").json()["Total"] == 0


def test_drop_after_write_commits_then_hangs_up(
    api: httpx.Client, control: Control, basics: dict[str, Any]
) -> None:
    field = basics["platform_field"]
    add_fault(control, kind="drop_after_write", method="POST", path_prefix="/v2/constituent")
    with pytest.raises(httpx.TransportError):
        api.post("/constituent", json=person(CustomValues=[{"FieldId": field, "Value": "sup-42"}]))
    # The ambiguous failure: the write happened; the platform id finds it again.
    found = api.get("/constituents", params={"customFieldId": field, "customFieldValue": "sup-42"}).json()
    assert found["TotalFiltered"] == 1
    assert control.get("/stats")["api_calls"]["by_status"]["0"] == 1


def test_fault_rules_are_validated(control: Control) -> None:
    assert control.post("/faults", {"kind": "meteor"}, expect=400)["errorCode"] == "INVALID_REQUEST"
    assert control.post("/faults", {"kind": "status", "status": 42}, expect=400)
    assert control.post("/faults", {"kind": "latency", "retry_after": 3}, expect=400)
    assert control.post("/faults", {"kind": "status", "colour": "red"}, expect=400)


def test_api_key_is_required_in_any_header_casing(emulator: Emulator, validator: Validator) -> None:
    with api_client(emulator.base_url, validator, x_api_key="bloomerang-emulator-key") as lower:
        assert lower.get("/funds").status_code == 200
    with api_client(emulator.base_url, validator, X_API_KEY="wrong") as wrong:
        refused = wrong.get("/funds")
        assert refused.status_code == 401
        assert refused.json() == {"Message": "Authorization has been denied for this request."}
    with api_client(emulator.base_url, validator, Accept="application/json") as anonymous:
        assert anonymous.get("/constituents").status_code == 401


def test_oauth_code_token_refresh_and_expiry(
    emulator: Emulator, validator: Validator, control: Control
) -> None:
    token_url = f"{emulator.api_url}/oauth/token"
    hooks = {"response": [validator.check]}
    with httpx.Client(event_hooks=hooks) as http:
        code = control.post("/auth/code")["code"]
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
        }
        first = http.post(token_url, data=form)
        assert first.status_code == 200
        tokens = first.json()
        assert tokens["token_type"] == "Bearer"
        assert http.post(token_url, data=form).status_code == 400  # a code works once
        with api_client(
            emulator.base_url, validator, Authorization=f"Bearer {tokens['access_token']}"
        ) as bearer:
            assert bearer.get("/funds").status_code == 200
            control.post("/auth/expire-tokens")
            assert bearer.get("/funds").status_code == 401
        refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
        renewed = http.post(token_url, data=refresh, auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET))
        assert renewed.status_code == 200
        reused = http.post(token_url, data=refresh, auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET))
        assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")  # refresh tokens rotate
        bad_client = http.post(token_url, data={**form, "client_secret": "nope"})
        assert (bad_client.status_code, bad_client.json()["error"]) == (401, "invalid_client")
        with api_client(
            emulator.base_url, validator, Authorization=f"Bearer {renewed.json()['access_token']}"
        ) as bearer:
            assert bearer.get("/funds").status_code == 200
            control.post("/clock", {"advance_seconds": 3601})
            assert bearer.get("/funds").status_code == 401  # expired by the emulated clock


def test_faults_never_write_for_callers_without_credentials(
    emulator: Emulator, validator: Validator, control: Control
) -> None:
    add_fault(control, kind="drop_after_write", method="POST", count=None)
    with api_client(emulator.base_url, validator, X_API_KEY="wrong") as stranger:
        assert stranger.post("/constituent", json=person()).status_code == 401
    assert control.get("/health")["records"] == 0


def test_unknown_paths_and_methods(api: httpx.Client) -> None:
    missing = api.get("/planets")
    assert missing.status_code == 404
    assert "No HTTP resource" in missing.json()["Message"]
    assert api.delete("/campaigns").status_code == 405
    assert api.get("/constituent/not-a-number").status_code == 404
