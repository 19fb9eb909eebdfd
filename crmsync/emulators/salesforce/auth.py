"""Login and sessions: the OAuth 2.0 token endpoint's four grants and the SOAP ``login`` call.

The emulated org has one connected app and one integration user (the constants below, all
configurable). The password grant answers without a refresh token, as Salesforce's
username-password flow does (``issue_refresh_tokens`` makes it issue one). A password may be
sent with or without the user's security token appended, as Salesforce accepts both from a
trusted IP range. Access tokens look like Salesforce's
(``00D...!AQ...``), last ``session_seconds`` of emulated time, and can all be expired at
once through the control API; refresh tokens survive that, as they do in Salesforce.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import string
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from .clock import Clock

DEFAULT_CLIENT_ID = "crmsync-emulator"
DEFAULT_CLIENT_SECRET = "emulator-secret"  # noqa: S105 - a documented demo credential of the emulator
DEFAULT_USERNAME = "admin@npsp.example.org"
DEFAULT_PASSWORD = "emulator-password"  # noqa: S105 - a documented demo credential of the emulator
DEFAULT_SECURITY_TOKEN = "EMULATORTOKEN"  # noqa: S105 - a documented demo credential of the emulator
DEFAULT_SESSION_SECONDS = 7200
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# Audiences Salesforce accepts in a JWT bearer assertion, besides the emulator's own URL.
LOGIN_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")

_TOKEN_CHARS = string.ascii_letters + string.digits + "._"
log = logging.getLogger(__name__)


@dataclass
class AuthConfig:
    """The connected app and integration user of the emulated org."""

    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    username: str = DEFAULT_USERNAME
    password: str = DEFAULT_PASSWORD
    security_token: str = DEFAULT_SECURITY_TOKEN
    session_seconds: int = DEFAULT_SESSION_SECONDS
    # Salesforce's username-password flow issues no refresh token; a test may want one anyway.
    issue_refresh_tokens: bool = False
    instance_url: str | None = None


@dataclass
class Session:
    """One issued access token."""

    token: str
    client_id: str
    issued_at: datetime
    expires_at: datetime


class OAuthError(Exception):
    """A token endpoint failure: ``{"error", "error_description"}`` with HTTP 400."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        """The JSON Salesforce answers with."""
        return {"error": self.error, "error_description": self.description}


@dataclass
class AuthService:
    """Issues and checks the org's sessions."""

    config: AuthConfig
    clock: Clock
    org_id: str
    user_id: str
    _sessions: dict[str, Session] = field(default_factory=dict)
    _refresh_tokens: dict[str, str] = field(default_factory=dict)
    _jwt_keys: dict[str, list[RSAPublicKey]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- grants ----------------------------------------------------------------------------

    def token(self, form: Mapping[str, str], basic: tuple[str, str] | None, base_url: str) -> dict[str, Any]:
        """Answer ``POST /services/oauth2/token`` or raise OAuthError."""
        grant = form.get("grant_type", "")
        if grant == "password":
            self._client(form.get("client_id"), form.get("client_secret"))
            self._user(form.get("username"), form.get("password"))
            return self._grant(form.get("client_id", ""), base_url, refresh=self.config.issue_refresh_tokens)
        if grant == "client_credentials":
            client_id, secret = basic or (form.get("client_id"), form.get("client_secret"))
            self._client(client_id, secret)
            return self._grant(client_id or "", base_url, refresh=False, scope="api")
        if grant == "refresh_token":
            owner = self._refresh_tokens.get(form.get("refresh_token", ""))
            if owner is None:
                raise OAuthError("invalid_grant", "expired access/refresh token")
            if form.get("client_id") not in (None, owner):
                raise OAuthError("invalid_client_id", "client identifier invalid")
            if "client_secret" in form:
                self._client(owner, form["client_secret"])
            return self._grant(owner, base_url, refresh=False, scope="api refresh_token")
        if grant == JWT_BEARER:
            client_id = self._verify_assertion(form.get("assertion", ""), base_url)
            return self._grant(client_id, base_url, refresh=False, scope="api", with_signature=False)
        raise OAuthError("unsupported_grant_type", "grant type not supported")

    def soap_login(self, username: str, password: str) -> Session:
        """Check SOAP ``login`` credentials and open a session (OAuthError on failure)."""
        self._user(username, password)
        return self._open(self.config.client_id)

    def _client(self, client_id: str | None, secret: str | None) -> None:
        if client_id != self.config.client_id:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        if secret is None or not hmac.compare_digest(secret, self.config.client_secret):
            raise OAuthError("invalid_client", "invalid client credentials")

    def _user(self, username: str | None, password: str | None) -> None:
        config = self.config
        accepted = (config.password, config.password + config.security_token)
        if username != config.username or password not in accepted:
            raise OAuthError("invalid_grant", "authentication failure")

    def _verify_assertion(self, assertion: str, base_url: str) -> str:
        try:
            claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise OAuthError("invalid_grant", "invalid assertion") from None
        client_id = str(claims.get("iss", ""))
        keys = self._jwt_keys.get(client_id)
        if not keys:
            log.info("JWT assertion for client %r has no registered key", client_id)
            raise OAuthError("invalid_client_id", "client identifier invalid")
        audiences = [*LOGIN_AUDIENCES, base_url]
        if self.config.instance_url:
            audiences.append(self.config.instance_url)
        for key in keys:
            try:
                verified = jwt.decode(
                    assertion,
                    key,
                    algorithms=["RS256"],
                    audience=audiences,
                    options={"require": ["iss", "sub", "aud", "exp"]},
                )
            except jwt.InvalidSignatureError:
                continue
            except jwt.ExpiredSignatureError:
                raise OAuthError("invalid_grant", "expired authorization code") from None
            except jwt.PyJWTError as exc:
                log.info("JWT assertion rejected: %s", exc)
                raise OAuthError("invalid_grant", "invalid assertion") from None
            if verified.get("sub") != self.config.username:
                raise OAuthError("invalid_grant", "user hasn't approved this consumer")
            return client_id
        raise OAuthError("invalid_grant", "invalid assertion")

    def _grant(
        self,
        client_id: str,
        base_url: str,
        *,
        refresh: bool,
        scope: str | None = None,
        with_signature: bool = True,
    ) -> dict[str, Any]:
        session = self._open(client_id)
        instance_url = self.instance_url(base_url)
        identity = f"{instance_url}/id/{self.org_id}/{self.user_id}"
        issued_at = str(int(session.issued_at.timestamp() * 1000))
        body: dict[str, Any] = {"access_token": session.token}
        if refresh:
            refresh_token = "5Aep" + _random(83)
            with self._lock:
                self._refresh_tokens[refresh_token] = client_id
            body["refresh_token"] = refresh_token
        if with_signature:
            digest = hmac.new(
                self.config.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256
            )
            body["signature"] = base64.b64encode(digest.digest()).decode()
        if scope is not None:
            body["scope"] = scope
        body |= {"instance_url": instance_url, "id": identity, "token_type": "Bearer", "issued_at": issued_at}
        return body

    def _open(self, client_id: str) -> Session:
        now = self.clock.now()
        session = Session(
            token=f"{self.org_id[:15]}!AQ{_random(96)}",
            client_id=client_id,
            issued_at=now,
            expires_at=now + timedelta(seconds=self.config.session_seconds),
        )
        with self._lock:
            self._sessions[session.token] = session
        return session

    # -- sessions --------------------------------------------------------------------------

    def instance_url(self, base_url: str) -> str:
        """The org's instance URL: configured, else the URL the client reached us at."""
        return (self.config.instance_url or base_url).rstrip("/")

    def session_for(self, authorization: str | None) -> Session | None:
        """The live session named by an ``Authorization: Bearer|OAuth <token>`` header, or None."""
        if not authorization:
            return None
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() not in ("bearer", "oauth"):
            return None
        with self._lock:
            session = self._sessions.get(token.strip())
        if session is None or session.expires_at <= self.clock.now():
            return None
        return session

    def invalidate(self, token: str) -> None:
        """End one session."""
        with self._lock:
            self._sessions.pop(token, None)

    def expire_all(self) -> int:
        """End every session (refresh tokens stay valid); returns how many ended."""
        with self._lock:
            count = len(self._sessions)
            self._sessions.clear()
            return count

    def register_jwt_key(self, client_id: str, pem: str) -> None:
        """Trust ``pem`` (an RSA public key or X.509 certificate) for JWT assertions of ``client_id``."""
        data = pem.encode()
        try:
            if b"BEGIN CERTIFICATE" in data:
                key: Any = x509.load_pem_x509_certificate(data).public_key()
            else:
                key = load_pem_public_key(data)
        except ValueError as exc:
            raise ValueError(f"public_key_pem is not a PEM public key or certificate: {exc}") from None
        if not isinstance(key, RSAPublicKey):
            raise ValueError("public_key_pem must hold an RSA key (Salesforce signs with RS256)")
        with self._lock:
            self._jwt_keys.setdefault(client_id, []).append(key)

    def describe(self) -> dict[str, Any]:
        """Settings and session counts for the control API (no secrets)."""
        return {
            "client_id": self.config.client_id,
            "username": self.config.username,
            "session_seconds": self.config.session_seconds,
            "issue_refresh_tokens": self.config.issue_refresh_tokens,
            "active_sessions": len(self._sessions),
            "jwt_clients": sorted(self._jwt_keys),
        }


def _random(length: int) -> str:
    return "".join(secrets.choice(_TOKEN_CHARS) for _ in range(length))
