"""`crmsync sync all` against a Salesforce that stays down: exit 1, one line saying it gave up,
for how long, what Salesforce said, and that the next run resumes; then the next run does."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from crmsync.cli import EXIT_FAILED, app
from crmsync.emulators.salesforce.server import Emulator

# A second and a fifth of patience: two or three tries, slept for real.
PATIENCE = "patience_minutes = 0.02\n"


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SF_CLIENT_SECRET", "emulator-secret")
    monkeypatch.setenv("SF_PASSWORD", "emulator-password")


def test_sync_all_gives_up_in_one_line_and_the_next_run_succeeds(
    runner: CliRunner, emulator: Emulator, tmp_path: Path, write_config: Any
) -> None:
    config = write_config(tmp_path / "crmsync.toml", emulator.base_url)
    text = config.read_text(encoding="utf-8").replace("[connections.sf]\n", "[connections.sf]\n" + PATIENCE)
    config.write_text(text, encoding="utf-8")
    emulator.state.faults.add(
        {
            "kind": "status",
            "status": 503,
            "error_code": "SERVER_UNAVAILABLE",
            "message": "down for maintenance",
            "path_prefix": "/services/data/v61.0/query",
            "count": None,
        }
    )

    failed = runner.invoke(app, ["--config", str(config), "sync", "all"])

    assert failed.exit_code == EXIT_FAILED
    lines = [line for line in failed.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, failed.stderr
    assert lines[0].startswith("crmsync: error: Salesforce unavailable (503): crmsync gave up after ")
    assert re.search(r"after [23] attempts over [0-9] seconds?; Salesforce said last: query ", lines[0]), (
        lines[0]
    )
    assert lines[0].endswith(
        ": SERVER_UNAVAILABLE: down for maintenance; the next run resumes from the last checkpoint"
    )

    emulator.state.faults.clear()
    again = runner.invoke(app, ["--config", str(config), "sync", "all", "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["status"] == "succeeded"
