"""The control API under ``/__emulator__/``: JSON in and out, no authentication, never
rate-limited, counted or faulted. Tests and demos drive the emulated database with it,
standing in for the Bloomerang screens and for Bloomerang itself. Reference: ``CONTROL_API.md``.

=================================================  ===========================================
``GET  /__emulator__/health``                      liveness, record total, clock
``GET  /__emulator__/stats``                       API calls by path and status, 429s, records
``POST /__emulator__/reset``                       empty database; faults and counts cleared
``POST /__emulator__/seed``                        ``{"preset":"bloomerang","records":N,"seed":1}``
``POST /__emulator__/load``                        a data file ``{"Constituent":[..],..}``
``GET  /__emulator__/records/{kind}/{id}``         one record as the API shows it
``POST /__emulator__/records/{kind}``              ``{"fields":{..}}``: create in the screen
``PUT|PATCH /__emulator__/records/{kind}/{id}``    ``{"fields":{..}}``: edit in the screen
``DELETE /__emulator__/records/{kind}/{id}``       delete in the screen
``POST /__emulator__/merge``                       ``{"survivor":id,"loser":id}``: merge screen
``GET|POST /__emulator__/clock``                   ``{"freeze"|"set"|"advance_seconds"|"real_time"}``
``GET|POST|DELETE /__emulator__/faults``           list, add one rule, clear all (see faults.py)
``GET|POST /__emulator__/settings``                ``{"rate":"10/1","latency_ms":100,"max_take":50}``
``GET|POST /__emulator__/auth``                    ``{"api_keys":[..],"token_seconds":N}``
``POST /__emulator__/auth/code``                   an OAuth authorization code
``POST /__emulator__/auth/expire-tokens``          every access token stops working
=================================================  ===========================================
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .clock import format_timestamp, parse_timestamp
from .constituents import create_constituent, delete_constituent, update_constituent
from .credits import create_soft_credit, delete_soft_credit, update_soft_credit
from .errors import ApiError
from .gifts import create_transaction, delete_transaction, update_transaction
from .households import create_household, delete_household, update_household
from .loader import LoadError, load_document
from .merge import merge_constituents
from .ratelimit import parse_rate
from .records import SCREEN_USER
from .reference import create_listed, update_listed
from .seed import PRESETS, seed_database
from .state import EmulatorState
from .store import KINDS, Record, Store
from .values import Fields
from .views import render

Endpoint = Callable[[Request], Awaitable[Response]]
WRITERS: dict[str, tuple[Callable[..., Record], Callable[..., Record], Callable[[Store, int, str], None]]] = {
    "Constituent": (create_constituent, update_constituent, delete_constituent),
    "Household": (create_household, update_household, delete_household),
    "Transaction": (create_transaction, update_transaction, delete_transaction),
    "SoftCredit": (create_soft_credit, update_soft_credit, delete_soft_credit),
}


class ControlError(Exception):
    """A control request that cannot be carried out; answered 400 with the reason."""


def _json(content: Any, status: int = 200) -> Response:
    return Response(json.dumps(content), status_code=status, media_type="application/json")


def _guarded(endpoint: Callable[[Request, EmulatorState], Awaitable[Any]]) -> Endpoint:
    async def wrapper(request: Request) -> Response:
        state: EmulatorState = request.app.state.emulator
        try:
            result = await endpoint(request, state)
        except ApiError as error:
            code = "NOT_FOUND" if error.status == 404 else "INVALID_REQUEST"
            return _json({"errorCode": code, "message": error.message}, 404 if error.status == 404 else 400)
        except LoadError as error:
            return _json({"errorCode": "LOAD_FAILED", "message": str(error)}, 400)
        except (ControlError, ValueError) as error:
            return _json({"errorCode": "INVALID_REQUEST", "message": str(error)}, 400)
        return result if isinstance(result, Response) else _json(result)

    return wrapper


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except json.JSONDecodeError as exc:
        raise ControlError(f"the body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ControlError("the body must be a JSON object")
    return body


def _int(body: dict[str, Any], key: str) -> int:
    value = body.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ControlError(f"{key!r} is required and must be an integer")
    return value


def _kind(request: Request) -> str:
    wanted = str(request.path_params["kind"])
    for kind in KINDS:
        if kind.lower() == wanted.lower():
            return kind
    raise ControlError(f"unknown record kind {wanted!r}; known: {', '.join(KINDS)}")


async def health(request: Request, state: EmulatorState) -> dict[str, Any]:
    """Liveness."""
    return {"status": "ok", "records": state.store.total(), "clock": state.store.clock.describe()}


async def stats(request: Request, state: EmulatorState) -> dict[str, Any]:
    """API calls and record counts."""
    return state.describe()


async def reset(request: Request, state: EmulatorState) -> dict[str, Any]:
    """Back to an empty database."""
    state.store.clear()
    state.faults.clear()
    state.stats.reset()
    state.limiter.configure(state.limiter.limit, state.limiter.seconds)
    return {"status": "reset", "records": state.store.total()}


async def seed(request: Request, state: EmulatorState) -> dict[str, Any]:
    """Replace every record with a seeded database."""
    body = await _body(request)
    if body.get("preset", "bloomerang") not in PRESETS:
        raise ControlError(f"unknown preset {body.get('preset')!r}; known: {', '.join(PRESETS)}")
    records = _int(body, "records")
    if records < 1:
        raise ControlError("'records' must be positive")
    started = time.perf_counter()
    counts = seed_database(state.store, records, int(body.get("seed", 1)))
    return {
        "records": counts,
        "total": state.store.total(),
        "seconds": round(time.perf_counter() - started, 3),
    }


async def load(request: Request, state: EmulatorState) -> dict[str, Any]:
    """Add the records of a data file."""
    try:
        document = json.loads(await request.body())
    except json.JSONDecodeError as exc:
        raise ControlError(f"the data file is not valid JSON: {exc}") from None
    return {"loaded": load_document(state.store, document)}


async def record(request: Request, state: EmulatorState) -> Any:
    """Read, edit or delete one record as a user in the screen."""
    kind, store = _kind(request), state.store
    record_id = int(request.path_params["id"])
    if request.method == "GET":
        with store.lock:
            found = store.get(kind, record_id)
            if found is None:
                raise ApiError(404, f"no {kind} with id {record_id}")
            return render(store, kind, found)
    if request.method == "DELETE":
        if kind not in WRITERS:
            raise ControlError(f"{kind} records are made inactive, not deleted")
        WRITERS[kind][2](store, record_id, SCREEN_USER)
        return {"Id": record_id, "Type": kind, "Deleted": True}
    fields = Fields((await _body(request)).get("fields"), "fields")
    if kind in WRITERS:
        changed = WRITERS[kind][1](store, record_id, fields, SCREEN_USER)
    else:
        changed = update_listed(store, kind, record_id, fields, SCREEN_USER)
    with store.lock:
        return render(store, kind, changed)


async def create_record(request: Request, state: EmulatorState) -> Any:
    """Create a record as a user in the screen (or an administrator in the settings)."""
    kind, store = _kind(request), state.store
    fields = Fields((await _body(request)).get("fields"), "fields")
    if kind in WRITERS:
        created = WRITERS[kind][0](store, fields, SCREEN_USER)
    elif kind == "Designation":
        raise ControlError("designations are created with their transaction")
    else:
        created = create_listed(store, kind, fields, SCREEN_USER)
    with store.lock:
        return _json(render(store, kind, created), 201)


async def merge(request: Request, state: EmulatorState) -> dict[str, Any]:
    """Merge two constituents as the CRM's merge screen does."""
    body = await _body(request)
    survivor = merge_constituents(state.store, _int(body, "survivor"), _int(body, "loser"), SCREEN_USER)
    return {
        "survivor": survivor["Id"],
        "merged": body["loser"],
        "LastModifiedDate": format_timestamp(survivor["Modified"]),
    }


