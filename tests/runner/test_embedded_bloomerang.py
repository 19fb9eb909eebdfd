"""`crmsync run` on a Bloomerang connection: pulls on its interval, pushes at once, reconciles ids."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from crmsync.config import parse_config
from crmsync.emulators.bloomerang import DEFAULT_API_KEY
from crmsync.emulators.bloomerang.server import Emulator, running_emulator
from crmsync.engine.interval import NEXT_RECONCILE
from crmsync.engine.workspace import Workspace
from crmsync.runner.embedded import EmbeddedRunner, RunnerOptions
from crmsync.secrets import Vault, generate_key
from crmsync.store import archive, capture, tenancy
from crmsync.store.db import reading
from crmsync.store.platform import platform_table
from crmsync.store.types import utcnow

KEY = {"X-API-KEY": DEFAULT_API_KEY}


@pytest.fixture
def bloomerang() -> Iterator[Emulator]:
    with running_emulator(seed="bloomerang:300") as emulator:
        yield emulator


def _until(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.2)


def _supporter_city(workspace: Workspace, person: dict[str, str]) -> str | None:
    table = platform_table("supporters")
    with reading(workspace.engine) as conn:
        found: str | None = conn.execute(
            sa.select(table.c.city).where(
                table.c.first_name == person["FirstName"], table.c.last_name == person["LastName"]
            )
        ).scalar()
    return found


def _archived(workspace: Workspace) -> set[str | None]:
    with reading(workspace.engine) as conn:
        kept = archive.listing(conn, workspace.organization_id, platform_type="supporters")
    return {k.crm_id for k in kept}


def test_the_runner_keeps_a_bloomerang_connection_in_step(bloomerang: Emulator, tmp_path: Path) -> None:
    config = parse_config(
        {
            "database_url": f"sqlite:///{tmp_path / 'platform.db'}",
            "connections": {
                "donors": {
                    "crm": "bloomerang",
                    "api_url": bloomerang.api_url,
                    "api_key": DEFAULT_API_KEY,
                    "poll_minutes": 0.02,
                    "reconcile_hours": 0.001,
                    "toggles": {"default": {"pull": True, "push": True}},
                }
            },
        }
    )
    workspace = Workspace.from_config(config, vault=Vault(generate_key()))
    events: list[str] = []
    runner = EmbeddedRunner(workspace, RunnerOptions(tick=0.2, on_event=events.append))
    someone = httpx.get(
        f"{bloomerang.api_url}/constituents", params={"type": "Individual", "take": 1}, headers=KEY
    ).json()["Results"][0]
    try:
        runner.start()
        _until(lambda: any("donors: pull succeeded" in e for e in events), "the first pull")
        assert _supporter_city(workspace, someone) is not None
        # An edit in Bloomerang arrives with the next interval's pull.
        httpx.put(
            f"{bloomerang.api_url}/constituent/{someone['Id']}",
            json={"PrimaryAddress": {"City": "Reykjavik"}},
            headers=KEY,
        ).raise_for_status()
        _until(lambda: _supporter_city(workspace, someone) == "Reykjavik", "the edit pulled")
        # A supporter written by the application is pushed at once.
        now = utcnow()
        with workspace.engine.begin() as conn, capture.origin(conn, "user"):
            conn.execute(
                platform_table("supporters")
                .insert()
                .values(
                    organization_id=workspace.organization_id,
                    first_name="Katherine",
                    last_name="Johnson",
                    email="katherine@example.org",
                    created_at=now,
                    updated_at=now,
                )
            )

        def pushed() -> bool:
            found = httpx.get(
                f"{bloomerang.api_url}/constituents/search",
                params={"search": "katherine@example.org"},
                headers=KEY,
            ).json()
            return bool(found["Results"])

        _until(pushed, "the new supporter in Bloomerang")
        # A constituent deleted in Bloomerang is archived at the next reconciliation (kept).
        httpx.delete(f"{bloomerang.api_url}/constituent/{someone['Id']}", headers=KEY).raise_for_status()
        _until(lambda: _archived(workspace) == {str(someone["Id"])}, "the deletion reconciled")
        assert _supporter_city(workspace, someone) is not None
    finally:
        runner.shutdown()
    # The supporter, and what went with it in Bloomerang (its gifts, its subscriptions).
    assert any(re.search(r"reconciled ids: [1-9]\d* deleted in the CRM", e) for e in events), events
    with reading(workspace.engine) as conn:
        row = tenancy.list_connections(conn, workspace.organization_id)[0]
        assert tenancy.get_setting(conn, workspace.organization_id, NEXT_RECONCILE, connection_id=row.id)
    workspace.close()
