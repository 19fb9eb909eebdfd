"""The ``/services/data`` REST API: routing, sessions, API usage, and the small resources.

Every call under ``/services/data/vXX.X/`` needs ``Authorization: Bearer <token>`` (or
``OAuth <token>``), counts one API call, and carries ``Sforce-Limit-Info`` in its answer.
Errors are JSON arrays ``[{"message","errorCode","fields"}]``. Writes are tagged with the
``changeOrigin`` their change events carry.

The composite resources run their subrequests through ``Call.subrequest``: the same routes
and handlers as a top-level call, without authentication, API usage or faults of their own
(the enclosing call has had those).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from starlette.requests import Request
from starlette.responses import Response

from . import routes_batch, routes_collections, routes_composite, routes_query, routes_sobjects
from .auth import Session
from .conditional import CONDITIONAL_HEADERS
from .context import CHANGE_ORIGIN, WriteContext
from .errors import ApiError, bad_request, not_found
from .responses import error_response, json_bytes, json_response
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

    def write_context(self) -> WriteContext:
        """An API write with this call's ``Sforce-Duplicate-Rule-Header`` options."""
        header = self.request.headers.get("sforce-duplicate-rule-header", "")
        options = {}
        for part in re.split(r"[;,]", header):
            key, _, value = part.partition("=")
            options[key.strip().casefold()] = value.strip().casefold() == "true"
        return WriteContext(
            origin="api",
            allow_duplicate_save=options.get("allowsave", False),
            include_record_details=options.get("includerecorddetails", False),
            api_version=self.version,
        )

    async def subrequest(
        self,
        method: str,
        url: str,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        *,
        allowed: frozenset[str],
    ) -> SubResponse:
        """Run ``method url`` (``/services/data/vXX.X/...``) inside this call, on a resource named in
        ``allowed``; the answer is never an exception."""
        parts = urlsplit(url)
        versioned = _VERSIONED.match(parts.path.removeprefix("/services/data"))
        route, params = _match((versioned["tail"] or "/") if versioned else "")
        if (
            not parts.path.startswith("/services/data/")
            or versioned is None
            or versioned["version"] not in SUPPORTED_VERSIONS
            or route is None
        ):
            return SubResponse.of_error(not_found())
        if route.resource not in allowed:
            return SubResponse.of_error(
                bad_request(
                    "INVALID_API_INPUT", f"The resource {parts.path} is not supported in this request"
                )
            )
        scope = dict(self.request.scope)
        data = b"" if body is None else json_bytes(body)
        given = {key.casefold(): value for key, value in (headers or {}).items()}
        inherited = [
            (k, v) for k, v in scope["headers"] if k.decode("latin-1") not in _NOT_INHERITED | set(given)
        ]
        scope.update(
            method=method,
            path=parts.path,
            raw_path=parts.path.encode(),
            query_string=parts.query.encode(),
            headers=[*inherited, *((k.encode(), v.encode("latin-1")) for k, v in given.items())],
        )

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": data, "more_body": False}

        call = Call(Request(scope, receive), self.state, versioned["version"], params, self.session)
        response = await _invoke(call, route, method)
        answer = json.loads(bytes(response.body)) if response.body else None
        found: dict[str, str] = {}
        if response.status_code == 201 and isinstance(answer, dict) and "id" in answer and "object" in params:
            obj = self.state.catalog.object(params["object"])
            name = obj.name if obj is not None else params["object"]
            found["Location"] = f"/services/data/v{call.version}/sobjects/{name}/{answer['id']}"
        return SubResponse(response.status_code, answer, found)


@dataclass
class SubResponse:
    """The answer to a subrequest: status, parsed JSON body (None when empty), headers."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of_error(cls, error: ApiError) -> SubResponse:
        """The answer a top-level call would get for ``error``."""
        return cls(error.status, error.body())

    @property
    def ok(self) -> bool:
        """True for a 2xx answer."""
        return 200 <= self.status < 300


Handler = Callable[[Call], Awaitable[Response]]
# Headers a subrequest does not take over from the call that carries it.
_NOT_INHERITED = frozenset({"content-length", "content-type", "transfer-encoding"}) | CONDITIONAL_HEADERS


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
    _route(r"^/composite/?$", "composite", GET=routes_composite.resources, POST=routes_composite.composite),
    _route(r"^/composite/batch/?$", "composite/batch", POST=routes_batch.batch),
    _route(r"^/composite/graph/?$", "composite/graph", POST=routes_composite.graph),
    _route(
        r"^/composite/sobjects/?$",
        "composite/sobjects",
        POST=routes_collections.create,
        PATCH=routes_collections.update,
        DELETE=routes_collections.delete,
    ),
    _route(
        rf"^/composite/sobjects/{OBJ}/?$",
        "composite/sobjects",
        GET=routes_collections.retrieve,
        POST=routes_collections.retrieve,
    ),
    _route(
        rf"^/composite/sobjects/{OBJ}/(?P<field>[^/]+)/?$",
        "composite/sobjects",
        PATCH=routes_collections.upsert,
    ),
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
    call = Call(request, state, versioned["version"], params, session)
    # Change events of this call's writes name the API, its version and the client.
    origin = CHANGE_ORIGIN.set(change_origin(call.version, request.headers.get("sforce-call-options")))
    try:
        response = await _invoke(call, route, method, request.method)
    finally:
        CHANGE_ORIGIN.reset(origin)
    response.headers.update(headers)
    return response


def change_origin(version: str, call_options: str | None) -> str:
    """``changeOrigin`` of a REST write: ``com/salesforce/api/rest/61.0;client=<id>``, where the
    client id comes from ``Sforce-Call-Options: client=<id>`` (no ``;client=`` without one)."""
    origin = f"com/salesforce/api/rest/{version}"
    for part in re.split(r"[;,]", call_options or ""):
        key, _, value = part.partition("=")
        if key.strip().casefold() == "client" and value.strip():
            return f"{origin};client={value.strip()}"
    return origin


async def _invoke(call: Call, route: Route, method: str, shown_method: str | None = None) -> Response:
    handler = route.handlers.get(method)
    if handler is None:
        return _method_not_allowed(shown_method or method, route.handlers)
    try:
        return await handler(call)
    except ApiError as error:
        return error_response(error)


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
