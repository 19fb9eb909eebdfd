"""Helpers for customer-success tests: a seeded org, a connection with sections, platform rows."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from engine_testkit import CONNECTION, FAST, connection_config, live

from crmsync.emulators.salesforce.seed_cs import seed_customer_success
from crmsync.emulators.salesforce.server import Emulator
from crmsync.engine.apply import Scope
from crmsync.engine.counts import Counts
from crmsync.engine.section_commands import pull_options, run_fetch
from crmsync.engine.workspace import Workspace
from crmsync.store import capture, records
from crmsync.store.platform import platform_table
from crmsync.store.tables import links

SECTIONS = (
    "cs_team",
    "cs_companies",
    "cs_end_users",
    "cs_notes",
    "cs_tasks",
    "cs_licenses",
    "cs_assets",
    "cs_projects",
    "cs_tickets",
)
CUSTOMER = {"field": "Type", "op": "=", "value": "Customer - Direct"}


def connect_cs(
    workspace: Workspace,
    emulator: Emulator,
    *,
    direction: str = "receive",
    sections: dict[str, dict[str, Any]] | None = None,
    **overrides: Any,
) -> None:
    """Register the emulator with the customer-success profile, every section ``direction``
    (the team receives), then ``sections`` merged over that."""
    # The team is pulled only: it receives whatever the other sections do.
    chosen: dict[str, dict[str, Any]] = {t: {"direction": direction} for t in SECTIONS}
    chosen["cs_team"] = {"direction": "receive"}
    for platform_type, setting in (sections or {}).items():
        chosen[platform_type] = {**chosen.get(platform_type, {}), **setting}
    config = connection_config(emulator, profile="customer-success", toggles={}, sections=chosen, **overrides)
    workspace.register(CONNECTION, config)


def seeded(emulator: Emulator, records: int = 400, seed: int = 7) -> None:
    """A customer-success org of about ``records`` records."""
    seed_customer_success(emulator.org, records, seed)


def fetch(workspace: Workspace, **kwargs: Any) -> Any:
    """Fetch on the connection with fast retries."""
    return run_fetch(workspace, CONNECTION, retry=FAST, **kwargs)


def scope_of(workspace: Workspace) -> Scope:
    """The connection's scope (its customized profile)."""
    row = workspace.connection(CONNECTION)
    return workspace.scope(row)


def options_of(workspace: Workspace) -> Any:
    """The connection's pull options (cursor field, lookback, filters)."""
    return pull_options(workspace, CONNECTION)


def connector_of(workspace: Workspace) -> Any:
    """A connector for the connection (close it)."""
    return workspace.connector(workspace.connection(CONNECTION), retry=FAST)


def linked(workspace: Workspace, platform_type: str) -> dict[str, int]:
    """CRM id -> platform id of one type."""
    with workspace.engine.connect() as conn:
        rows = conn.execute(
            sa.select(links.c.crm_id, links.c.platform_id).where(links.c.platform_type == platform_type)
        )
        return {r.crm_id: int(r.platform_id) for r in rows}


def row_of(workspace: Workspace, platform_type: str, platform_id: int) -> dict[str, Any]:
    """One platform row."""
    with workspace.engine.connect() as conn:
        return records.get_many(conn, workspace.organization_id, platform_type, [platform_id])[platform_id]


def count(workspace: Workspace, platform_type: str) -> int:
    """Platform rows of one type."""
    with workspace.engine.connect() as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(platform_table(platform_type))).scalar_one()
        )


def write(
    workspace: Workspace, platform_type: str, platform_id: int, values: dict[str, Any], *, origin: str
) -> None:
    """Change a platform row as the application would, with origin ``user`` or ``system``."""
    with workspace.engine.begin() as conn, capture.origin(conn, origin):  # type: ignore[arg-type]
        records.update_many(conn, workspace.organization_id, platform_type, [(platform_id, values)])


def customers(emulator: Emulator, kind: str = "Customer - Direct") -> list[dict[str, Any]]:
    """Live accounts of one Type."""
    return [dict(a) for a in live(emulator, "Account") if a["Type"] == kind]


def total(counts: dict[str, Counts]) -> dict[str, int]:
    """Records created or updated per type in a run."""
    return {t: c.created + c.updated for t, c in counts.items() if c.created + c.updated}
