"""The section commands: fetch, sync company, push-model, daily-push, users (customer-success org)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from crmsync.cli import EXIT_FAILED, app
from crmsync.config import load_config
from crmsync.emulators.salesforce.server import Emulator, running_emulator
from crmsync.engine.workspace import Workspace
from crmsync.runner.embedded import EmbeddedRunner, RunnerOptions
from crmsync.secrets import Vault, generate_key

SECRETS = {"SF_CLIENT_SECRET": "emulator-secret", "SF_PASSWORD": "emulator-password"}


@pytest.fixture(scope="module")
def cs_emulator() -> Iterator[Emulator]:
    with running_emulator(seed="customer-success:300") as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


def _config(path: Path, login_url: str) -> Path:
    path.write_text(
        f"""
database_url = "sqlite:///{path.parent / "platform.db"}"

[connections.sf]
profile = "customer-success"
login_url = "{login_url}"
client_id = "crmsync-emulator"
client_secret = "env:SF_CLIENT_SECRET"
username = "admin@npsp.example.org"
password = "env:SF_PASSWORD"
daily_push_at = "04:30"

[connections.sf.sections.cs_team]
direction = "receive"

[connections.sf.sections.cs_companies]
direction = "both"
filter = [{{ field = "Type", op = "=", value = "Customer - Direct" }}]
fields = {{ health_score = {{ crm = "Health_Score__c", direction = "send" }} }}

[connections.sf.sections.cs_end_users]
direction = "receive"

[connections.sf.sections.cs_assets]
direction = "receive"

[connections.sf.sections.cs_tickets]
direction = "receive"
""",
        encoding="utf-8",
    )
    return path


def _run(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_fetch_sync_company_push_model_daily_push_and_users(
    runner: CliRunner, cs_emulator: Emulator, tmp_path: Path
) -> None:
    config = str(_config(tmp_path / "crmsync.toml", cs_emulator.base_url))
    code, out, err = _run(runner, "--config", config, "fetch", "--full", "--json")
    assert code == 0, out + err
    result = json.loads(out)
    assert result["status"] == "succeeded"
    customers = [a for a in cs_emulator.org.scan("Account") if a["Type"] == "Customer - Direct"]
    assert result["counts"]["cs_companies"]["created"] == len(customers)
    assert set(result["counts"]) == {"cs_team", "cs_companies", "cs_end_users", "cs_assets", "cs_tickets"}

    code, out, _ = _run(runner, "--config", config, "fetch", "--section", "end-users", "--json")
    assert code == 0
    assert set(json.loads(out)["counts"]) == {"cs_team", "cs_end_users"}

    account = customers[0]["Id"]
    code, out, err = _run(runner, "--config", config, "sync", "company", account, "--json")
    assert code == 0, out + err
    synced = json.loads(out)
    assert synced["related"]["cs_companies"] == 1
    assert synced["status"] == "succeeded"

    code, out, _ = _run(runner, "--config", config, "users", "--json")
    assert code == 0
    users = [json.loads(line) for line in out.splitlines()]
    assert {u["crm_id"] for u in users} == {u["Id"] for u in cs_emulator.org.scan("User")}

    code, out, _ = _run(runner, "--config", config, "push-model", "companies", "--json")
    assert code == 0, out
    assert json.loads(out)["counts"]["pushed"] == len(customers)

    code, out, err = _run(runner, "--config", config, "push-model", "end-users")
    assert code == EXIT_FAILED
    assert "end users do not send to the CRM (direction receive)" in err

    code, out, _ = _run(runner, "--config", config, "daily-push", "--json")
    assert code == 0, out
    daily = json.loads(out)
    assert daily["status"] == "succeeded"
    assert daily["counts"]["pushed"] == len(customers)
    assert "cs_end_users" in daily["skipped_sections"]


def test_bad_section_names_are_one_line_errors(
    runner: CliRunner, cs_emulator: Emulator, tmp_path: Path
) -> None:
    config = str(_config(tmp_path / "crmsync.toml", cs_emulator.base_url))
    code, _, err = _run(runner, "--config", config, "fetch", "--section", "widgets")
    assert code == EXIT_FAILED
    assert "has no section 'widgets'" in err
    code, _, err = _run(runner, "--config", config, "fetch", "--section", "notes")
    assert code == EXIT_FAILED
    assert "notes receive nothing from the CRM (direction off)" in err


def test_the_runner_runs_the_incremental_job(cs_emulator: Emulator, tmp_path: Path) -> None:
    config = load_config(_config(tmp_path / "crmsync.toml", cs_emulator.base_url))
    workspace = Workspace.from_config(config, vault=Vault(generate_key()))
    events: list[str] = []
    runner = EmbeddedRunner(workspace, RunnerOptions(tick=0.2, on_event=events.append))
    try:
        runner.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any("incremental job:" in e for e in events):
            time.sleep(0.1)
    finally:
        runner.shutdown()
        workspace.close()
    assert any("sf: incremental job: succeeded" in e for e in events), events
    with sa.create_engine(config.database_url).connect() as conn:
        kinds = set(conn.execute(sa.text("SELECT kind FROM crmsync_runs")).scalars())
        next_push = conn.execute(
            sa.text("SELECT value FROM crmsync_settings WHERE key = 'jobs.daily_push.next_at'")
        ).scalar()
    assert kinds == {"incremental_standard"}
    assert "T04:30:00" in str(next_push)
