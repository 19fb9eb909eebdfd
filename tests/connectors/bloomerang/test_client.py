"""The HTTP client: 429 with Retry-After, a client-side rate window, errors mapped for the caller."""

from __future__ import annotations

import math
import threading
import time

import pytest
from bl_connector_testkit import Control, MakeConnector
from testkit import FakeTime

from crmsync.connectors.base import ReadRequest
from crmsync.connectors.bloomerang.client import RateWindow
from crmsync.connectors.retry import RetryPolicy
from crmsync.emulators.bloomerang import Emulator
from crmsync.errors import AuthError, RateLimitedError


def _count(connector_read: object) -> int:
    return sum(len(page.records) for page in connector_read)  # type: ignore[attr-defined]


def test_a_429_is_retried_after_retry_after_and_the_read_completes(
    connect: MakeConnector, control: Control, emulator: Emulator
) -> None:
    counts = control.seed(600, seed=6)
    control.settings(rate="5/1")
    # No client-side limit and four pages at once: the emulator refuses some calls.
    connector = connect(concurrency=4)
    started = time.monotonic()
    read = _count(connector.read(ReadRequest(object="Transaction", fields=("Amount",))))
    elapsed = time.monotonic() - started
    assert read == counts["Transaction"]
    stats = control.stats()["api_calls"]
    assert stats["rate_limited"] > 0
    pages = math.ceil(counts["Transaction"] / 50)
    assert stats["by_status"]["200"] == pages + 2  # and the two "Platform Id" custom fields
    # Every refused call waited for its Retry-After (whole seconds) before going again.
    assert elapsed >= (pages + 2) / 5 - 1


def test_the_wait_is_the_retry_after_the_emulator_names(connect: MakeConnector, control: Control) -> None:
    control.seed(300, seed=6)
    control.fault(kind="rate_limit", path_prefix="/v2/funds", retry_after=3, count=2)
    sleeps: list[float] = []
    connector = connect(retry=RetryPolicy(attempts=4, base_delay=0.01, max_delay=60, sleep=sleeps.append))
    assert _count(connector.read(ReadRequest(object="Fund", fields=("Name",)))) == 8
    assert sleeps == [3.0, 3.0]


def test_429s_beyond_the_attempts_raise_rate_limited(connect: MakeConnector, control: Control) -> None:
    control.fault(kind="rate_limit", path_prefix="/v2/funds", retry_after=1, count=None)
    connector = connect(retry=RetryPolicy(attempts=3, sleep=lambda _s: None))
    with pytest.raises(RateLimitedError) as caught:
        list(connector.read(ReadRequest(object="Fund", fields=("Name",))))
    assert caught.value.retry_after == 1.0
    assert "rate limit" in caught.value.message


def test_the_client_rate_window_equal_to_the_emulators_is_never_refused(
    connect: MakeConnector, control: Control
) -> None:
    counts = control.seed(900, seed=7)
    control.settings(rate="5/1")
    connector = connect(rate="5/1", concurrency=4)
    started = time.monotonic()
    read = _count(connector.read(ReadRequest(object="Transaction", fields=("Amount",))))
    elapsed = time.monotonic() - started
    assert read == counts["Transaction"]
    calls = math.ceil(counts["Transaction"] / 50) + 2
    assert control.stats()["api_calls"]["rate_limited"] == 0
    assert control.settings()["rejected"] == 0
    # Paced, not slowed: 5 a second from the first call.
    assert (calls - 5) / 5 - 0.1 <= elapsed <= calls / 5 + 3


def test_rate_window_admits_at_most_limit_calls_in_any_window() -> None:
    window = RateWindow.parse("4/0.5")
    starts: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            slot = window.admit()
            with lock:
                starts.append(time.monotonic())
            window.done(slot)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    starts.sort()
    assert len(starts) == 15
    for i in range(len(starts) - 4):
        assert starts[i + 4] - starts[i] >= 0.5


def test_rate_window_keeps_a_place_for_a_call_in_flight_until_its_answer() -> None:
    window = RateWindow.parse("1/0.2")
    slow = window.admit()
    answered = threading.Timer(0.3, window.done, args=(slow,))
    answered.start()
    started = time.monotonic()
    window.done(window.admit())
    # The place frees 0.2 s after the answer (at 0.3 s), not 0.2 s after the start.
    assert time.monotonic() - started >= 0.5
    answered.join()


@pytest.mark.parametrize("text", ["", "10", "0/1", "5/0", "x/1", "5/-1"])
def test_rate_window_rejects_malformed_limits(text: str) -> None:
    with pytest.raises(ValueError, match="LIMIT/SECONDS"):
        RateWindow.parse(text)


def test_a_bad_key_is_an_auth_error_that_says_to_create_a_new_key(
    connect: MakeConnector, control: Control
) -> None:
    connector = connect(key="revoked-key")
    with pytest.raises(AuthError) as caught:
        connector.test()
    message = caught.value.message
    assert "create a new key" in message
    assert "revoked-key" not in message
    assert "Authorization has been denied" in message
    # Not retried: a refused key does not get better by asking again.
    assert control.stats()["api_calls"]["by_status"] == {"401": 1}


def test_a_5xx_is_retried_and_a_404_is_a_record_error(connect: MakeConnector, control: Control) -> None:
    control.seed(300, seed=8)
    control.fault(kind="status", status=503, path_prefix="/v2/funds", count=2)
    connector = connect()
    assert _count(connector.read(ReadRequest(object="Fund", fields=("Name",)))) == 8
    assert control.stats()["api_calls"]["by_status"]["503"] == 2
    assert "Connection successful" in connector.test()


def test_a_patient_policy_waits_the_whole_retry_after_and_beyond_the_attempts(
    connect: MakeConnector, control: Control
) -> None:
    control.seed(300, seed=6)
    control.fault(kind="rate_limit", path_prefix="/v2/funds", retry_after=45, count=7)
    fake = FakeTime()
    connector = connect(retry=RetryPolicy.patient(10, sleep=fake.sleep, clock=fake.clock))
    assert _count(connector.read(ReadRequest(object="Fund", fields=("Name",)))) == 8
    # A short policy caps a wait at 30 s and stops after 8 attempts; a whole run waits 45 s each.
    assert fake.delays == [45.0] * 7
