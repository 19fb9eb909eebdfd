"""The retry policy: a short budget of attempts for every failure, and with patience, minutes
of exponential backoff for failures the CRM reports as passing, then a message that says so."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from testkit import FakeTime

from crmsync.connectors.retry import PATIENT_MAX_DELAY, Retrying, RetryPolicy, Wait
from crmsync.errors import (
    CrmsyncError,
    GaveUpError,
    ProtocolError,
    RateLimitedError,
    TransientError,
    UnreachableError,
)

UNAVAILABLE = TransientError(
    "query Contact: SERVER_UNAVAILABLE: down for maintenance; Salesforce is unavailable; crmsync retries",
    said="query Contact: SERVER_UNAVAILABLE: down for maintenance",
    details={"status": 503, "errorCode": "SERVER_UNAVAILABLE"},
)
RESUMES = "the next run resumes from the last checkpoint"


def _patient(fake: FakeTime, on_wait: Callable[[Wait], None] | None = None) -> RetryPolicy:
    return RetryPolicy.patient(10, sleep=fake.sleep, clock=fake.clock, afterwards=RESUMES, on_wait=on_wait)


def _until_raised(retrying: Retrying, error: CrmsyncError, *, reached: bool = True) -> Exception:
    """Fail every attempt until the policy raises; what it raised."""
    for _ in range(1000):
        try:
            retrying.wait(error, reached=reached)
        except Exception as exc:
            return exc
    raise AssertionError("the policy never stopped retrying")


def _gave_up(retrying: Retrying, error: CrmsyncError, *, reached: bool = True) -> GaveUpError:
    raised = _until_raised(retrying, error, reached=reached)
    assert isinstance(raised, GaveUpError), raised
    return raised


def test_patience_retries_far_beyond_the_attempts_with_capped_exponential_backoff() -> None:
    fake = FakeTime()
    gave_up = _gave_up(Retrying(_patient(fake), "Salesforce"), UNAVAILABLE)
    for attempt, delay in enumerate(fake.delays, start=1):
        ceiling = min(PATIENT_MAX_DELAY, 0.5 * 2 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling, (attempt, delay)
    assert max(fake.delays) > 60, "the waits never reached minutes"
    # Ten minutes hold 11 waits when the jitter draws high, 16 when it draws low.
    assert 11 <= len(fake.delays) <= 16
    assert sum(fake.delays) <= 600
    attempts = len(fake.delays) + 1
    minutes = sum(fake.delays) / 60
    assert gave_up.message == (
        f"Salesforce unavailable (503): crmsync gave up after {attempts} attempts over {minutes:.1f} "
        "minutes; Salesforce said last: query Contact: SERVER_UNAVAILABLE: down for maintenance; "
        "the next run resumes from the last checkpoint"
    )
    assert gave_up.details["attempts"] == attempts


def test_retry_after_is_honoured_in_full_with_patience_and_capped_without() -> None:
    fake = FakeTime()
    asked = RateLimitedError("rate limited", retry_after=90.0, details={"status": 429})
    retrying = Retrying(_patient(fake), "Bloomerang")
    for _ in range(3):
        retrying.wait(asked, reached=True)
    assert fake.delays == [90.0, 90.0, 90.0]
    short = FakeTime()
    Retrying(RetryPolicy(sleep=short.sleep), "Bloomerang").wait(asked, reached=True)
    assert short.delays == [30.0]


def test_a_retry_after_beyond_the_patience_left_gives_up_at_once_and_says_so() -> None:
    fake = FakeTime()
    asked = TransientError(
        "down", retry_after=3600.0, said="GET /v2/funds: HTTP 503: down", details={"status": 503}
    )
    gave_up = _gave_up(Retrying(_patient(fake), "Bloomerang"), asked)
    assert fake.delays == []
    assert gave_up.message.startswith(
        "Bloomerang unavailable (503): crmsync gave up after 1 attempt over 0 seconds "
        "(Bloomerang asked to wait 3600 s more); Bloomerang said last: GET /v2/funds: HTTP 503: down"
    )


@pytest.mark.parametrize(
    ("error", "reached"),
    [
        (ProtocolError("query Contact: not valid JSON", details={"malformed": True}), True),
        (UnreachableError("cannot reach Salesforce at https://wrong.example"), False),
    ],
    ids=["garbled answer", "never reached"],
)
def test_what_patience_cannot_fix_keeps_to_the_attempts_and_raises_itself(
    error: CrmsyncError, reached: bool
) -> None:
    fake = FakeTime()
    retrying = Retrying(_patient(fake), "Salesforce")
    assert _until_raised(retrying, error, reached=reached) is error
    assert len(fake.delays) == 4


def test_an_unreachable_crm_that_answered_before_is_waited_for() -> None:
    fake = FakeTime()
    lost = UnreachableError("cannot reach Salesforce at https://na1.example")
    gave_up = _gave_up(Retrying(_patient(fake), "Salesforce"), lost)
    assert len(fake.delays) > 10
    assert gave_up.message.startswith("Salesforce unreachable: crmsync gave up after")


def test_each_wait_is_announced_before_it_starts() -> None:
    fake = FakeTime()
    waits: list[Wait] = []
    retrying = Retrying(_patient(fake, on_wait=waits.append), "Salesforce")
    for _ in range(4):
        retrying.wait(UNAVAILABLE, reached=True)
    assert [w.attempt for w in waits] == [2, 3, 4, 5]
    assert [w.seconds for w in waits] == fake.delays
    assert str(waits[2]) == f"Salesforce unavailable (503), retrying in {fake.delays[2]:.0f} s, attempt 4"


def test_without_patience_the_last_error_is_raised_as_it_was() -> None:
    fake = FakeTime()
    retrying = Retrying(RetryPolicy(sleep=fake.sleep, clock=fake.clock), "Salesforce")
    assert _until_raised(retrying, UNAVAILABLE) is UNAVAILABLE
    assert len(fake.delays) == 4
