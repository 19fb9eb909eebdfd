"""Loops under a supervisor: one that dies is restarted, and every loop's heartbeat, state and
last error reach `crmsync status`, with a connection whose loop is not alive not Active."""

from __future__ import annotations

import threading
from typing import Any

from testkit import bare_connection, wait_for

from crmsync.engine import connections
from crmsync.engine.pulse import Pulse
from crmsync.engine.status import status
from crmsync.engine.workspace import Workspace
from crmsync.runner import supervisor as supervising
from crmsync.runner.supervisor import Supervisor


def _loops(workspace: Workspace) -> dict[str, dict[str, Any]]:
    (connection,) = status(workspace)["connections"]
    return {loop["kind"]: {**loop, "connection": connection} for loop in connection["loops"]}


def test_a_dying_loop_is_restarted_and_reported(workspace: Workspace, monkeypatch: Any) -> None:
    monkeypatch.setattr(supervising, "RESTART_FIRST", 0.2)
    cid = bare_connection(workspace, "c")
    stop = threading.Event()
    events: list[str] = []
    starts: list[int] = []
    dying = threading.Event()

    def steady(pulse: Pulse) -> None:
        while not stop.wait(0.05):
            pulse.beat()

    def fragile(pulse: Pulse) -> None:
        starts.append(1)
        pulse.beat()
        if len(starts) == 1:
            raise RuntimeError("a bug in the loop")
        dying.wait()  # the second life stops when told to die again
        raise ValueError("dead for good")

    runner = Supervisor(
        workspace.engine, workspace.organization_id, stop, on_event=events.append, report_every=0.1
    )
    runner.add(cid, "c", "pusher", steady)
    runner.add(cid, "c", "scheduler", fragile)
    runner.start()
    try:
        restarted = wait_for(lambda: (s := _loops(workspace).get("scheduler")) and s["restarts"] == 1 and s)
        assert restarted["alive"]
        assert restarted["last_error"] == "stopped on an error: RuntimeError: a bug in the loop"
        assert _loops(workspace)["pusher"]["alive"]
        assert any("the scheduler loop died (stopped on an error: RuntimeError" in e for e in events)

        # Between a death and its restart the loop is not alive, and neither is the connection.
        monkeypatch.setattr(supervising, "RESTART_MAX", 30.0)
        runner._loops[1].backoff = 30.0
        dying.set()
        waiting = wait_for(lambda: (s := _loops(workspace)["scheduler"])["state"] == "restarting" and s)
        assert not waiting["alive"]
        assert waiting["connection"]["status"] == "Error"
        assert waiting["connection"]["problem"] == (
            "the scheduler stopped on an error and is being restarted: "
            "stopped on an error: ValueError: dead for good"
        )
        # The console's card says the same.
        card = connections.card(workspace, "c")
        assert card is not None
        assert (card.status, card.problem) == ("Error", waiting["connection"]["problem"])
    finally:
        stop.set()
        runner.join(timeout=10)
    stopped = _loops(workspace)
    assert {loop["state"] for loop in stopped.values()} == {"stopped"}
    assert stopped["pusher"]["connection"]["status"] == "Active"