async def clock(request: Request, state: EmulatorState) -> dict[str, Any]:
    """Show or steer the clock."""
    org_clock = state.store.clock
    if request.method == "POST":
        body = await _body(request)
        known = {"freeze", "set", "advance_seconds", "real_time"}
        if not body or set(body) - known:
            raise ControlError(f"clock takes one or more of {', '.join(sorted(known))}")
        if body.get("real_time"):
            org_clock.real_time()
        # Freeze first, so a time set in the same request is exactly the frozen instant.
        if body.get("freeze") is True:
            org_clock.freeze()
        if "set" in body:
            org_clock.set(parse_timestamp(str(body["set"])))
        if "advance_seconds" in body:
            advance = body["advance_seconds"]
            if not isinstance(advance, int | float) or isinstance(advance, bool):
                raise ControlError("'advance_seconds' must be a number")
            org_clock.advance(float(advance))
        if body.get("freeze") is False:
            org_clock.unfreeze()
    return org_clock.describe()


async def faults(request: Request, state: EmulatorState) -> Any:
    """List, add or clear fault rules."""
    if request.method == "POST":
        rule = state.faults.add(await _body(request))
        return _json({"id": rule.id, "faults": state.faults.list()}, 201)
    if request.method == "DELETE":
        return {"cleared": state.faults.clear()}
    return {"faults": state.faults.list()}


