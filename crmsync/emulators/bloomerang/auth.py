"""Who may call the API: private API keys (``X-API-KEY``) and OAuth access tokens.

Bloomerang's document names two schemes: an ``X-API-KEY`` header and OAuth 2 (authorization
code) with ``https://api.bloomerang.co/v2/oauth/token`` as token and refresh URL. The
emulator accepts its configured keys, and bearer tokens from ``POST /v2/oauth/token``:
``grant_type=authorization_code`` with a code the control API hands out (standing in for
the user's consent at ``crm.bloomerang.co/Authorize``), and ``grant_type=refresh_token``.
A refresh answers a new refresh token and retires the old one, so two clients refreshing
at once find out. Token errors use the OAuth 2 shape ``{"error", "error_description"}``.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from .clock import Clock

DEFAULT_API_KEY = "bloomerang-emulator-key"
DEFAULT_CLIENT_ID = "crmsync-emulator"
DEFAULT_CLIENT_SECRET = "emulator-secret"  # noqa: S105 - a public test credential
DEFAULT_TOKEN_SECONDS = 3600
CODE_SECONDS = 600


@dataclass
class AuthConfig:
    """Credentials the emulated database accepts."""

    api_keys: list[str] = field(default_factory=lambda: [DEFAULT_API_KEY])
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    token_seconds: int = DEFAULT_TOKEN_SECONDS


class TokenError(Exception):
    """A token request that fails; answered with the OAuth 2 error body."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        """The OAuth 2 error body."""
        return {"error": self.error, "error_description": self.description}


class AuthService:
    """Keys, authorization codes, access and refresh tokens; thread-safe."""

    def __init__(self, config: AuthConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self._lock = threading.Lock()
        self._codes: dict[str, int] = {}
        self._access: dict[str, int] = {}
        self._refresh: set[str] = set()

    def allows(self, api_key: str | None, authorization: str | None) -> bool:
        """True when the key or bearer token is valid now."""
        if api_key is not None and api_key.strip() in self.config.api_keys:
            return True
        if authorization is None or not authorization.lower().startswith("bearer "):
            return False
        token = authorization[7:].strip()
        with self._lock:
            expires = self._access.get(token)
        return expires is not None and self.clock.now() < expires

    def issue_code(self) -> str:
        """An authorization code, as the authorize page redirects with after consent."""
        code = secrets.token_urlsafe(18)
        with self._lock:
            self._codes[code] = self.clock.now() + CODE_SECONDS
        return code

    def expire_all(self) -> int:
        """Every access token stops working (refresh tokens stay valid); returns how many."""
        with self._lock:
            count = len(self._access)
            self._access.clear()
        return count

    def describe(self) -> dict[str, Any]:
        """Settings and counts for the control API (no secrets)."""
        with self._lock:
            active = sum(1 for expires in self._access.values() if expires > self.clock.now())
            return {
                "api_keys": len(self.config.api_keys),
                "client_id": self.config.client_id,
                "token_seconds": self.config.token_seconds,
                "active_tokens": active,
                "refresh_tokens": len(self._refresh),
            }

    def grant(self, body: bytes, content_type: str, authorization: str | None) -> dict[str, Any]:
        """Answer a token request (form-encoded, or JSON) or raise ``TokenError``."""
        form = _form(body, content_type)
        client_id, client_secret = _client(form, authorization)
        if client_id != self.config.client_id or client_secret != self.config.client_secret:
            raise TokenError("invalid_client", "The client id or secret is wrong.", 401)
        grant_type = form.get("grant_type")
        with self._lock:
            if grant_type == "authorization_code":
                expires = self._codes.pop(str(form.get("code")), None)
                if expires is None or expires <= self.clock.now():
                    raise TokenError("invalid_grant", "The authorization code is invalid, used or expired.")
            elif grant_type == "refresh_token":
                refresh = str(form.get("refresh_token"))
                if refresh not in self._refresh:
                    raise TokenError("invalid_grant", "The refresh token is invalid or was already used.")
                self._refresh.discard(refresh)
            else:
                raise TokenError("unsupported_grant_type", "Use authorization_code or refresh_token.")
            access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
            self._access[access] = self.clock.now() + self.config.token_seconds
            self._refresh.add(refresh)
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.config.token_seconds,
            "refresh_token": refresh,
        }


def _form(body: bytes, content_type: str) -> dict[str, Any]:
    text = body.decode("utf-8", "replace")
    if "json" in content_type:
        try:
            parsed = json.loads(text or "{}")
        except json.JSONDecodeError:
            raise TokenError("invalid_request", "The body is not valid JSON.") from None
        return parsed if isinstance(parsed, dict) else {}
    return dict(parse_qsl(text))


def _client(form: dict[str, Any], authorization: str | None) -> tuple[str | None, str | None]:
    if authorization and authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip()).decode()
        except ValueError:
            raise TokenError("invalid_client", "The Basic authorization header is malformed.", 401) from None
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    return form.get("client_id"), form.get("client_secret")
