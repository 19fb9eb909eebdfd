"""The crmsync command: sync, logs, export, init; bad input gives one line and a non-zero exit."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from crmsync.cli import EXIT_FAILED, app
from crmsync.config import load_config
from crmsync.emulators.salesforce.server import Emulator

SECRETS = {"SF_CLIENT_SECRET": "emulator-secret", "SF_PASSWORD": "emulator-password"}


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


def _run(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("crmsync: error: ")
    return lines[0]


def test_sync_all_json_then_logs_and_export(
    runner: CliRunner, emulator: Emulator, tmp_path: Path, write_config: Any
) -> None:
    config = write_config(tmp_path / "crmsync.toml", emulator.base_url)
    code, out, _ = _run(runner, "--config", str(config), "sync", "all", "--json")
    assert code == 0, out
    result = json.loads(out)
    assert result["status"] == "succeeded"
    assert result["counts"]["supporters"]["created"] > 0
    assert "emulator-password" not in out

    code, out, _ = _run(
        runner, "--config", str(config), "logs", "--json", "--limit", "5", "--type", "supporters"
    )
    assert code == 0
    entries = [json.loads(line) for line in out.splitlines()]
    assert len(entries) == 5
    assert {e["data_type"] for e in entries} == {"supporters"}
    assert entries[0]["id"] > entries[-1]["id"]

    code, out, _ = _run(runner, "--config", str(config), "export", "supporters", "--json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == result["counts"]["supporters"]["created"]
    assert all(r["crm_id"].startswith("003") for r in rows)

    code, out, _ = _run(runner, "--config", str(config), "sync", "all", "--object", "funds", "--json")
    assert code == 0
    assert list(json.loads(out)["counts"]) == ["funds"]


def test_wrong_password_is_one_line_and_exit_1(
    runner: CliRunner, emulator: Emulator, tmp_path: Path, write_config: Any
) -> None:
    config = write_config(tmp_path / "crmsync.toml", emulator.base_url, password="wrong")
    code, _, err = _run(runner, "--config", str(config), "sync", "all")
    assert code == EXIT_FAILED
    line = _one_line_error(err)
    assert "refused the password login" in line
    assert "check username, password" in line
    assert "wrong" not in line.split("login for")[1]


def test_unreachable_instance(runner: CliRunner, tmp_path: Path, write_config: Any) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = write_config(tmp_path / "crmsync.toml", f"http://127.0.0.1:{port}")
    code, _, err = _run(runner, "--config", str(config), "sync", "all")
    assert code == EXIT_FAILED
    assert "cannot reach Salesforce" in _one_line_error(err)


def test_malformed_response(runner: CliRunner, emulator: Emulator, tmp_path: Path, write_config: Any) -> None:
    config = write_config(tmp_path / "crmsync.toml", emulator.base_url)
    emulator.state.faults.add({"kind": "malformed", "path_prefix": "/services/data", "count": None})
    code, _, err = _run(runner, "--config", str(config), "sync", "all")
    assert code == EXIT_FAILED
    assert "not valid JSON" in _one_line_error(err)


def test_unknown_object_in_the_config(
    runner: CliRunner, emulator: Emulator, tmp_path: Path, write_config: Any
) -> None:
    config = write_config(tmp_path / "crmsync.toml", emulator.base_url, extra="donors = { pull = true }")
    code, _, err = _run(runner, "--config", str(config), "sync", "all")
    assert code == EXIT_FAILED
    line = _one_line_error(err)
    assert "unknown object 'donors'" in line
    assert "supporters" in line


def test_filter_values_are_escaped_and_unsayable_characters_refused(
    runner: CliRunner, emulator: Emulator, tmp_path: Path, write_config: Any
) -> None:
    quoted = """
[[connections.sf.filters.supporters]]
field = "LastName"
op = "!="
value = "O'Brien \\\\ \\"x\\""
"""
    config = write_config(tmp_path / "crmsync.toml", emulator.base_url, extra=quoted)
    code, out, _ = _run(runner, "--config", str(config), "sync", "all", "--json", "--object", "supporters")
    assert code in (0, 3), out
    broken = """
[[connections.sf.filters.supporters]]
field = "LastName"
op = "="
value = "bad\\u0000value"
"""
    config = write_config(tmp_path / "crmsync.toml", emulator.base_url, extra=broken)
    code, _, err = _run(runner, "--config", str(config), "sync", "all", "--object", "supporters")
    assert code == EXIT_FAILED
    line = _one_line_error(err)
    assert "filter on LastName" in line
    assert "U+0000" in line


def test_missing_environment_variable_and_missing_config(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write_config: Any
) -> None:
    code, _, err = _run(runner, "--config", str(tmp_path / "nope.toml"), "sync", "all")
    assert code == EXIT_FAILED
    assert "crmsync init" in _one_line_error(err)
    config = write_config(tmp_path / "crmsync.toml", "http://127.0.0.1:9")
    monkeypatch.delenv("SF_PASSWORD")
    code, _, err = _run(runner, "--config", str(config), "sync", "all")
    assert code == EXIT_FAILED
    assert "SF_PASSWORD, which is not set" in _one_line_error(err)


def test_init_writes_a_config_that_loads(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SF_CLIENT_ID", "SF_CLIENT_SECRET", "SF_USERNAME", "SF_PASSWORD"):
        monkeypatch.setenv(name, "x")
    code, _, _ = _run(runner, "init", "--path", str(tmp_path / "c.toml"))
    assert code == 0
    assert load_config(tmp_path / "c.toml").connections["salesforce"].profile == "npsp"
    code, _, err = _run(runner, "init", "--path", str(tmp_path / "c.toml"))
    assert code == EXIT_FAILED
    assert "already exists" in _one_line_error(err)


def test_export_unknown_type(runner: CliRunner) -> None:
    code, _, err = _run(runner, "export", "donors")
    assert code == EXIT_FAILED
    assert "unknown platform type 'donors'" in _one_line_error(err)
