"""Control-API endpoints for Change Data Capture: enabling objects, settings, gap events, clients.

``GET|POST /__emulator__/cdc`` shows or changes which objects are enabled and how the bus and
the Streaming endpoint behave; ``POST /__emulator__/cdc/gap`` publishes a gap or overflow
event; ``GET /__emulator__/cdc/events`` lists retained events; ``DELETE
/__emulator__/cdc/clients`` forgets every streaming client (as a server restart would).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from .cdc_bus import GAP_TYPES, CdcSettings
from .cdc_shapes import channel_of
from .responses import read_json
from .state import EmulatorState

# Setting -> (accepted JSON types, lowest value allowed).
_SETTINGS: dict[str, tuple[tuple[type, ...], float | None]] = {
    "retention_hours": ((int, float), 0),
    "overflow_after": ((int,), 1),
    "merge_events": ((bool,), None),
    "timeout_ms": ((int,), 0),
    "client_timeout_seconds": ((int, float), 0),
}
assert set(_SETTINGS) == set(CdcSettings.__dataclass_fields__)


async def _body(request: Request) -> dict[str, Any]:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def _describe(state: EmulatorState) -> dict[str, Any]:
    return state.cdc.describe() | {"clients": state.streaming.count()}


async def cdc(request: Request, state: EmulatorState) -> dict[str, Any]:
    """Show, or enable objects and change settings."""
    if request.method == "POST":
        body = await _body(request)
        known = {"objects", "enabled", *_SETTINGS}
        if not body or set(body) - known:
            raise ValueError(f"cdc takes one or more of {', '.join(sorted(known))}")
        changes: dict[str, Any] = {}
        for key, (kinds, lowest) in _SETTINGS.items():
            if key not in body:
                continue
            value = body[key]
            fits = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
            if fits and lowest is not None:
                fits = float(body[key]) >= lowest
            if not fits:
                floor = "" if lowest is None else f" of at least {lowest}"
                raise ValueError(f"{key!r} must be a {' or '.join(k.__name__ for k in kinds)}{floor}")
            changes[key] = value
        objects = body.get("objects")
        if objects is not None:
            if not isinstance(objects, list) or not all(isinstance(name, str) for name in objects):
                raise ValueError("'objects' must be a list of object names")
            enabled = body.get("enabled", True)
            if not isinstance(enabled, bool):
                raise ValueError("'enabled' must be true or false")
            state.cdc.enable([state.org.object_def(name) for name in objects], enabled)
        elif "enabled" in body:
            raise ValueError("'enabled' needs 'objects': the objects to enable or disable")
        if changes:
            state.cdc.configure(**changes)
    return _describe(state)


async def gap(request: Request, state: EmulatorState) -> dict[str, Any]:
    """Publish a gap event (``GAP_CREATE`` ... ``GAP_UNDELETE``) or an overflow event."""
    body = await _body(request)
    obj = state.org.object_def(str(body.get("object", "")))
    change_type = body.get("changeType")
    if change_type not in GAP_TYPES:
        raise ValueError(f"'changeType' must be one of {', '.join(GAP_TYPES)}; got {change_type!r}")
    if obj.name not in state.cdc.enabled:
        raise ValueError(f"{obj.name} is not enabled for Change Data Capture; enable it first")
    record_ids = body.get("recordIds", [])
    if not isinstance(record_ids, list) or not all(isinstance(item, str) for item in record_ids):
        raise ValueError("'recordIds' must be a list of record ids")
    if change_type == "GAP_OVERFLOW" and record_ids:
        raise ValueError("a GAP_OVERFLOW event names no records")
    if change_type != "GAP_OVERFLOW" and not record_ids:
        raise ValueError(f"a {change_type} event needs 'recordIds'")
    event = state.cdc.inject_gap(obj.name, change_type, record_ids)
    return {"replayId": event.replay_id, "channel": channel_of(obj), "data": event.data()}


async def events(request: Request, state: EmulatorState) -> dict[str, Any]:
    """Retained events (``?after=<replayId>&object=<name>``), oldest first."""
    params = request.query_params
    try:
        after = int(params.get("after", "0"))
    except ValueError:
        raise ValueError("'after' must be a replay id") from None
    entity = state.org.object_def(params["object"]).name if "object" in params else None
    found = state.cdc.after(after, entity, limit=10_000)
    return {
        "events": [
            {
                "replayId": e.replay_id,
                "channel": channel_of(state.catalog.objects[e.entity]),
                "data": e.data(),
            }
            for e in found
        ]
    }


async def clients(request: Request, state: EmulatorState) -> dict[str, Any]:
    """Forget every streaming client."""
    return {"dropped": state.streaming.clear()}
