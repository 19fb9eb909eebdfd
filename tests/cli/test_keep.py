"""orgsync, status and run from the command line; run stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from crmsync.cli import app
from crmsync.emulators.salesforce.server import Emulator
from crmsync.secrets import generate_key

SECRETS = {"SF_CLIENT_SECRET": "emulator-secret", "SF_PASSWORD": "emulator-password"}


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


def _invoke(runner: CliRunner, config: Path, *args: str) -> Any:
    return runner.invoke(app, ["--config", str(config), *args])


def test_orgsync_commands_and_status(
    runner: CliRunner, emulator: Emulator, tmp_path: Path, write_config: Any
) -> None:
    config = write_config(tmp_path / "crmsync.toml", emulator.base_url)
    assert _invoke(runner, config, "orgsync", "add", "Contact").exit_code == 0
    result = _invoke(
        runner, config, "orgsync", "set", "Contact", "--method", "poll", "--interval", "10", "--enable"
    )
    assert result.exit_code == 0, result.stderr
    assert "every 10 min" in result.stdout
    assert "Active" in result.stdout
    bad = _invoke(runner, config, "orgsync", "set", "Contact", "--interval", "7")
    assert bad.exit_code == 1
    assert "interval must be one of 5, 10, 15, 30" in bad.stderr
    probe = _invoke(runner, config, "orgsync", "test", "Contact")
    assert probe.exit_code == 0
    assert "Connection successful" in probe.stdout
    listed = [
        json.loads(line) for line in _invoke(runner, config, "orgsync", "list", "--json").stdout.splitlines()
    ]
    assert [(s["crm_object"], s["method"], s["status"]) for s in listed] == [("Contact", "poll", "Active")]
    picture = json.loads(_invoke(runner, config, "status", "--json").stdout)
    (connection,) = picture["connections"]
    assert connection["name"] == "sf"
    assert connection["org_syncs"][0]["status"] == "Active"
    assert "emulator-password" not in json.dumps(picture)
    assert _invoke(runner, config, "orgsync", "remove", "Contact").exit_code == 0


def test_run_pushes_changes_and_stops_cleanly_on_sigterm(
    emulator: Emulator, tmp_path: Path, write_config: Any
) -> None:
    config = write_config(
        tmp_path / "crmsync.toml", emulator.base_url, extra="funds = { pull = true, push = true }"
    )
    env = {**os.environ, **SECRETS, "CRMSYNC_SECRET_KEY_FILE": str(tmp_path / "key")}
    (tmp_path / "key").write_text(generate_key())
    child = subprocess.Popen(
        # --port 0: the admin console that `run` also serves takes any free port.
        [sys.executable, "-m", "crmsync", "--config", str(config), "run", "--tick", "0.5", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    try:
        database = sa.create_engine(f"sqlite:///{tmp_path / 'platform.db'}")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with database.begin() as conn:
                    conn.exec_driver_sql(
                        "INSERT INTO funds (organization_id, name, created_at, updated_at) "
                        "VALUES (1, 'Run fund', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                    )
                break
            except sa.exc.OperationalError:
                time.sleep(0.2)  # the runner has not created the schema yet
        while time.monotonic() < deadline:
            if any(r["Name"] == "Run fund" for r in emulator.org.scan("npsp__General_Accounting_Unit__c")):
                break
            time.sleep(0.1)
        else:
            pytest.fail("the runner did not push the new fund")
        child.send_signal(signal.SIGTERM)
        output, _ = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, output
    assert "nothing is lost" in output
    assert "admin console on http://127.0.0.1:" in output


def test_datasource_commands(
    runner: CliRunner, emulator: Emulator, tmp_path: Path, write_config: Any
) -> None:
    config = write_config(tmp_path / "crmsync.toml", emulator.base_url)
    text = config.read_text().replace("[connections.sf]\n", '[connections.sf]\nprofile = "contact-center"\n')
    config.write_text(text)
    assert _invoke(runner, config, "orgsync", "add", "Contact").exit_code == 0
    added = _invoke(
        runner, config, "datasource", "add", "ca", "--object", "Contact", "--filter", "MailingState = CA"
    )
    assert added.exit_code == 0, added.stderr
    assert "where MailingState = 'CA'" in added.stdout
    bad = _invoke(
        runner, config, "datasource", "add", "x", "--object", "Contact", "--filter", "MailingState ~ CA"
    )
    assert bad.exit_code == 1
    assert "is not FIELD OP VALUE" in bad.stderr
    database = sa.create_engine(f"sqlite:///{tmp_path / 'platform.db'}")
    with database.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO cc_campaigns (organization_id, name, created_at, updated_at) "
            "VALUES (1, 'Calls', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
        )
    linked = _invoke(
        runner,
        config,
        "datasource",
        "link",
        "ca",
        "--campaign",
        "1",
        "--phone",
        "Phone",
        "--custom",
        "title=Title",
    )
    assert linked.exit_code == 0, linked.stderr
    listed = [
        json.loads(line)
        for line in _invoke(runner, config, "datasource", "list", "--json").stdout.splitlines()
    ]
    assert listed[0]["links"][0]["custom_fields"] == {"title": "Title"}
    assert _invoke(runner, config, "datasource", "remove", "ca").exit_code == 0
