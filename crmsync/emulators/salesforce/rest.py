"""The ``/services/data`` REST API: routing, sessions, API usage, and the small resources.

Every call under ``/services/data/vXX.X/`` needs ``Authorization: Bearer <token>`` (or
``OAuth <token>``), counts one API call, and carries ``Sforce-Limit-Info`` in its answer.
Errors are JSON arrays ``[{"message","errorCode","fields"}]``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response

from . import routes_query, routes_sobjects
from .auth import Session
from .errors import ApiError, not_found
from .responses import error_response, json_response
from .state import SUPPORTED_VERSIONS, EmulatorState, version_label

_INVALID_SESSION = ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")
_LIMIT_EXCEEDED = ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")


@dataclass
class Call:
    """One authenticated REST call: the request, the emulator, the API version, path parts."""

    request: Request
    state: EmulatorState
    version: str
    params: dict[str, str]
    session: Session

    @property
    def base_url(self) -> str:
        """The URL the client reached the emulator at, without a trailing slash."""
        return str(self.request.base_url).rstrip("/")


Handler = Callable[[Call], Awaitable[Response]]


@dataclass(frozen=True)
class Route:
    """A path pattern under ``/services/data/vXX.X``, its handlers and its resource name."""

    pattern: re.Pattern[str]
    handlers: dict[str, Handler]
    resource: str


async def _resources(call: Call) -> Response:
    base = f"/services/data/v{call.version}"
    names = ("sobjects", "query", "queryAll", "limits", "search", "composite", "tooling", "metadata")
    body: dict[str, str] = {name: f"{base}/{name}" for name in names}
    body["identity"] = f"{call.base_url}/id/{call.state.org.org_id}/{call.state.org.user_id}"
    return json_response(body)


async def _limits(call: Call) -> Response:
    return json_response(call.state.usage.limits())


def _route(pattern: str, resource: str, **handlers: Handler) -> Route:
    return Route(re.compile(pattern), handlers, resource)


OBJ = r"(?P<object>[^/]+)"
ROUTES: tuple[Route, ...] = (
    _route(r"^/?$", "resources", GET=_resources),
    _route(r"^/limits/?$", "limits", GET=_limits),
    _route(r"^/sobjects/?$", "describeGlobal", GET=routes_sobjects.describe_global),
    _route(rf"^/sobjects/{OBJ}/?$", "sobjects", GET=routes_sobjects.basic_info, POST=routes_sobjects.create),
    _route(rf"^/sobjects/{OBJ}/describe/?$", "describe", GET=routes_sobjects.describe),
    _route(rf"^/sobjects/{OBJ}/updated/?$", "updated", GET=routes_sobjects.updated),
    _route(rf"^/sobjects/{OBJ}/deleted/?$", "deleted", GET=routes_sobjects.deleted),
    _route(
        rf"^/sobjects/{OBJ}/(?P<record>[^/]+)/?$",
        "sobjects",
        GET=routes_sobjects.read,
        PATCH=routes_sobjects.update,
        DELETE=routes_sobjects.delete,
        POST=routes_sobjects.insert_by_upsert,
    ),
    _route(
        rf"^/sobjects/{OBJ}/(?P<field>[^/]+)/(?P<value>[^/]+)/?$",
        "sobjects",
        GET=routes_sobjects.read_by_external_id,
        PATCH=routes_sobjects.upsert,
        DELETE=routes_sobjects.delete_by_external_id,
    ),
    _route(r"^/query/?$", "query", GET=routes_query.query),
    _route(r"^/query/(?P<locator>[^/]+)/?$", "query", GET=routes_query.query_more),
    _route(r"^/queryAll/?$", "queryAll", GET=routes_query.query_all),
    _route(r"^/queryAll/(?P<locator>[^/]+)/?$", "queryAll", GET=routes_query.query_more),
)
_VERSIONED = re.compile(r"^/v(?P<version>[^/]+)(?P<tail>/.*)?$")


async def services_data(request: Request) -> Response:
    """Answer any request under ``/services/data``."""
    state: EmulatorState = request.app.state.emulator
    # Split the raw path so an external id holding an encoded "/" stays one segment.
    raw = request.scope.get("raw_path") or request.url.path.encode()
    rest = raw.decode("latin-1").split("?", 1)[0].removeprefix("/services/data")
    method = "GET" if request.method == "HEAD" else request.method
    if rest in ("", "/"):
        if method != "GET":
            return _method_not_allowed(request.method, {"GET": _resources})
        return json_response(
            [
                {"label": version_label(v), "url": f"/services/data/v{v}", "version": v}
                for v in SUPPORTED_VERSIONS
            ]
        )
    session = state.auth.session_for(request.headers.get("authorization"))
    if session is None:
        return error_response(_INVALID_SESSION)
    versioned = _VERSIONED.match(rest)
    tail = (versioned["tail"] or "/") if versioned else rest
    route, params = _match(tail)
    if not state.usage.charge(route.resource if route else "unknown"):
        return error_response(_LIMIT_EXCEEDED, {"Sforce-Limit-Info": state.usage.header()})
    headers = {"Sforce-Limit-Info": state.usage.header()}
    if versioned is None or versioned["version"] not in SUPPORTED_VERSIONS or route is None:
        return error_response(not_found(), headers)
    handler = route.handlers.get(method)
    if handler is None:
        response = _method_not_allowed(request.method, route.handlers)
    else:
        call = Call(request, state, versioned["version"], params, session)
        try:
            response = await handler(call)
        except ApiError as error:
            response = error_response(error)
    response.headers.update(headers)
    return response


def _match(tail: str) -> tuple[Route | None, dict[str, str]]:
    for route in ROUTES:
        found = route.pattern.match(tail)
        if found:
            return route, {key: unquote(value) for key, value in found.groupdict().items()}
    return None, {}


def _method_not_allowed(method: str, handlers: dict[str, Handler]) -> Response:
    allowed = set(handlers) | ({"HEAD"} if "GET" in handlers else set())
    error = ApiError(
        405,
        "METHOD_NOT_ALLOWED",
        f"HTTP Method '{method}' not allowed. Allowed are {','.join(sorted(allowed))}",
    )
    return error_response(error)
