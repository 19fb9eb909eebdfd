"""`crmsync locks` and `crmsync logs` print one line per entry, whatever the stored error holds."""

from __future__ import annotations

from pathlib import Path

import testkit
from typer.testing import CliRunner

from crmsync.cli import app
from crmsync.engine.workspace import Workspace
from crmsync.secrets import Vault, generate_key
from crmsync.store import logs, push_state

# A CRM error quoting a 100 KB value, with line breaks and brackets rich would read as markup.
HUGE = "STRING_TOO_LONG: Description: data value too large: [/b]\n" + "v" * 104_800 + "\n(max length=32768)"


def _database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'platform.db'}"
    workspace = Workspace(url, vault=Vault(generate_key()))
    org, cid = workspace.organization_id, testkit.bare_connection(workspace, "sf")
    with workspace.engine.begin() as conn:
        for platform_id in (1, 2):
            for _ in range(push_state.LOCK_AFTER):
                push_state.record_failure(
                    conn, org, cid, "funds", platform_id, code="STRING_TOO_LONG", message=HUGE
                )
        entries = [
            logs.LogEntry("funds", "push", "push", "error", f"funds {i}: {HUGE}", platform_id=i)
            for i in (1, 2)
        ]
        logs.write(conn, org, entries, connection_id=cid, run_id=None)
    workspace.close()
    return url


def test_locks_and_logs_print_one_short_line_per_entry(runner: CliRunner, tmp_path: Path) -> None:
    url = _database(tmp_path)
    for command in (["locks"], ["logs", "--status", "error"]):
        result = runner.invoke(app, ["--database", url, *command])
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert len(lines) == 2, command
        for line in lines:
            assert "data value too large: [/b] vvv" in line
            assert line.endswith("characters in all]")
            assert len(line) < 2_200


def test_an_error_quoting_brackets_is_printed_as_one_line(runner: CliRunner, tmp_path: Path) -> None:
    # Any error that quotes outside text (here an unknown type name; a CRM's answer likewise).
    result = runner.invoke(app, ["--database", f"sqlite:///{tmp_path / 'p.db'}", "export", "[/b]\nfunds"])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("crmsync: error: unknown platform type '[/b]\\nfunds'")
