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
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

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
        try:
            token = _post(http, creds, form, None, flow="refresh_token")
        except AuthError:
            # A revoked or expired refresh token is final only for the refresh_token flow;
            # the other flows can still log in from their own credentials.
            if creds.flow == "refresh_token":
                raise
        else:
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
    return _post(http, creds, form, auth, flow=creds.flow)


def _assertion(creds: Credentials) -> str:
    if creds.private_key_file is None:
        raise ConfigError("the jwt flow needs private_key_file in the connection settings")
    where = f"private_key_file {creds.private_key_file}"
    try:
        pem = creds.private_key_file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {where}: {exc.strerror}") from None
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # Not a PEM private key at all (a public key or certificate, a passphrase, DER, junk).
        raise ConfigError(
            f"{where} is not an unencrypted RSA private key in PEM "
            "(-----BEGIN PRIVATE KEY-----); the certificate belongs in the connected app"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(
            f"{where} holds a non-RSA key ({type(key).__name__}); Salesforce signs JWTs with RSA (RS256)"
        )
    claims = {
        "iss": creds.client_id,
        "sub": creds.username,
        "aud": creds.login_url,
        "exp": int(time.time()) + 180,
    }
    return jwt.encode(claims, key, algorithm="RS256")


# OAuth error -> what the person should change (invalid_grant depends on the flow).
_ADVICE = {
    "invalid_client_id": "check client_id (the connected app's consumer key)",
    "invalid_client": "check client_secret (the connected app's consumer secret)",
    "unsupported_grant_type": "enable this OAuth flow in the connected app, or choose another auth",
    "inactive_user": "the integration user is inactive; reactivate it in Salesforce Setup",
    "inactive_org": "the org is locked or inactive; check login_url",
}
_GRANT_ADVICE: dict[str, str] = {
    "password": "check username, password and security_token (a reset token must be updated too)",
    "client_credentials": "check that the connected app has a Run As user for the client credentials flow",
    "refresh_token": "the refresh token was revoked or expired; authorize crmsync again for a new one",
    "jwt": (
        "check username, that private_key_file matches the certificate of the connected app, "
        "and that the user is pre-authorized for the app"
    ),
}


def _advice(error: str, flow: str) -> str:
    if error == "invalid_grant":
        return _GRANT_ADVICE.get(flow, "check the credentials in crmsync.toml")
    return _ADVICE.get(error, "check the credentials in crmsync.toml")


def _post(
    http: httpx.Client,
    creds: Credentials,
    form: dict[str, str],
    auth: tuple[str, str] | None,
    *,
    flow: str,
) -> Token:
    url = f"{creds.login_url}/services/oauth2/token"
    try:
        response = http.post(url, data=form, auth=auth) if auth else http.post(url, data=form)
    except (httpx.UnsupportedProtocol, httpx.InvalidURL):
        raise ConfigError(
            f"login_url {creds.login_url!r} is not a URL; use https://login.salesforce.com, "
            "https://test.salesforce.com or the org's My Domain URL"
        ) from None
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise UnreachableError(
            f"cannot reach Salesforce at {creds.login_url} ({exc or type(exc).__name__}); "
            "check login_url and the network"
        ) from None
    except httpx.TimeoutException as exc:
        raise TransientError(
            f"Salesforce login at {creds.login_url} timed out ({type(exc).__name__})"
        ) from None
    except httpx.TransportError as exc:
        raise TransientError(
            f"Salesforce login at {creds.login_url} lost the connection ({exc or type(exc).__name__})"
        ) from None
    if response.status_code >= 500:
        raise TransientError(f"Salesforce login at {creds.login_url} answered HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        # A truncated 200 is retried like any truncated answer; an error page is final.
        raise ProtocolError(
            f"Salesforce login at {url} answered HTTP {response.status_code} with a body that is not JSON; "
            "check that login_url points at a Salesforce login host",
            details={"malformed": response.status_code < 300},
        ) from None
    if response.status_code != 200:
        error = str(body.get("error", "error")) if isinstance(body, dict) else "error"
        description = str(body.get("error_description", "")) if isinstance(body, dict) else ""
        who = creds.client_id if flow == "client_credentials" else (creds.username or creds.client_id)
        raise AuthError(
            f"Salesforce refused the {flow} login for {who}: {error} ({description}); {_advice(error, flow)}",
            details={"status": response.status_code, "error": error},
        )
    if not isinstance(body, dict) or "access_token" not in body or "instance_url" not in body:
        raise ProtocolError(
            f"Salesforce login at {url} answered 200 without access_token and instance_url; "
            "check that login_url points at a Salesforce login host"
        )
    return Token(str(body["access_token"]), str(body["instance_url"]).rstrip("/"), body.get("refresh_token"))
