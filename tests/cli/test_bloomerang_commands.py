"""The crmsync command on a Bloomerang connection: sync all, push, reconcile, status, bad settings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from crmsync.cli import EXIT_FAILED, app
from crmsync.emulators.bloomerang import DEFAULT_API_KEY
from crmsync.emulators.bloomerang.server import Emulator, running_emulator
from crmsync.engine.workspace import Workspace
from crmsync.secrets import vault_from_environment
from crmsync.store import capture
from crmsync.store.platform import platform_table
from crmsync.store.types import utcnow

KEY = {"X-API-KEY": DEFAULT_API_KEY}


@pytest.fixture
def bloomerang() -> Iterator[Emulator]:
    with running_emulator(seed="bloomerang:400") as emulator:
        yield emulator


def _config(path: Path, api_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BLOOMERANG_API_KEY", DEFAULT_API_KEY)
    path.write_text(
        f"""
database_url = "sqlite:///{path.parent / "platform.db"}"

[connections.donors]
crm = "bloomerang"
api_url = "{api_url}"
api_key = "env:BLOOMERANG_API_KEY"
rate_limit = "50/1"

[connections.donors.toggles]
default = {{ pull = true, push = true }}
""",
        encoding="utf-8",
    )
    return path


def _json(runner: CliRunner, *args: str) -> dict[str, object]:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.stdout + result.stderr
    last: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return last


def test_sync_all_push_reconcile_and_status(
    runner: CliRunner, bloomerang: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = str(_config(tmp_path / "crmsync.toml", bloomerang.api_url, monkeypatch))
    synced = _json(runner, "--config", config, "sync", "all", "--json")
    assert synced["status"] == "succeeded", synced
    # A gift by a new supporter, written by the application, reaches Bloomerang parents first.
    workspace = Workspace(f"sqlite:///{tmp_path / 'platform.db'}", vault=vault_from_environment())
    now = utcnow()
    with workspace.engine.begin() as conn, capture.origin(conn, "user"):
        supporter = conn.execute(
            platform_table("supporters")
            .insert()
            .values(
                organization_id=workspace.organization_id,
                first_name="Grace",
                last_name="Hopper",
                email="grace@example.org",
                created_at=now,
                updated_at=now,
            )
        ).inserted_primary_key[0]
        conn.execute(
            platform_table("transactions")
            .insert()
            .values(
                organization_id=workspace.organization_id,
                supporter_id=supporter,
                amount=75,
                close_date=now.date(),
                created_at=now,
                updated_at=now,
            )
        )
    workspace.close()
    pushed = runner.invoke(app, ["--config", config, "push"])
    assert pushed.exit_code == 0, pushed.stdout + pushed.stderr
    found = httpx.get(
        f"{bloomerang.api_url}/constituents/search", params={"search": "grace@example.org"}, headers=KEY
    ).json()["Results"]
    assert [c["FullName"] for c in found] == ["Grace Hopper"]
    gifts = httpx.get(
        f"{bloomerang.api_url}/transactions", params={"accountId": found[0]["Id"]}, headers=KEY
    ).json()["Results"]
    assert [g["Amount"] for g in gifts] == [75.0]
    # A constituent deleted in Bloomerang's screen leaves the platform at the reconciliation.
    gone = httpx.get(f"{bloomerang.api_url}/constituents", params={"take": 1}, headers=KEY).json()
    victim = gone["Results"][0]["Id"]
    assert httpx.delete(f"{bloomerang.api_url}/constituent/{victim}", headers=KEY).status_code == 200
    reconciled = _json(runner, "--config", config, "reconcile", "--json")
    deleted = reconciled["deleted"]
    assert isinstance(deleted, dict)
    assert sum(deleted.values()) >= 1
    status = _json(runner, "--config", config, "status", "--json")
    connections = status["connections"]
    assert isinstance(connections, list)
    (donors,) = connections
    assert donors["crm"] == "bloomerang"
    assert donors["org_syncs"] == []


def test_a_bloomerang_connection_without_a_key_is_one_line(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "crmsync.toml"
    config.write_text(
        f"""
database_url = "sqlite:///{tmp_path / "platform.db"}"
[connections.donors]
crm = "bloomerang"
""",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["--config", str(config), "sync", "all"])
    assert result.exit_code == EXIT_FAILED
    assert "needs api_key" in result.stderr
    config.write_text(
        f"""
database_url = "sqlite:///{tmp_path / "platform.db"}"
[connections.donors]
crm = "bloomerang"
profile = "npsp"
api_key = "x"
""",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["--config", str(config), "sync", "all"])
    assert result.exit_code == EXIT_FAILED
    assert "profile npsp is for salesforce" in result.stderr