async def settings(request: Request, state: EmulatorState) -> dict[str, Any]:
    """Show or change the rate limit, the latency and the largest page."""
    if request.method == "POST":
        body = await _body(request)
        known = {"rate", "latency_ms", "max_take"}
        if set(body) - known:
            raise ControlError(f"settings take {', '.join(sorted(known))}")
        if "rate" in body:
            rate = body["rate"]
            if rate is None:
                state.limiter.configure(None, 1.0)
            else:
                state.limiter.configure(*parse_rate(str(rate)))
        if "latency_ms" in body:
            state.settings.latency_ms = max(0, _int(body, "latency_ms"))
        if "max_take" in body:
            state.settings.max_take = max(1, _int(body, "max_take"))
    limiter = state.limiter.describe()
    rate = None if limiter["limit"] is None else f"{limiter['limit']}/{limiter['seconds']:g}"
    return {
        "rate": rate,
        "rejected": limiter["rejected"],
        "latency_ms": state.settings.latency_ms,
        "max_take": state.settings.max_take,
    }


async def auth(request: Request, state: EmulatorState) -> dict[str, Any]:
    """Show or change the accepted API keys and the access token lifetime."""
    if request.method == "POST":
        body = await _body(request)
        if "api_keys" in body:
            keys = body["api_keys"]
            if not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys):
                raise ControlError("'api_keys' must be a list of non-empty strings")
            state.auth.config.api_keys = list(keys)
        if "token_seconds" in body:
            state.auth.config.token_seconds = max(1, _int(body, "token_seconds"))
    return state.auth.describe()


async def auth_code(request: Request, state: EmulatorState) -> dict[str, Any]:
    """An authorization code, as if a user consented at the authorize page."""
    return {"code": state.auth.issue_code(), "client_id": state.auth.config.client_id}


async def expire_tokens(request: Request, state: EmulatorState) -> dict[str, Any]:
    """Every access token stops working."""
    return {"expired": state.auth.expire_all()}


PREFIX = "/__emulator__"
ROUTES = [
    Route(f"{PREFIX}/health", _guarded(health), methods=["GET"]),
    Route(f"{PREFIX}/stats", _guarded(stats), methods=["GET"]),
    Route(f"{PREFIX}/reset", _guarded(reset), methods=["POST"]),
    Route(f"{PREFIX}/seed", _guarded(seed), methods=["POST"]),
    Route(f"{PREFIX}/load", _guarded(load), methods=["POST"]),
    Route(f"{PREFIX}/records/{{kind}}", _guarded(create_record), methods=["POST"]),
    Route(
        f"{PREFIX}/records/{{kind}}/{{id:int}}", _guarded(record), methods=["GET", "PUT", "PATCH", "DELETE"]
    ),
    Route(f"{PREFIX}/merge", _guarded(merge), methods=["POST"]),
    Route(f"{PREFIX}/clock", _guarded(clock), methods=["GET", "POST"]),
    Route(f"{PREFIX}/faults", _guarded(faults), methods=["GET", "POST", "DELETE"]),
    Route(f"{PREFIX}/settings", _guarded(settings), methods=["GET", "POST"]),
    Route(f"{PREFIX}/auth", _guarded(auth), methods=["GET", "POST"]),
    Route(f"{PREFIX}/auth/code", _guarded(auth_code), methods=["POST"]),
    Route(f"{PREFIX}/auth/expire-tokens", _guarded(expire_tokens), methods=["POST"]),
]
