"""Pushers as an operator runs them: two at once write once and never crash each other, the
one standing by takes over when the other is killed, a killed or dying loop shows in
`crmsync status`, and `crmsync run` outlives a dropped database connection, a long-held
SQLite write lock and a poison row (SQLite and PostgreSQL, commands against the emulator)."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections import Counter
from typing import Any

import pytest
import sqlalchemy as sa
from push_kit import Project
from testkit import wait_for

from crmsync.emulators.salesforce.server import Emulator

PUSH_ALL = "default = { pull = true, push = true }"


def _loops(project: Project) -> list[dict[str, Any]]:
    (connection,) = project.json("status")["connections"]
    return list(connection["loops"])


def _running(project: Project, emulator: Emulator) -> subprocess.Popen[str]:
    """`crmsync run` on a project that has pulled, once its three loops are alive."""
    project.write_config(emulator.base_url, toggles=PUSH_ALL)
    project.ok("sync", "all")
    run = project.spawn("run", "--tick", "0.5", "--no-serve")
    wait_for(lambda: len([loop for loop in _loops(project) if loop["alive"]]) == 3)
    return run


def _pushers(project: Project, state: str) -> list[dict[str, Any]]:
    return [loop for loop in _loops(project) if loop["kind"] == "pusher" and loop["state"] == state]


def _linked(project: Project, emails: list[str]) -> bool:
    rows = project.sql(
        "SELECT s.email FROM supporters s JOIN crmsync_links l "
        "ON l.platform_type = 'supporters' AND l.platform_id = s.id"
    )
    return set(emails) <= {r[0] for r in rows}


def _contacts(emulator: Emulator, emails: list[str]) -> Counter[str]:
    wanted = set(emails)
    return Counter(
        r["Email"] for r in emulator.org.scan("Contact") if r["Email"] in wanted and not r["IsDeleted"]
    )


def _writes(emulator: Emulator) -> int:
    return sum(
        n for resource, n in emulator.state.usage.by_resource.items() if resource.startswith("composite")
    )


def test_two_pushers_write_once_and_the_one_standing_by_takes_over(
    project: Project, push_emulator: Emulator
) -> None:
    project.write_config(push_emulator.base_url, toggles=PUSH_ALL)
    project.ok("sync", "all")
    first = project.spawn("push", "--watch")
    wait_for(lambda: _pushers(project, "running"), what="the first pusher running")
    second = project.spawn("push", "--watch")
    standing = wait_for(lambda: _pushers(project, "standby"), what="the second pusher standing by")
    assert "is pushing this connection's changes" in standing[0]["note"]
    # A one-off push says who pushes instead of pushing the same records again.
    once = project.cli("push")
    assert once.returncode == 1
    assert once.stderr.count("\n") == 1, once.stderr
    assert "is pushing this connection's changes; it pushes these too, as they come" in once.stderr

    writes = _writes(push_emulator)
    emails = project.sign_up("pair", 10)
    wait_for(lambda: _linked(project, emails), what="ten sign-ups pushed")
    assert _contacts(push_emulator, emails) == dict.fromkeys(emails, 1)
    # One write per sign-up at most (a batch may carry several): never two pushers' worth.
    assert _writes(push_emulator) - writes <= len(emails)

    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    later = project.sign_up("after-kill", 5)
    wait_for(lambda: _linked(project, later), what="the second pusher taking over")
    assert _contacts(push_emulator, later) == dict.fromkeys(later, 1)
    # The second reports itself running, and forgets the killed one.
    wait_for(lambda: [(p["state"], p["alive"]) for p in _loops(project)] == [("running", True)])
    second.send_signal(signal.SIGTERM)
    output, _ = second.communicate(timeout=60)
    assert second.returncode == 0, output
    assert "Traceback" not in output
    # What the first had written but not yet taken off the queue when killed, the second
    # pushes again: found in step, or updated by id; never created twice.
    assert "push: " in output


def test_a_killed_run_shows_in_status_and_a_new_one_clears_it(
    project: Project, push_emulator: Emulator
) -> None:
    project.write_config(push_emulator.base_url, toggles=PUSH_ALL)
    project.ok("sync", "all")
    run = project.spawn("run", "--tick", "0.5", "--no-serve")
    wait_for(
        lambda: {loop["kind"] for loop in _loops(project) if loop["alive"]} == {"scheduler", "pusher", "cdc"}
    )
    assert project.json("status")["connections"][0]["status"] == "Active"

    run.send_signal(signal.SIGKILL)
    run.wait(timeout=30)
    (connection,) = wait_for(lambda: project.json("status")["connections"])
    assert connection["status"] == "Error"
    assert connection["problem"].startswith("the ")
    assert "is not running: no heartbeat from process " in connection["problem"]
    text = project.cli("status").stdout
    assert "Error" in text
    assert "start `crmsync run` (or `push --watch`) again" in " ".join(text.split())

    project.spawn("run", "--tick", "0.5", "--no-serve")
    wait_for(lambda: project.json("status")["connections"][0]["status"] == "Active", what="Active again")
    assert all(loop["alive"] for loop in _loops(project))


def test_run_pushes_past_a_poison_row(project: Project, push_emulator: Emulator) -> None:
    project.write_config(push_emulator.base_url, toggles=PUSH_ALL)
    project.ok("sync", "all")
    project.spawn("run", "--tick", "0.5", "--no-serve")
    wait_for(lambda: _pushers(project, "running"))
    gift = int(project.sql("SELECT min(id) FROM transactions")[0][0])
    value = "'03/02/2024'" if project.backend == "sqlite" else "'infinity'"
    project.sql(f"UPDATE transactions SET close_date = {value} WHERE id = {gift}")
    emails = project.sign_up("beside-poison", 5)

    wait_for(lambda: _linked(project, emails), what="five sign-ups pushed beside a poison row")
    errors = project.json_lines("logs", "--status", "error", "--type", "transactions")
    assert errors[0]["message"].startswith(f"transactions {gift}: UNREADABLE_VALUE: close_date holds ")
    assert all(loop["alive"] for loop in _loops(project))


@pytest.mark.postgres
def test_run_outlives_dropped_database_connections(project: Project, push_emulator: Emulator) -> None:
    if project.backend != "postgres":
        pytest.skip("connections are dropped on the PostgreSQL server")
    run = _running(project, push_emulator)
    database = sa.make_url(project.url).database
    stop = threading.Event()

    def drop_connections() -> None:
        # Every busy connection of crmsync, the moment it works (and every idle one now and then).
        admin = sa.create_engine(
            sa.make_url(project.url).set(database="postgres"), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            while not stop.wait(0.01):
                conn.exec_driver_sql(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %(db)s "
                    "AND pid <> pg_backend_pid() AND application_name <> 'application'",
                    {"db": database},
                )
        admin.dispose()

    dropper = threading.Thread(target=drop_connections)
    dropper.start()
    application = sa.create_engine(f"{project.url}?application_name=application")
    emails = [f"storm{n}@example.org" for n in range(10)]
    try:
        for email in emails:
            with application.begin() as conn:
                conn.execute(
                    sa.text(
                        "INSERT INTO supporters (organization_id, first_name, last_name, email, created_at, "
                        "updated_at) VALUES (1, 'Storm', 'Supporter', :email, now(), now())"
                    ),
                    {"email": email},
                )
            time.sleep(0.3)
    finally:
        stop.set()
        dropper.join()
        application.dispose()

    wait_for(lambda: _linked(project, emails), timeout=120, what="every change pushed after the drops")
    assert _contacts(push_emulator, emails) == dict.fromkeys(emails, 1)
    wait_for(lambda: all(loop["alive"] for loop in _loops(project)) and len(_loops(project)) == 3)
    run.send_signal(signal.SIGTERM)
    output, _ = run.communicate(timeout=60)
    assert run.returncode == 0, output
    assert "stopped; nothing is lost" in output


@pytest.mark.slow
def test_run_outlives_a_sqlite_write_lock_held_past_its_busy_timeout(
    project: Project, push_emulator: Emulator
) -> None:
    if project.backend != "sqlite":
        pytest.skip("SQLite's single writer")
    run = _running(project, push_emulator)
    emails = project.sign_up("before-lock", 1)
    wait_for(lambda: _linked(project, emails))

    # An application transaction holds the write lock longer than crmsync waits for it (30 s).
    held = sa.create_engine(project.url, connect_args={"isolation_level": None, "timeout": 60})
    with held.connect() as conn:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        late = f"held{time.monotonic_ns()}@example.org"
        conn.exec_driver_sql(
            "INSERT INTO supporters (organization_id, first_name, last_name, email, created_at, updated_at) "
            f"VALUES (1, 'Held', 'Lock', '{late}', '{project.now()}', '{project.now()}')"
        )
        time.sleep(36)
        conn.exec_driver_sql("COMMIT")
    held.dispose()

    wait_for(lambda: _linked(project, [late]), what="the change pushed once the lock is gone")
    # The pusher says what it waited out, at its supervisor's next report.
    (pusher,) = wait_for(lambda: [p for p in _pushers(project, "running") if p["last_error"]])
    assert pusher["alive"]
    assert "database is locked" in pusher["last_error"]
    run.send_signal(signal.SIGTERM)
    output, _ = run.communicate(timeout=60)
    assert run.returncode == 0, output
