"""The control API under ``/__emulator__/``: JSON in and out, no authentication, no API usage.

Tests and demos drive the emulated org with it, standing in for what happens in the
Salesforce screens and in Salesforce itself. Full reference: ``CONTROL_API.md``.

==========================================  ===============================================
``GET  /__emulator__/health``               liveness, org id, record total, clock
``GET  /__emulator__/stats``                API calls (total, by resource), records and
                                            deleted records per object
``POST /__emulator__/reset``                empty org (admin user only); rules, usage, cursors,
                                            faults and Change Data Capture cleared; sessions
                                            stay valid
``POST /__emulator__/seed``                 ``{"preset":"npsp","records":N,"seed":1}``
``POST /__emulator__/load``                 a data file ``{"Contact":[{"Id":..},..],..}``
``GET  /__emulator__/records/{Obj}/{id}``   one record, every field (deleted ones too)
``POST /__emulator__/records/{Obj}``        ``{"fields":{..}}``: create as a user in the screen
``PATCH /__emulator__/records/{Obj}/{id}``  ``{"fields":{..},"system":false}``; system=true is
                                            an automation: only SystemModstamp moves
``DELETE /__emulator__/records/{Obj}/{id}`` delete as a user (cascades like the API)
``POST /__emulator__/merge``                ``{"object","master","losers":[..],"fields"?}``
``POST /__emulator__/delete``               ``{"object","ids":[..]}``
``POST /__emulator__/undelete``             ``{"object","ids":[..]}``
``GET|POST /__emulator__/clock``            ``{"freeze":true}`` ``{"freeze":false}``
                                            ``{"set":"2024-01-01T00:00:00Z"}``
                                            ``{"advance_seconds":N}`` ``{"real_time":true}``
``GET|POST /__emulator__/limits``           ``{"daily_api_requests":N,"used":M}``, the same
                                            for delivered streaming events
``GET|POST /__emulator__/auth``             ``{"session_seconds":N,"issue_refresh_tokens":b}``
``POST /__emulator__/auth/expire-sessions`` every access token stops working
``POST /__emulator__/auth/jwt-keys``        ``{"client_id":..,"public_key_pem":..}``
``GET|POST|DELETE /__emulator__/faults``    list, add one rule, clear all (see faults.py)
``GET|POST|DELETE /__emulator__/rules``     validation rules and before-save automations:
                                            list, add one, clear all (see rules.py)
``DELETE /__emulator__/rules/{name}``       remove one
``GET|POST|DELETE .../duplicate-rules``     duplicate rules: list, add one, clear all
``DELETE .../duplicate-rules/{name}``       remove one
``GET|POST /__emulator__/cdc``              Change Data Capture: ``{"objects":[..],"enabled":true}``
                                            and settings (see control_cdc.py)
``POST /__emulator__/cdc/gap``              ``{"object","changeType":"GAP_UPDATE","recordIds"}``
``GET  /__emulator__/cdc/events``           retained change events (``?after=&object=``)
``DELETE /__emulator__/cdc/clients``        forget every Streaming API client
==========================================  ===============================================
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import control_cdc, control_rules
from .clock import parse_datetime
from .context import SCREEN_WRITE
from .errors import ApiError
from .loader import LoadError, load_document
from .presets import seed_preset
from .responses import json_response, read_json
from .seed import PRESETS
from .state import EmulatorState

Endpoint = Callable[[Request], Awaitable[Response]]


class ControlError(Exception):
    """A control request that cannot be carried out; answered 400 with the reason."""


def _state(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.emulator
    return state


def _guarded(endpoint: Callable[[Request, EmulatorState], Awaitable[Any]], status: int = 200) -> Endpoint:
    """Run ``endpoint``, turning its result into JSON and its failures into error answers."""

    async def wrapper(request: Request) -> Response:
        try:
            result = await endpoint(request, _state(request))
        except ApiError as error:
            body = {"errorCode": error.error_code, "message": error.message, "fields": error.fields}
            return json_response(body, 400 if error.status < 400 else error.status)
        except LoadError as error:
            problems: dict[str, Any] = {
                "errorCode": "LOAD_FAILED",
                "message": str(error),
                "problems": [p.to_json() for p in error.problems],
            }
            return json_response(problems, 400)
        except (ControlError, ValueError) as error:
            return json_response({"errorCode": "INVALID_REQUEST", "message": str(error)}, 400)
        if isinstance(result, Response):
            return result
        return json_response(result, status)

    return wrapper


async def _object_body(request: Request) -> dict[str, Any]:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ControlError("the body must be a JSON object")
    return body


def _require(body: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = body.get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise ControlError(f"{key!r} is required and must be a {getattr(kind, '__name__', kind)}")
    return value


async def health(request: Request, state: EmulatorState) -> dict[str, Any]:
    """Liveness and identity."""
    return {
        "status": "ok",
        "org_id": state.org.org_id,
        "user_id": state.org.user_id,
        "records": state.org.total(),
        "clock": state.org.clock.describe(),
        "api_usage": state.usage.header(),
    }


async def stats(request: Request, state: EmulatorState) -> dict[str, Any]:
    """API calls and record counts."""
    return state.stats()


async def reset(request: Request, state: EmulatorState) -> dict[str, Any]:
    """Back to an empty org."""
    state.org.reset()
    state.save_rules()
    state.usage.reset()
    state.cursors.clear()
    state.faults.clear()
    state.reset_change_capture()
    return {"status": "reset", "records": state.org.total()}


async def seed(request: Request, state: EmulatorState) -> dict[str, Any]:
    """Replace the records with a seeded org."""
    body = await _object_body(request)
    preset = body.get("preset", "npsp")
    if preset not in PRESETS:
        raise ControlError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
    records = _require(body, "records", int)
    seed_value = body.get("seed", 1)
    if not isinstance(seed_value, int):
        raise ControlError("'seed' must be an integer")
    started = time.perf_counter()
    counts = seed_preset(state.org, preset, records, seed_value)
    state.cursors.clear()
    return {"records": counts, "total": state.org.total(), "seconds": round(time.perf_counter() - started, 3)}


async def load(request: Request, state: EmulatorState) -> dict[str, Any]:
    """Add the records of a data file."""
    return {"loaded": load_document(state.org, await read_json(request))}


async def record(request: Request, state: EmulatorState) -> Any:
    """Read, change or delete one record as a user (or an automation)."""
    obj = state.org.object_def(request.path_params["object"])
    record_id = request.path_params["id"]
    if request.method == "GET":
        row = state.org.get(obj.name, record_id)
        if row is None:
            raise ApiError(404, "NOT_FOUND", f"no {obj.name} with id {record_id}")
        return row.to_dict()
    if request.method == "DELETE":
        return {"deleted": state.org.delete(obj.name, record_id)}
    body = await _object_body(request)
    fields = _require(body, "fields", dict)
    system = body.get("system", False)
    if not isinstance(system, bool):
        raise ControlError("'system' must be true or false")
    row = state.org.update(obj.name, record_id, fields, system=system, context=SCREEN_WRITE)
    return {key: row[key] for key in ("Id", "LastModifiedDate", "SystemModstamp") if key in row}


async def create_record(request: Request, state: EmulatorState) -> Any:
    """Create a record as a user in the screen."""
    obj = state.org.object_def(request.path_params["object"])
    fields = _require(await _object_body(request), "fields", dict)
    return json_response({"id": state.org.insert(obj.name, fields, context=SCREEN_WRITE)}, 201)


async def merge(request: Request, state: EmulatorState) -> dict[str, Any]:
    """Merge records as the merge screen does."""
    body = await _object_body(request)
    losers = _require(body, "losers", list)
    fields = body.get("fields") or {}
    if not isinstance(fields, dict):
        raise ControlError("'fields' must be an object of the master's new values")
    master = state.org.merge(_require(body, "object", str), _require(body, "master", str), losers, fields)
    return {"master": master["Id"], "merged": [str(loser) for loser in losers]}


async def delete(request: Request, state: EmulatorState) -> dict[str, Any]:
    """Delete several records."""
    body = await _object_body(request)
    object_name = _require(body, "object", str)
    deleted: list[str] = []
    for record_id in _require(body, "ids", list):
        deleted.extend(state.org.delete(object_name, str(record_id)))
    return {"deleted": deleted}


async def undelete(request: Request, state: EmulatorState) -> dict[str, Any]:
    """Restore records from the recycle bin."""
    body = await _object_body(request)
    object_name = _require(body, "object", str)
    restored: list[str] = []
    for record_id in _require(body, "ids", list):
        restored.extend(state.org.undelete(object_name, str(record_id)))
    return {"restored": restored}


async def clock(request: Request, state: EmulatorState) -> dict[str, Any]:
    """Show or steer the org clock."""
    org_clock = state.org.clock
    if request.method == "POST":
        body = await _object_body(request)
        known = {"freeze", "set", "advance_seconds", "real_time"}
        if not body or set(body) - known:
            raise ControlError(f"clock takes one or more of {', '.join(sorted(known))}")
        if body.get("real_time"):
            org_clock.real_time()
        # Freeze first, so a time set in the same request is exactly the frozen instant.
        if body.get("freeze") is True:
            org_clock.freeze()
        if "set" in body:
            org_clock.set(parse_datetime(_require(body, "set", str)))
        if "advance_seconds" in body:
            org_clock.advance(float(_require(body, "advance_seconds", (int, float))))
        if body.get("freeze") is False:
            org_clock.unfreeze()
    return org_clock.describe()


async def limits(request: Request, state: EmulatorState) -> dict[str, Any]:
    """Show or set the daily API allocation and usage."""
    if request.method == "POST":
        body = await _object_body(request)
        keys = ("daily_api_requests", "used", "daily_streaming_events", "streaming_events_used")
        values = {name: body.get(name) for name in keys}
        for name, value in values.items():
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                raise ControlError(f"{name!r} must be a non-negative integer")
        state.usage.configure(
            daily_max=values["daily_api_requests"],
            used=values["used"],
            streaming_max=values["daily_streaming_events"],
            streaming_used=values["streaming_events_used"],
        )
    return state.usage.stats()


async def auth(request: Request, state: EmulatorState) -> dict[str, Any]:
    """Show or set session settings."""
    if request.method == "POST":
        body = await _object_body(request)
        known = {"session_seconds", "issue_refresh_tokens"}
        if not body or set(body) - known:
            raise ControlError(f"auth takes one or both of {', '.join(sorted(known))}")
        if "session_seconds" in body:
            seconds = _require(body, "session_seconds", int)
            if seconds < 1:
                raise ControlError("'session_seconds' must be positive")
            state.auth.config.session_seconds = seconds
        if "issue_refresh_tokens" in body:
            state.auth.config.issue_refresh_tokens = _require(body, "issue_refresh_tokens", bool)
    return state.auth.describe()


async def expire_sessions(request: Request, state: EmulatorState) -> dict[str, Any]:
    """Invalidate every access token."""
    return {"expired": state.auth.expire_all()}


async def jwt_keys(request: Request, state: EmulatorState) -> dict[str, Any]:
    """Register a public key or certificate for JWT bearer assertions."""
    body = await _object_body(request)
    client_id = _require(body, "client_id", str)
    state.auth.register_jwt_key(client_id, _require(body, "public_key_pem", str))
    return {"client_id": client_id, "registered": True}


async def faults(request: Request, state: EmulatorState) -> Any:
    """List, add or clear fault rules."""
    if request.method == "POST":
        rule = state.faults.add(await read_json(request))
        return json_response({"id": rule.id, "faults": state.faults.list()}, 201)
    if request.method == "DELETE":
        return {"cleared": state.faults.clear()}
    return {"faults": state.faults.list()}


PREFIX = "/__emulator__"
ROUTES = [
    Route(f"{PREFIX}/health", _guarded(health), methods=["GET"]),
    Route(f"{PREFIX}/stats", _guarded(stats), methods=["GET"]),
    Route(f"{PREFIX}/reset", _guarded(reset), methods=["POST"]),
    Route(f"{PREFIX}/seed", _guarded(seed), methods=["POST"]),
    Route(f"{PREFIX}/load", _guarded(load), methods=["POST"]),
    Route(f"{PREFIX}/records/{{object}}", _guarded(create_record), methods=["POST"]),
    Route(f"{PREFIX}/records/{{object}}/{{id}}", _guarded(record), methods=["GET", "PATCH", "DELETE"]),
    Route(f"{PREFIX}/merge", _guarded(merge), methods=["POST"]),
    Route(f"{PREFIX}/delete", _guarded(delete), methods=["POST"]),
    Route(f"{PREFIX}/undelete", _guarded(undelete), methods=["POST"]),
    Route(f"{PREFIX}/clock", _guarded(clock), methods=["GET", "POST"]),
    Route(f"{PREFIX}/limits", _guarded(limits), methods=["GET", "POST"]),
    Route(f"{PREFIX}/auth", _guarded(auth), methods=["GET", "POST"]),
    Route(f"{PREFIX}/auth/expire-sessions", _guarded(expire_sessions), methods=["POST"]),
    Route(f"{PREFIX}/auth/jwt-keys", _guarded(jwt_keys), methods=["POST"]),
    Route(f"{PREFIX}/faults", _guarded(faults), methods=["GET", "POST", "DELETE"]),
    Route(f"{PREFIX}/rules", _guarded(control_rules.rules), methods=["GET", "POST", "DELETE"]),
    Route(f"{PREFIX}/rules/{{name}}", _guarded(control_rules.rule), methods=["DELETE"]),
    Route(f"{PREFIX}/duplicate-rules", _guarded(control_rules.rules), methods=["GET", "POST", "DELETE"]),
    Route(f"{PREFIX}/duplicate-rules/{{name}}", _guarded(control_rules.rule), methods=["DELETE"]),
    Route(f"{PREFIX}/cdc", _guarded(control_cdc.cdc), methods=["GET", "POST"]),
    Route(f"{PREFIX}/cdc/gap", _guarded(control_cdc.gap), methods=["POST"]),
    Route(f"{PREFIX}/cdc/events", _guarded(control_cdc.events), methods=["GET"]),
    Route(f"{PREFIX}/cdc/clients", _guarded(control_cdc.clients), methods=["DELETE"]),
]
