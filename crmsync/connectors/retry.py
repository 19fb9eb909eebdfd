"""How patiently a connector retries transient failures: shared by every CRM's client.

Every retried failure gets ``attempts`` tries, with exponential backoff and jitter: a push
or a poll gives up within seconds, and its caller tries again later. A policy with
``patience`` (a whole run's: Sync All, a fetch, a daily push) goes on retrying what the CRM
reports as passing (5xx, 429, API limits, timeouts, dropped connections) until that many
seconds have passed, waiting up to ``max_delay`` between tries and as long as Retry-After
asks: a run rides out an outage of minutes and goes on where it stood, since repeating the
same request is safe (reads, and writes that update by id or upsert by external id).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from crmsync.errors import CrmsyncError, GaveUpError, RateLimitedError, TransientError, UnreachableError

# A status code as a person reads it in "Salesforce unavailable (503), retrying in 24 s".
_REASONS = {
    408: "timing out (408)",
    429: "rate limited (429)",
    500: "failing (500)",
    502: "failing (502 bad gateway)",
    503: "unavailable (503)",
    504: "failing (504 gateway timeout)",
}


@dataclass(frozen=True)
class Wait:
    """A retry about to wait, for whoever shows a run's progress."""

    crm: str
    reason: str
    seconds: float
    # The attempt the wait leads to (2 for the first retry).
    attempt: int

    def __str__(self) -> str:
        return f"{self.crm} {self.reason}, retrying in {self.seconds:.0f} s, attempt {self.attempt}"


# The longest wait between two tries: short keeps a push's call within seconds; patient
# spaces a run's tries over minutes.
SHORT_MAX_DELAY = 30.0
PATIENT_MAX_DELAY = 120.0


@dataclass
class RetryPolicy:
    """How often and how patiently to retry transient failures (exponential, with jitter)."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = SHORT_MAX_DELAY
    # Seconds a call may spend retrying what the CRM reports as passing; None: ``attempts`` only.
    patience: float | None = None
    # What a give-up message says comes next (a whole run: where the next run resumes).
    afterwards: str = ""
    sleep: Callable[[float], None] = field(default=time.sleep)
    clock: Callable[[], float] = field(default=time.monotonic)
    on_wait: Callable[[Wait], None] | None = None

    @classmethod
    def patient(cls, minutes: float = 10.0, **options: Any) -> RetryPolicy:
        """A whole run's policy: ``minutes`` of patience, waits of up to two minutes."""
        return cls(max_delay=PATIENT_MAX_DELAY, patience=minutes * 60, **options)

    def short(self) -> RetryPolicy:
        """This policy without patience, for a call made holding a lock others wait for."""
        return replace(self, patience=None, max_delay=min(self.max_delay, SHORT_MAX_DELAY))

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` of a retried call.

        Retry-After is honoured in full with patience (the run has minutes to spare) and up
        to ``max_delay`` without (a push must not wait minutes inside one call).
        """
        if retry_after is not None:
            return retry_after if self.patience is not None else min(retry_after, self.max_delay)
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


class Retrying:
    """One call's retries under a policy: its attempts, its time, and each wait."""

    def __init__(self, policy: RetryPolicy, crm: str) -> None:
        self.policy = policy
        self.crm = crm
        self.attempt = 1
        self._started = policy.clock()

    def patient_with(self, error: CrmsyncError, *, reached: bool) -> bool:
        """Whether ``error`` is retried for the policy's patience rather than its attempts.

        ``reached``: the CRM has answered this client before. An unreachable host is worth
        patience only then; before, it is likelier a wrong URL, which a person should hear now.
        """
        return (
            self.policy.patience is not None
            and isinstance(error, TransientError)
            and (reached or not isinstance(error, UnreachableError))
        )

    def wait(self, error: CrmsyncError, *, reached: bool) -> None:
        """Sleep before the next attempt, or raise: ``error`` itself when the attempts are
        spent, a GaveUpError when the patience is (see :meth:`patient_with`)."""
        policy = self.policy
        patient = self.patient_with(error, reached=reached)
        if not patient and self.attempt >= policy.attempts:
            raise error
        retry_after = error.retry_after if isinstance(error, TransientError) else None
        seconds = policy.delay(self.attempt, retry_after)
        if patient and policy.patience is not None:
            spent = policy.clock() - self._started
            if spent + seconds > policy.patience:
                raise self._gave_up(error, spent, retry_after)
        self.attempt += 1
        if policy.on_wait is not None:
            policy.on_wait(Wait(self.crm, _reason(error), seconds, self.attempt))
        policy.sleep(seconds)

    def _gave_up(self, error: CrmsyncError, spent: float, retry_after: float | None) -> GaveUpError:
        said = error.said if isinstance(error, TransientError) else error.message
        asked = f" ({self.crm} asked to wait {retry_after:.0f} s more)" if retry_after else ""
        then = f"; {self.policy.afterwards}" if self.policy.afterwards else ""
        return GaveUpError(
            f"{self.crm} {_reason(error)}: crmsync gave up after {_attempts(self.attempt)} over "
            f"{_duration(spent)}{asked}; {self.crm} said last: {said}{then}",
            said=said,
            details={**error.details, "attempts": self.attempt, "seconds": round(spent, 1)},
        )


def _reason(error: CrmsyncError) -> str:
    status = error.details.get("status")
    if isinstance(error, RateLimitedError) and status != 429:
        return "over its API limit"
    if isinstance(status, int):
        return _REASONS.get(status, f"failing ({status})")
    if isinstance(error, UnreachableError):
        return "unreachable"
    if isinstance(error, TransientError):
        return "not answering"
    return "answering garbled data"


def _attempts(count: int) -> str:
    return "1 attempt" if count == 1 else f"{count} attempts"


def _duration(seconds: float) -> str:
    if seconds >= 90:
        return f"{seconds / 60:.1f} minutes"
    whole = round(seconds)
    return "1 second" if whole == 1 else f"{whole} seconds"
