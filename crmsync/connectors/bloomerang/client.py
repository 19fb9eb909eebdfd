"""An httpx client for Bloomerang's REST API v2: the key, a client-side rate limit, retries.

Bloomerang publishes no rate limit; it answers 429 with ``Retry-After`` when a client goes
too fast. With ``rate`` ("LIMIT/SECONDS") the client paces itself to stay under it, so that
concurrent page reads fill the allowance without being refused; 429s are honoured anyway.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx

from crmsync.connectors.retry import Retrying, RetryPolicy
from crmsync.errors import (
    AuthError,
    CrmsyncError,
    ProtocolError,
    RateLimitedError,
    RecordError,
    TransientError,
    UnreachableError,
)


class RateWindow:
    """At most ``limit`` calls in any sliding window of ``seconds`` (thread-safe).

    A call holds its place from its start until ``seconds`` after its answer: Bloomerang
    counts a call when it arrives, which is after the client sent it, so a window counted
    from the starts lets a call in a little early whenever an earlier one travelled slower.
    """

    def __init__(self, limit: int, seconds: float) -> None:
        if limit < 1 or seconds <= 0:
            raise ValueError("a rate limit is LIMIT/SECONDS with LIMIT >= 1 and SECONDS > 0")
        self.limit = limit
        self.seconds = seconds
        # [stamp, answered]: the start while the call is in flight, then its answer's time.
        self._slots: list[list[float]] = []
        self._changed = threading.Condition()

    @classmethod
    def parse(cls, text: str) -> RateWindow:
        """``"10/1"`` -> 10 calls a second."""
        limit, _, seconds = text.partition("/")
        try:
            return cls(int(limit), float(seconds))
        except ValueError:
            raise ValueError(f"a rate limit is LIMIT/SECONDS, e.g. 10/1; got {text!r}") from None

    def admit(self) -> list[float]:
        """Wait until a call may start, and count it; hand the slot to :meth:`done` afterwards."""
        with self._changed:
            while True:
                now = time.monotonic()
                self._slots = [s for s in self._slots if not (s[1] and now - s[0] >= self.seconds)]
                if len(self._slots) < self.limit:
                    slot = [now, 0.0]
                    self._slots.append(slot)
                    return slot
                answered = [s[0] for s in self._slots if s[1]]
                # Every call in the window still in flight: the first answer frees a place.
                wait = self.seconds - (now - min(answered)) if answered else None
                self._changed.wait(max(wait, 0.001) if wait is not None else None)

    def done(self, slot: list[float]) -> None:
        """The call of ``slot`` was answered (or failed): its place frees ``seconds`` from now."""
        with self._changed:
            slot[0], slot[1] = time.monotonic(), 1.0
            self._changed.notify_all()


class BloomerangClient:
    """One connection's HTTP access to Bloomerang; thread-safe for concurrent requests."""

    def __init__(
        self,
        api_url: str,
        api_key: str,
        *,
        rate: str | None = None,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        connections: int = 16,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.window = RateWindow.parse(rate) if rate else None
        self.retry = retry or RetryPolicy(attempts=8)
        self._http = httpx.Client(
            base_url=self.api_url,
            headers={"X-API-KEY": api_key, "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        )
        self._calls = 0
        self._lock = threading.Lock()
        # Whether Bloomerang ever answered: an unreachable host is worth patience only then.
        self._reached = False

    @property
    def calls(self) -> int:
        """API calls sent so far (retries included: the CRM counts them)."""
        return self._calls

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET ``path`` (under /v2) and return its JSON."""
        return self.request("GET", path, params=params)

    def get_raw(self, path: str, params: dict[str, Any] | None = None) -> bytes:
        """GET ``path`` and return its body unparsed (pages kept for sharing stay compact)."""
        body: bytes = self.request("GET", path, params=params, raw=True)
        return body

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        raw: bool = False,
    ) -> Any:
        """Send one call, retrying 429, 5xx and lost connections; raise crmsync errors otherwise."""
        retrying = Retrying(self.retry, "Bloomerang")
        while True:
            try:
                return self._once(method, path, params, body, raw)
            except TransientError as exc:
                if method != "GET" and not _safe_to_repeat(method, exc):
                    raise
                retrying.wait(exc, reached=self._reached)

    def close(self) -> None:
        """Release connections."""
        self._http.close()

    def _once(self, method: str, path: str, params: dict[str, Any] | None, body: Any, raw: bool) -> Any:
        what = f"{method} {path}"
        slot = self.window.admit() if self.window is not None else None
        try:
            with self._lock:
                self._calls += 1
            response = self._http.request(method, path, params=params, json=body)
        except httpx.TimeoutException as exc:
            raise TransientError(f"Bloomerang did not answer {what} in time ({exc})") from None
        except httpx.TransportError as exc:
            raise UnreachableError(f"Bloomerang could not be reached for {what}: {exc}") from None
        finally:
            if slot is not None and self.window is not None:
                self.window.done(slot)
        self._reached = True
        if response.status_code < 300:
            if raw:
                return response.content
            try:
                return response.json()
            except ValueError:
                raise ProtocolError(f"Bloomerang answered {what} with a body that is not JSON") from None
        raise _error(response, what)


def _safe_to_repeat(method: str, exc: TransientError) -> bool:
    # A 429 was refused before anything happened, and PUT and DELETE may be repeated; a
    # POST that got no answer may have created its record, so the caller looks before
    # creating again (by the Platform Id custom field).
    return method in ("PUT", "DELETE") or isinstance(exc, RateLimitedError)


def _error(response: httpx.Response, what: str) -> CrmsyncError:
    status = response.status_code
    try:
        body = response.json()
        message = str(body.get("Message") or body) if isinstance(body, dict) else str(body)
    except ValueError:
        message = response.text[:300] or response.reason_phrase
    details = {"status": status, "request": what, "response": message}
    said = f"{what}: HTTP {status}: {message}"
    if status == 429:
        retry_after = response.headers.get("Retry-After")
        return RateLimitedError(
            f"Bloomerang's rate limit was reached ({message}); crmsync backs off",
            retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
            said=said,
            details=details,
        )
    if status == 401:
        return AuthError(
            f"Bloomerang refused the API key ({message}); create a new key in Bloomerang "
            "(Settings > Integrations > API keys) and store it with the connection",
            details=details,
        )
    if status == 403:
        return AuthError(f"Bloomerang denied {what}: {message}; check the key's user rights", details=details)
    if status >= 500:
        return TransientError(
            f"Bloomerang failed on {what} (HTTP {status}): {message}", said=said, details=details
        )
    code = "NOT_FOUND" if status == 404 else "INVALID_REQUEST"
    return RecordError(f"{message}", code=code, details=details)
