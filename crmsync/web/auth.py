"""Who is calling: a signed-in administrator (session cookie) or an API token (bearer).

- Sessions: the cookie holds a random token; the database keeps its SHA-256, the admin,
  the organization, an expiry and a CSRF token. Cookies are HttpOnly and SameSite=Lax, and
  Secure when served over https (or always / never, as configured).
- CSRF: every form carries the session's token in ``csrf_token``; cookie-authenticated API
  writes carry it in the ``X-CSRF-Token`` header. A bearer token needs none (a browser never
  sends it by itself). The sign-in form, before any session, uses a double-submit cookie.
- Every caller belongs to one organization, and every query is scoped to it.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Literal

from starlette.requests import Request
from starlette.responses import Response

from crmsync.engine import accounts
from crmsync.web.errors import ApiError

SESSION_COOKIE = "crmsync_session"
LOGIN_CSRF_COOKIE = "crmsync_signin"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CookiePolicy = Literal["auto", "always", "never"]


@dataclass(frozen=True)
class Caller:
    """The organization a request acts for, and who asked."""

    organization_id: int
    admin_email: str | None = None
    token_name: str | None = None
    csrf_token: str | None = None


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message)


def session_caller(request: Request) -> Caller | None:
    """The signed-in administrator of this browser, or None."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    found = accounts.session(request.app.state.workspace.engine, token)
    if found is None:
        return None
    return Caller(found.organization_id, admin_email=found.email, csrf_token=found.csrf_token)


def api_caller(request: Request) -> Caller:
    """The caller of an API request; raises 401 (or 403 for a missing CSRF token)."""
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise _unauthorized("use Authorization: Bearer TOKEN (create one with `crmsync token create`)")
        token = accounts.token_caller(request.app.state.workspace.engine, value.strip())
        if token is None:
            raise _unauthorized("the API token is unknown or revoked")
        return Caller(token.organization_id, token_name=token.name)
    caller = session_caller(request)
    if caller is None:
        raise _unauthorized("sign in, or send Authorization: Bearer TOKEN")
    if request.method not in SAFE_METHODS and not same_token(
        request.headers.get("x-csrf-token"), caller.csrf_token
    ):
        raise ApiError(403, "csrf", "send the page's CSRF token in the X-CSRF-Token header")
    return caller


def same_token(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison of CSRF tokens."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def secure_cookies(request: Request) -> bool:
    """Whether cookies get the Secure attribute: https, or as configured."""
    policy: CookiePolicy = request.app.state.config.cookie_secure
    if policy == "auto":
        return request.url.scheme == "https"
    return policy == "always"


def set_session_cookie(request: Request, response: Response, token: str, max_age: int) -> None:
    """The session cookie: HttpOnly, SameSite=Lax, Secure over https."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    """Forget the session cookie."""
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="lax", secure=secure_cookies(request), path="/"
    )


def sign_in_token(request: Request) -> str:
    """The double-submit token of the sign-in form (the browser's, or a new one)."""
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)


def set_sign_in_cookie(request: Request, response: Response, token: str) -> None:
    """Store the sign-in form's double-submit token in a cookie scoped to /sign-in."""
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
        path="/sign-in",
    )
