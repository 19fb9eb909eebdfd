"""Connections as an administrator sees them: cards, Test, Reset token, Disconnect, Set up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from crmsync.config import CONNECTION_CONFIG
from crmsync.engine.commands import opened
from crmsync.engine.status import status
from crmsync.engine.workspace import Workspace
from crmsync.errors import ConfigError, CrmsyncError
from crmsync.store import tenancy
from crmsync.store.db import reading
from crmsync.store.tenancy import ConnectionRow

SECRET_FIELDS = ("client_secret", "password", "security_token", "refresh_token")


@dataclass(frozen=True)
class Card:
    """One connection on the Integrations screen (never its credentials)."""

    name: str
    crm: str
    profile: str
    connected: bool
    status: str
    last_sync: datetime | None
    error_total: int
    locks: int
    queue_depth: int
    last_run: dict[str, Any] | None
    login_url: str | None
    username: str | None
    # Why the status is Error when a loop that should run does not (see engine.status).
    problem: str | None = None


@dataclass(frozen=True)
class TestResult:
    """What a Test said: "Connection successful ..." or the CRM's error."""

    ok: bool
    message: str


def find(workspace: Workspace, name: str) -> ConnectionRow | None:
    """The organization's connection called ``name``, or None (other organizations' are invisible)."""
    with reading(workspace.engine) as conn:
        return tenancy.get_connection(conn, workspace.organization_id, name)


def cards(workspace: Workspace) -> list[Card]:
    """Every connection of the organization, as cards."""
    picture = status(workspace)
    with reading(workspace.engine) as conn:
        rows = {r.name: r for r in tenancy.list_connections(conn, workspace.organization_id)}
    found = []
    for item in picture["connections"]:
        row = rows[item["name"]]
        syncs = [s["last_sync"] for s in item["org_syncs"] if s["last_sync"] is not None]
        last = item["last_run"]
        finished = [last["finished_at"]] if last and last["finished_at"] else []
        found.append(
            Card(
                name=row.name,
                crm=row.crm,
                profile=row.profile,
                connected=bool(row.credentials),
                status=item["status"],
                last_sync=max([*syncs, *finished], default=None),
                error_total=item["error_total"],
                locks=item["locks"],
                queue_depth=item["queue_depth"],
                last_run=last,
                login_url=row.settings.get("login_url"),
                username=row.settings.get("username"),
                problem=item["problem"],
            )
        )
    return found


def card(workspace: Workspace, name: str) -> Card | None:
    """One card, or None."""
    return next((c for c in cards(workspace) if c.name == name), None)


def test(workspace: Workspace, row: ConnectionRow) -> TestResult:
    """Log in and read one record of the profile's first object; changes nothing."""
    if not row.credentials:
        return TestResult(False, f"{row.name} is not connected: set up its credentials first")
    try:
        with opened(workspace, row.name) as session:
            first = session.scope.profile.objects[0].object
            return TestResult(True, session.connector.probe(first))
    except CrmsyncError as exc:
        return TestResult(False, exc.message)


def reset_token(workspace: Workspace, row: ConnectionRow) -> None:
    """Forget the stored access token: the next call logs in again with the credentials."""
    with workspace.engine.begin() as conn:
        tenancy.save_token(conn, workspace.organization_id, row.id, None)


def disconnect(workspace: Workspace, row: ConnectionRow) -> None:
    """Drop the credentials and token; data, links and logs stay."""
    with workspace.engine.begin() as conn:
        tenancy.forget_credentials(conn, workspace.organization_id, row.id)


def set_up(workspace: Workspace, name: str, data: dict[str, Any]) -> ConnectionRow:
    """Store (new) credentials and settings for ``name``, keeping its toggles and other settings."""
    current = find(workspace, name)
    base: dict[str, Any] = dict(current.settings) if current else {}
    if current is not None:
        with reading(workspace.engine) as conn:
            toggles = tenancy.get_toggles(conn, workspace.organization_id, current.id)
        base["toggles"] = {t: {"pull": v.pull, "push": v.push} for t, v in toggles.items()}
        base["profile"] = current.profile
    merged = {**base, **{k: v for k, v in data.items() if v not in (None, "")}}
    try:
        config = CONNECTION_CONFIG.validate_python(merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{where}: {first['msg']}") from None
    return workspace.register(name, config)
