"""Salesforce OAuth 2.0: the four flows crmsync supports, and one refresh at a time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import httpx
import jwt

from crmsync.errors import AuthError, ConfigError, ProtocolError, TransientError, UnreachableError

Flow = Literal["password", "client_credentials", "refresh_token", "jwt"]


@dataclass(frozen=True)
class Credentials:
    """What a flow needs; secrets are plain strings only in memory, never logged."""

    flow: Flow
    login_url: str
    client_id: str | None = None
    client_secret: str | None = None
    username: str | None = None
    password: str | None = None
    security_token: str | None = None
    refresh_token: str | None = None
    private_key_file: Path | None = None

    def __repr__(self) -> str:
        return f"Credentials(flow={self.flow!r}, login_url={self.login_url!r}, username={self.username!r})"


@dataclass(frozen=True)
class Token:
    """An access token and where to use it."""

    access_token: str
    instance_url: str
    refresh_token: str | None = None

    def __repr__(self) -> str:
        return f"Token(instance_url={self.instance_url!r})"

    def to_json(self) -> dict[str, Any]:
        """For encrypted storage."""
        return {
            "access_token": self.access_token,
            "instance_url": self.instance_url,
            "refresh_token": self.refresh_token,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Token:
        """From encrypted storage."""
        return cls(data["access_token"], data["instance_url"], data.get("refresh_token"))


class TokenStore(Protocol):
    """Where a connection's token lives; ``replace`` lets only one caller refresh at a time."""

    def load(self) -> Token | None:
        """The stored token, if any."""
        ...

    def replace(self, stale: Token | None, fetch: Callable[[], Token]) -> Token:
        """Return a token newer than ``stale``: another caller's fresh one, or ``fetch()``'s."""
        ...


class MemoryTokenStore:
    """A process-local token store; threads that find the token stale wait for one refresh."""

    def __init__(self) -> None:
        self._token: Token | None = None
        self._lock = threading.Lock()

    def load(self) -> Token | None:
        """The token held in memory."""
        return self._token

    def replace(self, stale: Token | None, fetch: Callable[[], Token]) -> Token:
        """Refresh unless another thread already did."""
        with self._lock:
            if self._token is not None and self._token != stale:
                return self._token
            self._token = fetch()
            return self._token


def obtain_token(http: httpx.Client, creds: Credentials, *, previous: Token | None = None) -> Token:
    """Run the configured flow (or the refresh-token flow when a refresh token is at hand)."""
    refresh = (previous.refresh_token if previous else None) or (
        creds.refresh_token if creds.flow == "refresh_token" else None
    )
    if refresh:
        form = {"grant_type": "refresh_token", "refresh_token": refresh, "client_id": creds.client_id or ""}
        if creds.client_secret:
            form["client_secret"] = creds.client_secret
        token = _post(http, creds, form, None)
        # Salesforce only returns a new refresh token when rotation is on; keep the old one.
        return Token(token.access_token, token.instance_url, token.refresh_token or refresh)
    auth: tuple[str, str] | None = None
    if creds.flow == "password":
        password = (creds.password or "") + (creds.security_token or "")
        form = {
            "grant_type": "password",
            "client_id": creds.client_id or "",
            "client_secret": creds.client_secret or "",
            "username": creds.username or "",
            "password": password,
        }
    elif creds.flow == "client_credentials":
        form = {"grant_type": "client_credentials"}
        auth = (creds.client_id or "", creds.client_secret or "")
    elif creds.flow == "jwt":
        form = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": _assertion(creds)}
    else:
        raise ConfigError("the refresh_token flow needs refresh_token in the connection settings")
    return _post(http, creds, form, auth)


def _assertion(creds: Credentials) -> str:
    if creds.private_key_file is None:
        raise ConfigError("the jwt flow needs private_key_file in the connection settings")
    try:
        key = creds.private_key_file.read_text(encoding="ascii")
    except OSError as exc:
        raise ConfigError(f"cannot read private_key_file {creds.private_key_file}: {exc.strerror}") from None
    claims = {
        "iss": creds.client_id,
        "sub": creds.username,
        "aud": creds.login_url,
        "exp": int(time.time()) + 180,
    }
    try:
        return jwt.encode(claims, key, algorithm="RS256")
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"private_key_file {creds.private_key_file} is not an RSA private key in PEM: {exc}"
        ) from None


def _post(
    http: httpx.Client, creds: Credentials, form: dict[str, str], auth: tuple[str, str] | None
) -> Token:
    url = f"{creds.login_url}/services/oauth2/token"
    try:
        response = http.post(url, data=form, auth=auth) if auth else http.post(url, data=form)
    except httpx.TimeoutException as exc:
        raise TransientError(
            f"Salesforce login at {creds.login_url} timed out ({type(exc).__name__})"
        ) from None
    except httpx.TransportError as exc:
        raise UnreachableError(
            f"cannot reach Salesforce at {creds.login_url} ({exc}); check login_url and the network"
        ) from None
    if response.status_code >= 500:
        raise TransientError(f"Salesforce login answered HTTP {response.status_code}; will retry")
    try:
        body = response.json()
    except ValueError:
        raise ProtocolError(
            f"Salesforce login at {url} answered HTTP {response.status_code} with a body that is not JSON; "
            "check that login_url points at a Salesforce login host"
        ) from None
    if response.status_code != 200:
        error = body.get("error", "error") if isinstance(body, dict) else "error"
        description = body.get("error_description", "") if isinstance(body, dict) else str(body)
        raise AuthError(
            f"Salesforce refused the {creds.flow} login for {creds.username or creds.client_id}: "
            f"{error} ({description}); check the credentials in crmsync.toml"
        )
    if not isinstance(body, dict) or "access_token" not in body or "instance_url" not in body:
        raise ProtocolError("Salesforce login answered 200 without access_token and instance_url")
    return Token(str(body["access_token"]), str(body["instance_url"]).rstrip("/"), body.get("refresh_token"))
