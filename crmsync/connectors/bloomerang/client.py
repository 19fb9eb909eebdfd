"""An httpx client for Bloomerang's REST API v2: the key, a client-side rate limit, retries.

Bloomerang publishes no rate limit; it answers 429 with ``Retry-After`` when a client goes
too fast. With ``rate`` ("LIMIT/SECONDS") the client paces itself to stay under it, so that
concurrent page reads fill the allowance without being refused; 429s are honoured anyway.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

import httpx

from crmsync.connectors.retry import RetryPolicy
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
    """At most ``limit`` calls start in any sliding window of ``seconds`` (thread-safe)."""

    def __init__(self, limit: int, seconds: float) -> None:
        if limit < 1 or seconds <= 0:
            raise ValueError("a rate limit is LIMIT/SECONDS with LIMIT >= 1 and SECONDS > 0")
        self.limit = limit
        self.seconds = seconds
        self._starts: deque[float] = deque()
        self._lock = threading.Lock()

    @classmethod
    def parse(cls, text: str) -> RateWindow:
        """``"10/1"`` -> 10 calls a second."""
        limit, _, seconds = text.partition("/")
        try:
            return cls(int(limit), float(seconds))
        except ValueError:
            raise ValueError(f"a rate limit is LIMIT/SECONDS, e.g. 10/1; got {text!r}") from None

    def admit(self) -> None:
        """Wait until a call may start, and count it."""
        while True:
            with self._lock:
                now = time.monotonic()
                while self._starts and now - self._starts[0] >= self.seconds:
                    self._starts.popleft()
                if len(self._starts) < self.limit:
                    self._starts.append(now)
                    return
                wait = self.seconds - (now - self._starts[0])
            time.sleep(max(wait, 0.001))


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
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._once(method, path, params, body, raw)
            except TransientError as exc:
                if attempt >= self.retry.attempts or (method != "GET" and not _safe_to_repeat(method, exc)):
                    raise
                self.retry.sleep(self.retry.delay(attempt, exc.retry_after))

    def close(self) -> None:
        """Release connections."""
        self._http.close()

    def _once(self, method: str, path: str, params: dict[str, Any] | None, body: Any, raw: bool) -> Any:
        if self.window is not None:
            self.window.admit()
        with self._lock:
            self._calls += 1
        what = f"{method} {path}"
        try:
            response = self._http.request(method, path, params=params, json=body)
        except httpx.TimeoutException as exc:
            raise TransientError(f"Bloomerang did not answer {what} in time ({exc})") from None
        except httpx.TransportError as exc:
            raise UnreachableError(f"Bloomerang could not be reached for {what}: {exc}") from None
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
    if status == 429:
        retry_after = response.headers.get("Retry-After")
        return RateLimitedError(
            f"Bloomerang's rate limit was reached ({message}); crmsync backs off",
            retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
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
        return TransientError(f"Bloomerang failed on {what} (HTTP {status}): {message}", details=details)
    code = "NOT_FOUND" if status == 404 else "INVALID_REQUEST"
    return RecordError(f"{message}", code=code, details=details)
