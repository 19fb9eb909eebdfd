"""A Sync All killed with SIGKILL at random moments, restarted until it finishes, ends in
exactly the state of an uninterrupted run: nothing lost, nothing duplicated."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from engine_testkit import (
    connect,
    connection_data,
    expected_ids,
    linked_ids,
    platform_state,
    row_counts,
    sync,
)

from crmsync.emulators.salesforce.seed import seed_npsp
from crmsync.emulators.salesforce.server import Emulator
from crmsync.engine.workspace import Workspace
from crmsync.secrets import Vault, generate_key
from crmsync.store import runs

CHILD = textwrap.dedent(
    """
    import json, os, sys
    from crmsync.config import SalesforceConfig
    from crmsync.connectors.retry import RetryPolicy
    from crmsync.engine.commands import run_sync_all
    from crmsync.engine.workspace import Workspace
    from crmsync.secrets import Vault

    schema = os.environ["DB_SCHEMA"] or None
    ws = Workspace(os.environ["DB_URL"], vault=Vault(os.environ["KEY"]), schema=schema)
    ws.register("sf", SalesforceConfig.model_validate(json.loads(os.environ["CONNECTION"])))
    result = run_sync_all(ws, "sf", retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05))
    sys.exit(0 if result.status == "succeeded" else 3)
    """
)


@pytest.mark.slow
def test_sync_all_killed_at_random_points_resumes_to_the_same_state(
    database: object, workspace: Workspace, emulator: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> None:
    seed_npsp(emulator.org, 3000, seed=11)
    # Slow pages make the kills land inside the run (mid-page, mid-transaction, between objects).
    emulator.state.faults.add(
        {"kind": "latency", "latency_ms": 80, "path_prefix": "/services/data", "count": None}
    )
    overrides = {"page_size": 200}

    # The reference: one uninterrupted run into its own SQLite database.
    reference = Workspace(
        f"sqlite:///{tmp_path_factory.mktemp('ref') / 'ref.db'}", vault=Vault(generate_key())
    )
    connect(reference, emulator, **overrides)
    assert sync(reference).status == "succeeded"
    expected_state = platform_state(reference)
    reference.close()

    env = {
        **os.environ,
        "DB_URL": workspace.engine.url.render_as_string(hide_password=False),
        "DB_SCHEMA": getattr(database, "schema", None) or "",
        "KEY": generate_key(),
        "CONNECTION": json.dumps(connection_data(emulator, **overrides)),
    }
    rng = random.Random(20261123)
    kills = 0
    # Six runs are killed at random moments; the seventh is left to finish.
    for attempt in range(7):
        started = run_count(workspace)
        child = subprocess.Popen([sys.executable, "-c", CHILD], env=env)
        if attempt < 6 and run_started(workspace, child, after=started):
            # Counted from the run's start, not the process's: starting Python and importing
            # crmsync takes from a fraction of a second to several, by machine.
            try:
                code = child.wait(timeout=rng.uniform(0.1, 2.5))
            except subprocess.TimeoutExpired:
                child.send_signal(signal.SIGKILL)
                child.wait()
                kills += 1
                continue
        else:
            code = child.wait(timeout=300)
        assert code == 0, f"the resumed run ended with exit code {code}"
        break
    assert kills >= 3, "the kills did not land inside the run; slow the pages down"

    assert platform_state(workspace) == expected_state
    expected = expected_ids(emulator)
    assert row_counts(workspace) == {k: len(v) for k, v in expected.items()}
    assert linked_ids(workspace) == {k: v for k, v in expected.items() if v}
    with workspace.engine.connect() as conn:
        statuses = [r.status for r in runs.recent(conn, workspace.organization_id, limit=100)]
    assert statuses[0] == "succeeded"
    assert "running" not in statuses
    # Every kill came after its run was recorded; one landing after its run finished
    # (on a fast machine) leaves no interrupted run.
    assert 1 <= statuses.count("interrupted") <= kills


def run_count(workspace: Workspace) -> int:
    """Runs recorded so far."""
    with workspace.engine.connect() as conn:
        return len(runs.recent(conn, workspace.organization_id, limit=1000))


def run_started(workspace: Workspace, child: subprocess.Popen[bytes], *, after: int) -> bool:
    """Wait until ``child`` has recorded its run; False if it ended first."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if run_count(workspace) > after:
            return True
        if child.poll() is not None:
            return False
        time.sleep(0.02)
    raise AssertionError("the child did not start its run within 120 s")
