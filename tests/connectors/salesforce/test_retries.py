"""Transient failures: retried with exponential backoff and jitter, until they clear or the
budget is spent; unreachable hosts and malformed answers end in errors that say what to check."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sf_connector_testkit import (
    CountingTransport,
    MakeClient,
    RecordingSleep,
    closed_port,
    mock_transport,
    password_credentials,
)

from crmsync.connectors.retry import RetryPolicy
from crmsync.connectors.salesforce.auth import MemoryTokenStore, Token
from crmsync.emulators.salesforce.server import Emulator
from crmsync.errors import (
    ProtocolError,
    QueryError,
    RateLimitedError,
    RecordError,
    TransientError,
    UnreachableError,
)

LIMITS = "/services/data/v61.0/limits"
TOKEN = "/services/oauth2/token"


def backoff_bounds(attempt: int, base: float = 0.5, cap: float = 30.0) -> tuple[float, float]:
    ceiling = min(cap, base * 2 ** (attempt - 1))
    return ceiling / 2, ceiling


def assert_exponential(delays: list[float]) -> None:
    for attempt, delay in enumerate(delays, start=1):
        low, high = backoff_bounds(attempt)
        assert low <= delay <= high, f"delay {delay} before attempt {attempt + 1} outside [{low}, {high}]"


def fired(emulator: Emulator) -> list[int]:
    return [rule["fired"] for rule in emulator.state.faults.list()]


def read_limits(client: Any) -> Any:
    return client.request("GET", "limits", what="read limits")


def store_with(instance_url: str) -> MemoryTokenStore:
    store = MemoryTokenStore()
    store.replace(None, lambda: Token("00Dsession", instance_url))
    return store


# -- the backoff itself -----------------------------------------------------------------


def test_backoff_is_exponential_with_jitter_and_capped() -> None:
    policy = RetryPolicy(attempts=12, base_delay=0.5, max_delay=30.0)
    for attempt in range(1, 12):
        samples = [policy.delay(attempt, None) for _ in range(200)]
        low, high = backoff_bounds(attempt)
        assert all(low <= s <= high for s in samples)
        assert len(set(samples)) > 1, "no jitter"
    assert max(policy.delay(11, None) for _ in range(50)) <= 30.0


def test_retry_after_is_honoured_and_capped() -> None:
    policy = RetryPolicy(max_delay=30.0)
    assert policy.delay(1, 7.0) == 7.0
    assert policy.delay(4, 0.0) == 0.0
    assert policy.delay(1, 3600.0) == 30.0


# -- errors Salesforce answers -----------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_code", "kind"),
    [
        (500, "UNKNOWN_EXCEPTION", TransientError),
        (502, "BAD_GATEWAY", TransientError),
        (503, "SERVER_UNAVAILABLE", TransientError),
        (504, "GATEWAY_TIMEOUT", TransientError),
        (429, "TOO_MANY_REQUESTS", RateLimitedError),
    ],
)
def test_server_errors_are_retried_with_backoff_until_they_clear(
    emulator: Emulator,
    make_client: MakeClient,
    sleeps: RecordingSleep,
    status: int,
    error_code: str,
    kind: type[Exception],
) -> None:
    emulator.state.faults.add(
        {"kind": "status", "path_prefix": LIMITS, "count": 3, "status": status, "error_code": error_code}
    )
    client = make_client()

    assert read_limits(client)["DailyApiRequests"]

    assert fired(emulator) == [3]
    assert len(sleeps.delays) == 3
    assert_exponential(sleeps.delays)
    assert client.calls == 4


def test_request_limit_exceeded_is_retried_with_backoff(
    emulator: Emulator, make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    emulator.state.faults.add({"kind": "rate_limit", "path_prefix": LIMITS, "count": 2})

    assert read_limits(make_client())

    assert len(sleeps.delays) == 2
    assert_exponential(sleeps.delays)


def test_a_spent_daily_allocation_gives_up_as_rate_limited_after_the_budget(
    emulator: Emulator, make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    emulator.state.usage.configure(daily_max=100, used=100)
    client = make_client()

    with pytest.raises(RateLimitedError) as raised:
        read_limits(client)

    assert "REQUEST_LIMIT_EXCEEDED" in str(raised.value)
    assert "API limit" in str(raised.value)
    assert len(sleeps.delays) == 4
    assert client.calls == 5
    assert (client.limit_used, client.limit_max) == (100, 100)


def test_a_fault_that_does_not_clear_gives_up_after_the_attempts(
    emulator: Emulator, make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    emulator.state.faults.add({"kind": "status", "path_prefix": LIMITS, "count": None, "status": 503})
    client = make_client(retry=RetryPolicy(attempts=3, base_delay=0.5, max_delay=30.0, sleep=sleeps))

    with pytest.raises(TransientError) as raised:
        read_limits(client)

    assert "read limits: SERVER_UNAVAILABLE" in str(raised.value)
    assert raised.value.details["status"] == 503
    assert fired(emulator) == [3]
    assert len(sleeps.delays) == 2
    assert_exponential(sleeps.delays)


@pytest.mark.parametrize(
    ("header", "expected"),
    [("7", 7.0), ("0", 0.0), ("86400", 30.0)],
    ids=["honoured", "zero", "capped"],
)
def test_429_with_retry_after_waits_what_the_server_says(
    make_client: MakeClient, sleeps: RecordingSleep, header: str, expected: float
) -> None:
    # The emulator's faults carry no Retry-After header; a mock answers once with one.
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": header}, json=[{"message": "slow down"}]),
            httpx.Response(200, json={"ok": True}),
        ]
    )
    client = make_client(transport=mock_transport(lambda _: next(answers)))

    assert read_limits(client) == {"ok": True}
    assert sleeps.delays == [expected]


def test_an_unreadable_retry_after_falls_back_to_backoff(
    make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, json=[]),
            httpx.Response(200, json={}),
        ]
    )
    make_client(transport=mock_transport(lambda _: next(answers))).request("GET", "limits", what="x")
    assert_exponential(sleeps.delays)
    assert len(sleeps.delays) == 1


@pytest.mark.parametrize(
    ("status", "error_code", "kind"),
    [
        (400, "MALFORMED_QUERY", QueryError),
        (404, "NOT_FOUND", RecordError),
        (400, "FIELD_CUSTOM_VALIDATION_EXCEPTION", RecordError),
    ],
)
def test_errors_a_retry_cannot_fix_are_raised_at_once(
    emulator: Emulator,
    make_client: MakeClient,
    sleeps: RecordingSleep,
    status: int,
    error_code: str,
    kind: type[Exception],
) -> None:
    emulator.state.faults.add(
        {"kind": "status", "path_prefix": LIMITS, "status": status, "error_code": error_code}
    )
    with pytest.raises(kind) as raised:
        read_limits(make_client())
    assert error_code in str(raised.value)
    assert sleeps.delays == []


def test_an_html_error_page_from_a_proxy_is_decided_by_its_status(
    make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    page = "<html>\n<body>503 Service Temporarily Unavailable</body>\n</html>"
    client = make_client(transport=mock_transport(lambda _: httpx.Response(503, text=page)))

    with pytest.raises(TransientError) as raised:
        read_limits(client)

    assert not isinstance(raised.value, ProtocolError)
    assert "HTTP 503" in str(raised.value)
    assert "\n" not in str(raised.value)
    assert len(sleeps.delays) == 4


# -- malformed answers -----------------------------------------------------------------


def test_a_truncated_answer_is_retried_and_then_read(
    emulator: Emulator, make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    emulator.state.faults.add({"kind": "malformed", "path_prefix": LIMITS, "count": 2})

    assert read_limits(make_client())["DailyApiRequests"]
    assert len(sleeps.delays) == 2
    assert_exponential(sleeps.delays)


def test_answers_that_stay_truncated_end_in_a_protocol_error_saying_what_to_check(
    emulator: Emulator, make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    emulator.state.faults.add({"kind": "malformed", "path_prefix": LIMITS, "count": None})

    with pytest.raises(ProtocolError) as raised:
        read_limits(make_client())

    message = str(raised.value)
    assert "not valid JSON" in message
    assert "check instance_url and any proxy" in message
    assert "\n" not in message
    assert fired(emulator) == [5]
    assert len(sleeps.delays) == 4


def test_a_truncated_login_answer_is_retried(
    emulator: Emulator, make_client: MakeClient, sleeps: RecordingSleep, transport: CountingTransport
) -> None:
    emulator.state.faults.add({"kind": "malformed", "path_prefix": TOKEN, "count": 1})

    assert read_limits(make_client())
    assert transport.logins == 2
    assert len(sleeps.delays) == 1


def test_login_answers_that_stay_malformed_say_to_check_login_url(
    emulator: Emulator, make_client: MakeClient, sleeps: RecordingSleep, transport: CountingTransport
) -> None:
    emulator.state.faults.add({"kind": "malformed", "path_prefix": TOKEN, "count": None})

    with pytest.raises(ProtocolError, match="check that login_url points at a Salesforce login host"):
        read_limits(make_client())
    assert transport.logins == 5
    assert len(sleeps.delays) == 4


def test_a_login_answering_5xx_is_retried(
    emulator: Emulator, make_client: MakeClient, sleeps: RecordingSleep, transport: CountingTransport
) -> None:
    emulator.state.faults.add({"kind": "status", "path_prefix": TOKEN, "count": 2, "status": 503})

    assert read_limits(make_client())
    assert transport.logins == 3
    assert_exponential(sleeps.delays)


def test_a_dropped_connection_is_retried(
    emulator: Emulator, make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    emulator.state.faults.add({"kind": "drop_connection", "path_prefix": LIMITS, "count": 1})

    assert read_limits(make_client())
    assert len(sleeps.delays) == 1


def test_connections_that_keep_dropping_are_transient_not_unreachable(
    emulator: Emulator, make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    emulator.state.faults.add({"kind": "drop_connection", "path_prefix": LIMITS, "count": None})

    with pytest.raises(TransientError) as raised:
        read_limits(make_client())

    assert not isinstance(raised.value, UnreachableError)
    assert "dropped the connection" in str(raised.value)
    assert emulator.base_url in str(raised.value)
    assert len(sleeps.delays) == 4


# -- hosts that cannot be reached -----------------------------------------------------


def test_an_unreachable_login_host_fails_after_the_budget_naming_the_url(
    make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    login_url = f"http://127.0.0.1:{closed_port()}"
    client = make_client(password_credentials(login_url))

    with pytest.raises(UnreachableError) as raised:
        read_limits(client)

    assert login_url in str(raised.value)
    assert "check login_url and the network" in str(raised.value)
    assert len(sleeps.delays) == 4
    assert_exponential(sleeps.delays)
    assert client.calls == 0


def test_an_unreachable_instance_fails_after_the_budget_naming_the_url(
    make_client: MakeClient, sleeps: RecordingSleep, transport: CountingTransport
) -> None:
    instance_url = f"http://127.0.0.1:{closed_port()}"
    client = make_client(token_store=store_with(instance_url))

    with pytest.raises(UnreachableError) as raised:
        read_limits(client)

    assert instance_url in str(raised.value)
    assert "check instance_url and the network" in str(raised.value)
    assert len(sleeps.delays) == 4
    assert_exponential(sleeps.delays)
    assert transport.logins == 0


def raising(exc: Callable[[httpx.Request], Exception]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc(request)

    return handler


def test_a_connect_timeout_to_the_instance_is_unreachable(
    make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    handler = raising(lambda r: httpx.ConnectTimeout("timed out", request=r))
    client = make_client(transport=mock_transport(handler))

    with pytest.raises(UnreachableError, match=r"https://mock\.my\.salesforce\.com"):
        read_limits(client)
    assert len(sleeps.delays) == 4


def test_a_connect_timeout_to_the_login_host_is_unreachable(
    make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    transport = httpx.MockTransport(raising(lambda r: httpx.ConnectTimeout("timed out", request=r)))
    client = make_client(password_credentials("https://login.example.invalid"), transport=transport)

    with pytest.raises(UnreachableError, match=r"https://login\.example\.invalid"):
        read_limits(client)
    assert len(sleeps.delays) == 4


def test_a_read_timeout_is_transient_and_retried(make_client: MakeClient, sleeps: RecordingSleep) -> None:
    answers: Iterator[Exception | httpx.Response] = iter(
        [httpx.ReadTimeout("slow"), httpx.ReadTimeout("slow"), httpx.Response(200, json={"ok": 1})]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert read_limits(make_client(transport=mock_transport(handler))) == {"ok": 1}
    assert len(sleeps.delays) == 2


def test_read_timeouts_that_persist_say_salesforce_did_not_answer(
    make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    client = make_client(transport=mock_transport(raising(lambda r: httpx.ReadTimeout("slow", request=r))))
    with pytest.raises(TransientError) as raised:
        read_limits(client)
    assert not isinstance(raised.value, UnreachableError)
    assert "did not answer in time" in str(raised.value)


def test_a_login_host_answering_an_html_page_is_a_protocol_error_at_once(
    make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    page = httpx.MockTransport(lambda _: httpx.Response(404, text="<html>\n<h1>Not Found</h1>\n</html>"))
    client = make_client(password_credentials("https://www.example.org"), transport=page)

    with pytest.raises(ProtocolError) as raised:
        read_limits(client)

    assert "https://www.example.org/services/oauth2/token answered HTTP 404" in str(raised.value)
    assert "check that login_url points at a Salesforce login host" in str(raised.value)
    assert sleeps.delays == []
