"""The one ASGI app: the JSON API under /api/v1 (OpenAPI at /api/openapi.json) and the admin pages."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crmsync import __version__
from crmsync.engine.workspace import Workspace
from crmsync.web import (
    api_activity,
    api_archived,
    api_connections,
    api_orgsyncs,
    pages_data,
    pages_main,
    pages_orgsyncs,
)
from crmsync.web.api_kit import Api, openapi
from crmsync.web.auth import CookiePolicy
from crmsync.web.errors import error_response
from crmsync.web.jobs import Jobs

log = logging.getLogger("crmsync.web")

# Scripts and styles only from this origin (no inline script: an injected <script> cannot run).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


@dataclass(frozen=True)
class WebConfig:
    """How the web app behaves."""

    # Secure cookies: "auto" when the request came over https (behind a proxy, run uvicorn
    # with proxy headers), "always" or "never".
    cookie_secure: CookiePolicy = "auto"


def api() -> Api:
    """Every API endpoint in one registry."""
    merged = Api()
    for part in (api_connections.api, api_activity.api, api_archived.api, api_orgsyncs.api):
        merged.endpoints.extend(part.endpoints)
    return merged


class SecurityHeaders:
    """Headers every answer carries: CSP, no sniffing, no framing, no referrer leaks, no caching."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                ]
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(workspace: Workspace, config: WebConfig | None = None) -> Starlette:
    """The web app over ``workspace``'s database; it serves every organization in it."""
    registry = api()
    document = openapi(registry, title="crmsync", version=__version__)

    async def openapi_json(_request: Request) -> Response:
        return JSONResponse(document)

    static = StaticFiles(directory=str(resources.files("crmsync.web").joinpath("static")))
    routes: list[BaseRoute] = [
        Route("/api/openapi.json", openapi_json),
        *registry.routes(),
        Mount("/static", app=static, name="static"),
        *pages_main.routes,
        *pages_data.routes,
        *pages_orgsyncs.routes,
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={404: _not_found, 405: _not_allowed, Exception: _server_error},
    )
    app.state.workspace = workspace
    app.state.config = config or WebConfig()
    app.state.jobs = Jobs()
    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def _not_found(request: Request, _exc: Any) -> Response:
    if _wants_json(request):
        return error_response(404, "not_found", "no such API endpoint")
    return HTMLResponse("<!doctype html><title>Not found</title><p>Not found. <a href='/'>Home</a>", 404)


async def _not_allowed(request: Request, _exc: Any) -> Response:
    if _wants_json(request):
        return error_response(405, "method_not_allowed", f"{request.method} is not allowed here")
    return HTMLResponse("Method not allowed", 405)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.error("%s %s failed: %s", request.method, request.url.path, type(exc).__name__, exc_info=exc)
    if _wants_json(request):
        return error_response(500, "internal", "the server failed; the error is in its log")
    return HTMLResponse("The server failed; the error is in its log.", 500)
