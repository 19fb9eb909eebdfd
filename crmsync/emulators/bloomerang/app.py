"""The emulator as one ASGI application: the API under ``/v2``, the OAuth token endpoint,
the control API, and the gate (latency, rate limit, faults, auth) in front."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route

from crmsync.emulators.common.faults import ASGIApp

from . import control
from .auth import TokenError
from .errors import ApiError, no_resource
from .gate import ApiGate
from .routes import api_routes, error_response, json_response
from .state import EmulatorState

log = logging.getLogger(__name__)
_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


async def oauth_token(request: Request) -> Response:
    """``POST /v2/oauth/token``: authorization code and refresh token grants."""
    state: EmulatorState = request.app.state.emulator
    try:
        answer = state.auth.grant(
            await request.body(),
            request.headers.get("content-type", ""),
            request.headers.get("authorization"),
        )
    except TokenError as error:
        return json_response(error.body(), error.status)
    response = json_response(answer)
    response.headers["cache-control"] = "no-store"
    return response


def _unknown(known: list[Route]) -> Callable[[Request], Awaitable[Response]]:
    """404 for a path the API does not have; 405 for a method a path does not have."""

    async def endpoint(request: Request) -> Response:
        if any(route.matches(request.scope)[0] == Match.PARTIAL for route in known):
            message = f"The requested resource does not support http method '{request.method}'."
            return error_response(ApiError(405, message))
        return error_response(no_resource(str(request.url)))

    return endpoint


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (a method a path does not have) in Bloomerang's error shape."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 405:
        message = f"The requested resource does not support http method '{request.method}'."
        return error_response(ApiError(405, message))
    return error_response(ApiError(status, str(getattr(exc, "detail", "")) or "The request failed."))


async def _crash(request: Request, exc: Exception) -> Response:
    """An emulator bug answers 500 with the cause, so clients see JSON and the reason."""
    log.exception("emulator error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(ApiError(500, f"An error has occurred in the emulator: {exc!r}"))


def create_app(state: EmulatorState) -> ASGIApp:
    """The ASGI app serving ``state``."""
    known = [Route("/v2/oauth/token", oauth_token, methods=["POST"]), *api_routes(), *control.ROUTES]
    routes = [*known, Route("/{rest:path}", _unknown(known), methods=_ALL_METHODS)]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error, Exception: _crash})
    app.state.emulator = state
    # Outermost, so that it receives the server's own ``send`` (needed to drop connections).
    return ApiGate(app, state)
