"""The emulator as one ASGI application: login, REST, the Streaming API (CometD), the control
API, and the fault layer on top."""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crmsync.emulators.common.faults import ASGIApp

from . import control
from .errors import ApiError, not_found
from .faults import FaultMiddleware
from .responses import error_response
from .rest import services_data
from .routes_auth import oauth_token, soap_login
from .state import EmulatorState
from .streaming import cometd

log = logging.getLogger(__name__)
_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


async def _unknown(request: Request) -> Response:
    return error_response(not_found())


async def _crash(request: Request, exc: Exception) -> Response:
    """Salesforce's answer to an internal error, so clients see JSON and the cause."""
    log.exception("emulator error on %s %s", request.method, request.url.path, exc_info=exc)
    error = ApiError(500, "UNKNOWN_EXCEPTION", f"An unexpected error occurred in the emulator: {exc!r}")
    return error_response(error)


def create_app(state: EmulatorState) -> ASGIApp:
    """The ASGI app serving ``state``; faults are applied before any route sees a request."""
    routes = [
        Route("/services/oauth2/token", oauth_token, methods=_ALL_METHODS),
        Route("/services/Soap/u/{version}", soap_login, methods=["POST"]),
        Route("/services/Soap/u/{version}/{rest:path}", soap_login, methods=["POST"]),
        Route("/services/data{rest:path}", services_data, methods=_ALL_METHODS),
        # CometD clients may append the message type to the URL (/cometd/61.0/connect).
        Route("/cometd/{version}", cometd, methods=["POST"]),
        Route("/cometd/{version}/{rest:path}", cometd, methods=["POST"]),
        *control.ROUTES,
        Route("/{rest:path}", _unknown, methods=_ALL_METHODS),
    ]
    app = Starlette(routes=routes, exception_handlers={Exception: _crash})
    app.state.emulator = state
    # Outermost, so that it receives the server's own ``send`` (needed to drop connections).
    return FaultMiddleware(app, state.faults, state.auth)
