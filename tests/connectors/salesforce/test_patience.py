"""A whole run's patience in the Salesforce client: minutes for an outage, seconds for a wrong
URL, and a login that keeps failing waited out without holding the token lock."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sf_connector_testkit import CountingTransport, MakeClient, closed_port
from testkit import FakeTime

from crmsync.connectors.retry import RetryPolicy, Wait
from crmsync.connectors.salesforce.auth import MemoryTokenStore, Token
from crmsync.emulators.salesforce.server import Emulator
from crmsync.errors import GaveUpError, UnreachableError

LIMITS = "/services/data/v61.0/limits"
TOKEN = "/services/oauth2/token"


def _patient(fake: FakeTime, on_wait: Callable[[Wait], None] | None = None) -> RetryPolicy:
    return RetryPolicy.patient(10, sleep=fake.sleep, clock=fake.clock, on_wait=on_wait)


def test_a_login_that_fails_beyond_its_attempts_is_waited_out_with_the_lock_released(
    emulator: Emulator, make_client: MakeClient, transport: CountingTransport
) -> None:
    emulator.state.faults.add({"kind": "status", "path_prefix": TOKEN, "count": 8, "status": 503})
    store = MemoryTokenStore()
    held: list[bool] = []
    fake = FakeTime()
    # Each wait is announced just before its sleep: is anyone holding the token store's lock?
    lock: threading.Lock = store._lock  # type: ignore[attr-defined]
    client = make_client(
        token_store=store, retry=_patient(fake, on_wait=lambda _w: held.append(lock.locked()))
    )

    assert client.request("GET", "limits", what="read limits")

    assert transport.logins == 9
    # Five tries in the login itself (holding the lock), then one patient wait outside it.
    assert held == [True] * 4 + [False] + [True] * 3


def test_an_instance_never_reached_fails_in_seconds_even_with_patience(make_client: MakeClient) -> None:
    fake = FakeTime()
    instance_url = f"http://127.0.0.1:{closed_port()}"
    store = MemoryTokenStore()
    store.replace(None, lambda: Token("00Dsession", instance_url))
    client = make_client(token_store=store, retry=_patient(fake))

    with pytest.raises(UnreachableError, match="check instance_url"):
        client.request("GET", "limits", what="read limits")
    assert len(fake.delays) == 4
    assert sum(fake.delays) < 10


def test_an_outage_longer_than_the_patience_gives_up_saying_what_salesforce_said(
    emulator: Emulator, make_client: MakeClient
) -> None:
    emulator.state.faults.add(
        {
            "kind": "status",
            "path_prefix": LIMITS,
            "count": None,
            "status": 503,
            "error_code": "SERVER_UNAVAILABLE",
            "message": "Salesforce is down for maintenance",
        }
    )
    fake = FakeTime()
    with pytest.raises(GaveUpError) as raised:
        make_client(retry=_patient(fake)).request("GET", "limits", what="read limits")
    assert raised.value.message.startswith("Salesforce unavailable (503): crmsync gave up after ")
    assert raised.value.message.endswith(
        "minutes; Salesforce said last: read limits: SERVER_UNAVAILABLE: Salesforce is down for maintenance"
    )
    # It stops when the next wait (up to two minutes) would pass the ten minutes.
    assert 8 <= sum(fake.delays) / 60 <= 10
