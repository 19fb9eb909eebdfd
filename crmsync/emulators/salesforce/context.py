"""Who writes, and the parts every kind of org rule is configured with.

A ``WriteContext`` travels with every user write: an API client (with the options of its
``Sforce-Duplicate-Rule-Header``) or a user in the screen (the control API). System changes,
merges and data loads carry none, and the org's own logic does not run for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal

from crmsync.catalogs import Catalog, ObjectDef

Operation = Literal["create", "update"]
Origin = Literal["api", "ui"]


@dataclass(frozen=True)
class WriteContext:
    """Who writes and how: an API client (with its duplicate-rule header) or a user in the screen."""

    origin: Origin = "api"
    # Sforce-Duplicate-Rule-Header: allowSave=true saves past duplicate rules that only alert.
    allow_duplicate_save: bool = False
    # ... includeRecordDetails=true puts every field of a matching record in the duplicate result.
    include_record_details: bool = False
    api_version: str = "62.0"


API_WRITE = WriteContext()
SCREEN_WRITE = WriteContext(origin="ui")

# The ``changeOrigin`` of change events for writes made now: the REST layer sets it for the
# request it serves (``com/salesforce/api/rest/61.0;client=...``); screen writes, system
# changes and anything else leave it empty.
CHANGE_ORIGIN: ContextVar[str] = ContextVar("sf_emulator_change_origin", default="")


def rule_object(catalog: Catalog, data: Mapping[str, Any]) -> ObjectDef:
    """The object a rule is for."""
    name = data.get("object")
    obj = catalog.object(name) if isinstance(name, str) else None
    if obj is None:
        raise ValueError(f"'object' must name an object of the org; got {name!r}")
    return obj


def rule_name(data: Mapping[str, Any]) -> str:
    """The name a rule is listed and removed by."""
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("'name' is required: rules are listed and removed by name")
    return name.strip()


def rule_on(data: Mapping[str, Any]) -> frozenset[str]:
    """The operations a rule acts on (both by default)."""
    on = data.get("on", ["create", "update"])
    if not isinstance(on, list) or not on or any(item not in ("create", "update") for item in on):
        raise ValueError('\'on\' must be a non-empty list of "create" and/or "update"')
    return frozenset(on)
