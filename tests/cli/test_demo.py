"""`crmsync demo` works on a fresh machine: emulator, Sync All twice, a push."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "crmsync", "demo", "--records", "600", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["first"]["status"] == "succeeded"
    assert sum(c["created"] for c in result["first"]["counts"].values()) > 400
    second = result["second"]["counts"]
    assert second["supporters"]["merged"] == 1
    assert second["campaign_members"]["deleted"] == 1
    assert sum(c["created"] for c in second.values()) == 1
    assert "3 records" in result["push"]
    assert (tmp_path / "crmsync-demo.db").exists()
