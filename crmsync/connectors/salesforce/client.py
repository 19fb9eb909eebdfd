"""An httpx client for the Salesforce REST API: auth, retries with backoff, limits header."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

import httpx

from crmsync import jsontext
from crmsync.connectors.retry import Retrying, RetryPolicy
from crmsync.connectors.salesforce.auth import Credentials, MemoryTokenStore, Token, TokenStore, obtain_token
from crmsync.connectors.salesforce.errors import decide, malformed
from crmsync.errors import AuthError, ProtocolError, TransientError, UnreachableError

# The org-wide figure, not the connected app's ``per-app-api-usage=`` that may follow it.
_LIMIT = re.compile(r"(?:^|[\s,;])api-usage=(\d+)/(\d+)")


class SalesforceClient:
    """One connection's HTTP access to Salesforce; thread-safe for concurrent requests."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        api_version: str = "61.0",
        token_store: TokenStore | None = None,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.credentials = credentials
        self.api_version = api_version
        self.retry = retry or RetryPolicy()
        self._tokens = token_store or MemoryTokenStore()
        # Kept for long-lived side channels (the Streaming API) that need their own client.
        self.transport = transport
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
            transport=transport,
            headers={"Accept": "application/json", "Sforce-Call-Options": "client=crmsync"},
        )
        self._lock = threading.Lock()
        # Whether Salesforce ever answered: an unreachable host is worth patience only then.
        self._reached = False
        self.calls = 0
        self.limit_used: int | None = None
        self.limit_max: int | None = None

    @property
    def data_path(self) -> str:
        """The versioned REST root, e.g. /services/data/v61.0."""
        return f"/services/data/v{self.api_version}"

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def token(self) -> Token:
        """The current token, logging in first if there is none."""
        current = self._tokens.load()
        if current is not None:
            return current
        return self._tokens.replace(None, lambda: self._login(None))

    def refresh(self, stale: Token) -> Token:
        """A token newer than ``stale`` (one refresh at a time per connection)."""
        return self._tokens.replace(stale, lambda: self._login(stale))

    def _login(self, previous: Token | None) -> Token:
        """Run the login flow, retrying what may pass.

        The token store holds its lock meanwhile (on SQLite, the database's write lock), so
        the login keeps to the short budget; a whole run's patience waits in :meth:`request`,
        with the lock released.
        """
        retrying = Retrying(self.retry.short(), "Salesforce")
        while True:
            try:
                token = obtain_token(self._http, self.credentials, previous=previous)
            except TransientError as exc:
                retrying.wait(exc, reached=self._reached)
                continue
            except ProtocolError as exc:
                if not exc.details.get("malformed"):
                    raise
                retrying.wait(exc, reached=self._reached)
                continue
            self._reached = True
            return token

    def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Send one REST call and return its JSON body (None for 204); retries what may pass."""
        retrying = Retrying(self.retry, "Salesforce")
        refreshed = False
        while True:
            try:
                token = self.token()
            except TransientError as exc:
                self._after_failed_login(retrying, exc)
                continue
            url = path if path.startswith("/services/") else f"{self.data_path}/{path.lstrip('/')}"
            action: str
            result: Any
            try:
                # The body is read here, not kept on the response: httpx's response and its
                # stream refer to each other, so a response waits for the cyclic collector
                # to be freed, and a page's body (a megabyte or more) would wait with it.
                with self._http.stream(
                    method,
                    token.instance_url + url,
                    params=params,
                    json=json,
                    headers={**(headers or {}), "Authorization": f"Bearer {token.access_token}"},
                ) as response:
                    content = b"".join(response.iter_bytes())
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                action, result = (
                    "retry",
                    UnreachableError(
                        f"{what}: cannot reach Salesforce at {token.instance_url} "
                        f"({exc or type(exc).__name__}); check instance_url and the network"
                    ),
                )
            except httpx.TimeoutException as exc:
                action, result = (
                    "retry",
                    TransientError(f"{what}: Salesforce did not answer in time ({type(exc).__name__})"),
                )
            except httpx.TransportError as exc:
                action, result = (
                    "retry",
                    TransientError(
                        f"{what}: Salesforce at {token.instance_url} dropped the connection "
                        f"({exc or type(exc).__name__})"
                    ),
                )
            else:
                self._count(response)
                action, result = self._outcome(response, content, what)
            if action == "ok":
                return result
            if action == "refresh":
                if refreshed:
                    # A session Salesforce issued a moment ago is refused too: logging in
                    # again would loop; a person has to look at the user or the app.
                    code = result.details.get("errorCode") or f"HTTP {result.details.get('status')}"
                    raise AuthError(
                        f"{what}: Salesforce refused a session it had just issued ({code}); check that "
                        "the integration user is active and the connected app allows its IP range",
                        details=result.details,
                    )
                try:
                    self.refresh(token)
                except TransientError as exc:
                    self._after_failed_login(retrying, exc)
                    continue
                refreshed = True
                continue
            if action != "retry":
                raise result
            retrying.wait(result, reached=self._reached)

    def _after_failed_login(self, retrying: Retrying, exc: TransientError) -> None:
        """A login spent its own attempts: a patient call waits it out, the token lock released."""
        if not retrying.patient_with(exc, reached=self._reached):
            raise exc
        retrying.wait(exc, reached=self._reached)

    def _outcome(self, response: httpx.Response, content: bytes, what: str) -> tuple[str, Any]:
        """("ok", body) or (action, error) for one answer (``content``: its body)."""
        if response.status_code == 204:
            return "ok", None
        try:
            body = jsontext.loads(content) if content else None
        except ValueError:
            # As httpx's Response.text decodes it.
            text = content.decode(response.encoding or "utf-8", errors="replace")
            if response.status_code >= 300:
                # An error page from a proxy or load balancer: the status decides.
                body = text[:200].replace("\n", " ")
            else:
                # A truncated body is usually a dropped connection: worth retrying; if it keeps
                # happening, the error says what to check.
                return "retry", malformed(what, response.status_code, text)
        if response.status_code < 300:
            return "ok", body
        decision = decide(response.status_code, body, retry_after=_retry_after(response), what=what)
        return decision.action, decision.error

    def _count(self, response: httpx.Response) -> None:
        self._reached = True
        with self._lock:
            self.calls += 1
            match = _LIMIT.search(response.headers.get("Sforce-Limit-Info", ""))
            if match:
                self.limit_used, self.limit_max = int(match.group(1)), int(match.group(2))


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
