"""Control-API endpoints for the org's own logic: validation rules, automations, duplicate rules.

``/__emulator__/rules`` holds validation rules and before-save automations,
``/__emulator__/duplicate-rules`` duplicate rules (see ``rules``). ``GET`` lists, ``POST``
adds one (replacing a rule of the same name), ``DELETE`` removes all, ``DELETE .../{name}``
one. Changes are kept in the state file, when there is one.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from .errors import ApiError
from .responses import json_response, read_json
from .state import EmulatorState


def _duplicate(request: Request) -> bool:
    return "/duplicate-rules" in request.url.path


def _key(duplicate: bool) -> str:
    return "duplicate_rules" if duplicate else "rules"


async def rules(request: Request, state: EmulatorState) -> Any:
    """List, add or clear validation rules and automations (or duplicate rules)."""
    duplicate = _duplicate(request)
    book = state.org.rules
    if request.method == "POST":
        data = await read_json(request)
        rule = book.add_duplicate_rule(data) if duplicate else book.add(data)
        state.save_rules()
        return json_response({"name": rule.name, _key(duplicate): book.listing(duplicate=duplicate)}, 201)
    if request.method == "DELETE":
        cleared = book.clear(duplicate=duplicate)
        state.save_rules()
        return {"cleared": cleared}
    return {_key(duplicate): book.listing(duplicate=duplicate)}


async def rule(request: Request, state: EmulatorState) -> dict[str, Any]:
    """Remove one rule by name."""
    name = request.path_params["name"]
    if not state.org.rules.remove(name, duplicate=_duplicate(request)):
        raise ApiError(404, "NOT_FOUND", f"no rule named {name!r}")
    state.save_rules()
    return {"removed": name}
