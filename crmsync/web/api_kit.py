"""A small typed layer over Starlette for the JSON API: declared inputs, errors, OpenAPI.

Each endpoint declares its path parameters, query model, body model and response model;
the same declarations validate requests (422 with a message that names the field) and
build the OpenAPI document, so the document cannot drift from what the code accepts.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmsync.engine.workspace import Workspace
from crmsync.errors import ConfigError, CrmsyncError, RunBusyError
from crmsync.web.auth import Caller, api_caller
from crmsync.web.errors import ApiError, error_response
from crmsync.web.jobs import Jobs

log = logging.getLogger("crmsync.web")
M = TypeVar("M", bound=BaseModel)
MAX_ID = 2**53
_PARAM = re.compile(r"{(\w+)}")


@dataclass
class Call:
    """One validated API request, as a handler sees it."""

    caller: Caller
    workspace: Workspace
    path: dict[str, Any]
    query: BaseModel | None
    body: BaseModel | None
    jobs: Jobs

    def q(self, model: type[M]) -> M:
        """The query, as the model it was validated with."""
        assert isinstance(self.query, model)
        return self.query

    def b(self, model: type[M]) -> M:
        """The body, as the model it was validated with."""
        assert isinstance(self.body, model)
        return self.body


Handler = Callable[[Call], BaseModel]


@dataclass
class Endpoint:
    """A declared endpoint."""

    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    response: type[BaseModel]
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    status: int = 200
    ints: tuple[str, ...] = ()


@dataclass
class Api:
    """The registry of endpoints under ``prefix``."""

    prefix: str = "/api/v1"
    endpoints: list[Endpoint] = field(default_factory=list)

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        tag: str,
        response: type[BaseModel],
        query: type[BaseModel] | None = None,
        body: type[BaseModel] | None = None,
        status: int = 200,
        ints: tuple[str, ...] = (),
    ) -> Callable[[Handler], Handler]:
        """Declare an endpoint; ``ints`` names the path parameters that are ids."""

        def register(handler: Handler) -> Handler:
            self.endpoints.append(
                Endpoint(method, path, handler, summary, tag, response, query, body, status, ints)
            )
            return handler

        return register

    def routes(self) -> list[Route]:
        """Starlette routes, one per path, dispatching on the method."""
        by_path: dict[str, dict[str, Endpoint]] = {}
        for endpoint in self.endpoints:
            by_path.setdefault(endpoint.path, {})[endpoint.method] = endpoint
        return [
            Route(self.prefix + path, _dispatcher(methods), methods=list(methods))
            for path, methods in by_path.items()
        ]


def _dispatcher(methods: dict[str, Endpoint]) -> Callable[[Request], Any]:
    async def dispatch(request: Request) -> Response:
        endpoint = methods[request.method]
        try:
            caller = await run_in_threadpool(api_caller, request)
            path = _path_params(endpoint, request.path_params)
            query = _validated(endpoint.query, dict(request.query_params), "query")
            body = None
            if endpoint.body is not None:
                body = _validated(endpoint.body, await _json(request), "body")
            workspace: Workspace = request.app.state.workspace.for_organization(caller.organization_id)
            call = Call(caller, workspace, path, query, body, request.app.state.jobs)
            result = await run_in_threadpool(_run, endpoint.handler, call)
        except ApiError as exc:
            return error_response(exc.status, exc.code, exc.message)
        return JSONResponse(result.model_dump(mode="json"), status_code=endpoint.status)

    return dispatch


def _run(handler: Handler, call: Call) -> BaseModel:
    try:
        return handler(call)
    except ApiError:
        raise
    except RunBusyError as exc:
        raise ApiError(409, "busy", exc.message) from None
    except ConfigError as exc:
        raise ApiError(422, "invalid", exc.message) from None
    except CrmsyncError as exc:
        raise ApiError(502, "crm_error", exc.message) from None


async def _json(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(422, "invalid", "the body is not JSON") from None


def _path_params(endpoint: Endpoint, given: dict[str, Any]) -> dict[str, Any]:
    values = dict(given)
    for name in endpoint.ints:
        text = str(values[name])
        if not text.isdigit() or int(text) > MAX_ID:
            raise ApiError(422, "invalid", f"{name} must be a whole number from 0 to {MAX_ID}")
        values[name] = int(text)
    return values


def _validated(model: type[BaseModel] | None, data: Any, where: str) -> BaseModel | None:
    if model is None:
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, "invalid", validation_message(exc, where)) from None


def validation_message(exc: ValidationError, where: str) -> str:
    """The first problem of a validation error as one sentence naming the field."""
    first = exc.errors()[0]
    place = ".".join(str(p) for p in (where, *first["loc"]))
    return f"{place}: {first['msg']}"


def openapi(api: Api, *, title: str, version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the declared endpoints."""
    schemas: dict[str, Any] = {}
    paths: dict[str, Any] = {}

    def ref(model: type[BaseModel]) -> dict[str, str]:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    error = {
        "description": "error",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for endpoint in api.endpoints:
        parameters: list[dict[str, Any]] = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID}
                if name in endpoint.ints
                else {"type": "string", "minLength": 1},
            }
            for name in _PARAM.findall(endpoint.path)
        ]
        if endpoint.query is not None:
            schema = endpoint.query.model_json_schema()
            required = set(schema.get("required", []))
            for name, prop in schema.get("properties", {}).items():
                parameters.append({"name": name, "in": "query", "required": name in required, "schema": prop})
        operation: dict[str, Any] = {
            "summary": endpoint.summary,
            "tags": [endpoint.tag],
            "operationId": endpoint.handler.__name__,
            "parameters": parameters,
            "responses": {
                str(endpoint.status): {
                    "description": "success",
                    "content": {"application/json": {"schema": ref(endpoint.response)}},
                },
                "401": error,
                "404": error,
                "422": error,
            },
        }
        if endpoint.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": ref(endpoint.body)}},
            }
        paths.setdefault(api.prefix + endpoint.path, {})[endpoint.method.lower()] = operation
    schemas["Error"] = {
        "type": "object",
        "required": ["error", "message"],
        "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "token": {"type": "http", "scheme": "bearer", "description": "crmsync token create NAME"},
                "session": {"type": "apiKey", "in": "cookie", "name": "crmsync_session"},
            },
        },
        "security": [{"token": []}, {"session": []}],
    }
