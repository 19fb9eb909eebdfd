"""``crmsync archived`` and ``crmsync restore``: records deleted in the CRM, kept and brought back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from crmsync.cli import EXIT_FAILED, app
from crmsync.emulators.salesforce.server import Emulator, running_emulator

SECRETS = {"SF_CLIENT_SECRET": "emulator-secret", "SF_PASSWORD": "emulator-password"}


@pytest.fixture
def own_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """An org of this test's own: it deletes and restores records."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    with running_emulator(seed="npsp:200") as emulator:
        yield emulator


def _run(runner: CliRunner, config: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--config", str(config), *args])
    return result.exit_code, result.stdout, result.stderr


def test_a_contact_deleted_in_salesforce_is_listed_restored_and_linked_again(
    runner: CliRunner, own_emulator: Emulator, tmp_path: Path, write_config: Any
) -> None:
    config = write_config(tmp_path / "crmsync.toml", own_emulator.base_url)
    assert _run(runner, config, "sync", "all", "--json")[0] == 0
    code, out, _ = _run(runner, config, "export", "supporters", "--json")
    rows = {r["crm_id"]: r for r in map(json.loads, out.splitlines())}
    contact = sorted(rows)[0]
    platform_id = rows[contact]["id"]
    own_emulator.org.delete("Contact", contact)
    assert _run(runner, config, "sync", "all", "--json")[0] == 0

    code, out, _ = _run(runner, config, "archived")
    assert code == 0
    assert f"supporters:{platform_id}" in out
    assert f"Contact {contact} deleted in the CRM" in out
    code, out, _ = _run(runner, config, "archived", "supporters", "--json")
    (entry,) = [json.loads(line) for line in out.splitlines()]
    assert (entry["key"], entry["crm_id"], entry["reason"]) == (
        f"supporters:{platform_id}",
        contact,
        "deleted",
    )
    code, out, _ = _run(runner, config, "export", "supporters", "--json")
    assert platform_id not in {json.loads(line)["id"] for line in out.splitlines()}

    # Undeleted from Salesforce's recycle bin, then restored by hand: the same row, linked again.
    own_emulator.org.undelete("Contact", contact)
    code, out, _ = _run(runner, config, "restore", "supporters", str(platform_id), "--json")
    assert code == 0, out
    restored = json.loads(out)["restored"]
    assert restored[0] == {
        "key": f"supporters:{platform_id}",
        "linked_to": contact,
        "message": f"restored supporters {platform_id}: Contact {contact} is in the CRM; linked again",
    }
    code, out, _ = _run(runner, config, "archived")
    assert out.strip() == "no archived records"
    code, out, _ = _run(runner, config, "export", "supporters", "--json")
    assert {json.loads(line)["id"]: json.loads(line)["crm_id"] for line in out.splitlines()}[
        platform_id
    ] == contact


def test_restoring_what_is_not_archived_says_so_in_one_line(
    runner: CliRunner, own_emulator: Emulator, tmp_path: Path, write_config: Any
) -> None:
    config = write_config(tmp_path / "crmsync.toml", own_emulator.base_url)
    code, _, err = _run(runner, config, "restore", "supporters", "42")
    assert code == EXIT_FAILED
    (line,) = [x for x in err.splitlines() if x.strip()]
    assert "supporters 42 is not archived" in line
    code, _, err = _run(runner, config, "restore", "donors", "1")
    assert code == EXIT_FAILED
    assert "unknown platform type 'donors'" in err


def test_an_unknown_on_crm_delete_is_one_line_naming_the_setting(
    runner: CliRunner, own_emulator: Emulator, tmp_path: Path, write_config: Any
) -> None:
    extra = '[connections.sf.sections.supporters]\non_crm_delete = "shred"\n'
    config = write_config(tmp_path / "crmsync.toml", own_emulator.base_url, extra=extra)
    code, _, err = _run(runner, config, "sync", "all")
    assert code == EXIT_FAILED
    (line,) = [x for x in err.splitlines() if x.strip()]
    assert "sections.supporters.on_crm_delete" in line
    assert "'archive', 'delete' or 'unlink'" in line
