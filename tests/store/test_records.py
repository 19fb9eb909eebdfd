"""Platform records: bulk writes, matching on normalised keys, re-pointing children, leases."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from testkit import bare_connection

from crmsync.engine.workspace import Workspace
from crmsync.errors import RunBusyError
from crmsync.model.load import load_profile
from crmsync.secrets import Vault, generate_key
from crmsync.store import leases, links, logs, match_keys, records, retries, tenancy
from crmsync.store.links import NewLink
from crmsync.store.platform import platform_table
from crmsync.store.types import utcnow


def test_insert_update_and_get(workspace: Workspace) -> None:
    org = workspace.organization_id
    with workspace.engine.begin() as conn:
        ids = records.insert_many(conn, org, "households", [{"name": "A"}, {"name": "B"}, {"name": "C"}])
        assert len(set(ids)) == 3
        records.update_many(conn, org, "households", [(ids[0], {"name": "A2"}), (ids[1], {"phone": "1"})])
        rows = records.get_many(conn, org, "households", ids)
    assert [rows[i]["name"] for i in ids] == ["A2", "B", "C"]
    assert rows[ids[1]]["phone"] == "1"
    assert rows[ids[0]]["updated_at"].tzinfo is not None


def test_matching_is_case_and_space_insensitive_and_skips_linked(workspace: Workspace) -> None:
    org = workspace.organization_id
    cid = bare_connection(workspace, "c")
    with workspace.engine.begin() as conn:
        ids = records.insert_many(
            conn,
            org,
            "supporters",
            [
                {"last_name": "A", "email": " Ada@Example.org "},
                {"last_name": "B", "email": "bob@example.org"},
                {"last_name": "C", "email": "ada@example.org"},
            ],
        )
        links.write(conn, org, cid, [NewLink("supporters", ids[1], "Contact", "003B", "t", "h")])
        # Keys are asked of what crmsync stores: brought up to date in the writing transaction.
        match_keys.refresh(conn, org, "supporters", ["email"], "casefold")
        found = records.find_unlinked_matches(
            conn, org, cid, "supporters", ["email"], "casefold", [("ada@example.org",), ("bob@example.org",)]
        )
    # The oldest unlinked row wins; the linked one is never matched again.
    assert found == {("ada@example.org",): ids[0]}


def test_repoint_moves_children_only_within_the_organization(workspace: Workspace) -> None:
    org = workspace.organization_id
    with workspace.engine.begin() as conn:
        other = tenancy.ensure_organization(conn, "other")
        loser, master = records.insert_many(conn, org, "supporters", [{"last_name": "L"}, {"last_name": "M"}])
        (foreign,) = records.insert_many(conn, other, "supporters", [{"last_name": "F"}])
        gifts = records.insert_many(
            conn,
            org,
            "transactions",
            [{"supporter_id": loser}, {"supporter_id": loser}, {"supporter_id": master}],
        )
        (foreign_gift,) = records.insert_many(conn, other, "transactions", [{"supporter_id": foreign}])
        assert records.repoint(conn, org, "transactions", "supporter_id", loser, master) == 2
        rows = records.get_many(conn, org, "transactions", gifts)
        assert {r["supporter_id"] for r in rows.values()} == {master}
        assert (
            records.get_many(conn, other, "transactions", [foreign_gift])[foreign_gift]["supporter_id"]
            == foreign
        )
        assert records.delete(conn, org, "supporters", loser)
        assert not records.delete(conn, other, "supporters", loser)


def test_links_insert_then_refresh(workspace: Workspace) -> None:
    org = workspace.organization_id
    cid = bare_connection(workspace, "c")
    other = bare_connection(workspace, "d")
    with workspace.engine.begin() as conn:
        assert not links.any_linked(conn, org, cid, "funds")
        links.write(conn, org, cid, [NewLink("funds", 1, "GAU", "a0A1", "t1", "h1")])
        assert links.any_linked(conn, org, cid, "funds")
        assert not links.any_linked(conn, org, cid, "campaigns")
        assert not links.any_linked(conn, org, other, "funds")
        links.write(conn, org, cid, [NewLink("funds", 1, "GAU", "a0A1", "t2", "h2")])
        found = links.by_crm_ids(conn, org, cid, "funds", ["a0A1", "a0A2"])
        assert list(found) == ["a0A1"]
        assert (found["a0A1"].crm_modstamp, found["a0A1"].values_hash) == ("t2", "h2")
        assert links.count(conn, org, cid, "funds") == 1
        links.remove(conn, org, cid, "funds", "a0A1")
        assert links.count(conn, org, cid, "funds") == 0
        assert not links.any_linked(conn, org, cid, "funds")


def test_retries_count_attempts_back_off_and_lock(workspace: Workspace) -> None:
    org = workspace.organization_id
    cid = bare_connection(workspace, "c")

    def failure(crm_id: str, reason: str) -> retries.Failure:
        entry = logs.LogEntry("funds", "pull", "pull", "error", reason, crm_id=crm_id)
        return retries.Failure(crm_id, "INVALID_VALUE", entry)

    def due() -> list[str]:
        with workspace.engine.begin() as conn:
            return retries.due(conn, org, cid, "funds", [], before=utcnow() + timedelta(seconds=1))

    with workspace.engine.begin() as conn:
        retries.note_failures(conn, org, cid, "funds", [failure("x", "r1"), failure("y", "r1")], run_id=None)
    assert due() == ["x", "y"]
    with workspace.engine.begin() as conn:
        retries.note_failures(conn, org, cid, "funds", [failure("x", "r2")], run_id=None)
    # x failed twice: one pull goes by before it is fetched again.
    assert due() == ["y"]
    assert due() == ["x", "y"]
    with workspace.engine.begin() as conn:
        retries.note_failures(conn, org, cid, "funds", [failure("x", "r2")], run_id=None)
        (lock,) = retries.locks(conn, org, cid)
        assert (lock.key, lock.attempts, lock.reason) == ("pull:funds:x", 3, "r2")
        retries.clear_failures(conn, org, cid, "funds", ["y"])
    # Locked: never due until unlocked.
    assert due() == []
    with workspace.engine.begin() as conn:
        retries.unlock(conn, org, cid, "funds", "x")
        assert retries.known(conn, org, cid, "funds") == ["x"]
    assert due() == ["x"]


def test_leases_exclude_a_second_owner_until_released_or_expired(workspace: Workspace) -> None:
    cid = bare_connection(workspace, "c")
    with workspace.engine.begin() as conn:
        leases.acquire(conn, cid, "elsewhere:1:a")
    with pytest.raises(RunBusyError, match="another crmsync process"), workspace.engine.begin() as conn:
        leases.acquire(conn, cid, "elsewhere:2:b")
    with workspace.engine.begin() as conn:
        leases.release(conn, cid, "elsewhere:1:a")
        leases.acquire(conn, cid, "elsewhere:2:b", ttl=timedelta(seconds=-1))
        # An expired lease is taken over.
        leases.acquire(conn, cid, "elsewhere:3:c")
    with pytest.raises(RunBusyError, match="lost its lease"), workspace.engine.begin() as conn:
        leases.renew(conn, cid, "elsewhere:2:b")


def test_a_dead_local_process_does_not_block(workspace: Workspace) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    cid = bare_connection(workspace, "c")
    with workspace.engine.begin() as conn:
        leases.acquire(conn, cid, f"{socket.gethostname()}:{child.pid}:dead")
        leases.acquire(conn, cid, "me:1:x")


def test_ids_of_deleted_rows_never_come_back(workspace: Workspace) -> None:
    org = workspace.organization_id
    with workspace.engine.begin() as conn:
        first = records.insert_many(conn, org, "supporters", [{"last_name": "A"}, {"last_name": "B"}])
        for record_id in first:
            records.delete(conn, org, "supporters", record_id)
    with workspace.engine.begin() as conn:
        again = records.insert_many(conn, org, "supporters", [{"last_name": "C"}])
    # Links, captured changes and the CRM's platform-id field all name rows by id.
    assert again[0] > max(first)


@pytest.mark.parametrize("name", ["npsp", "bloomerang", "customer-success", "contact-center"])
def test_every_matching_rule_of_the_built_in_profiles_is_answered_through_indexes(
    name: str, tmp_path: Path
) -> None:
    # A pull asks this for every page of a type with matching rules: a scan of the platform
    # table or of the links would make a first pull's cost grow with the square of its size.
    ws = Workspace(f"sqlite:///{tmp_path / 'match.db'}", vault=Vault(generate_key()))
    try:
        cid = bare_connection(ws, "c")
        asked: list[tuple[str, Any]] = []
        sa.event.listen(ws.engine, "before_cursor_execute", lambda *args: asked.append((args[2], args[3])))
        for mapping in load_profile(name).objects:
            table = platform_table(mapping.type)
            for rule in mapping.match:
                keys = [
                    tuple(n if isinstance(table.c[c].type, sa.Integer) else f"k{n}" for c in rule.columns)
                    for n in (1, 2)
                ]
                keyed = match_keys.keyed(mapping.type, rule.columns)
                with ws.engine.begin() as conn:
                    if keyed:
                        match_keys.refresh(
                            conn, ws.organization_id, mapping.type, rule.columns, rule.normalize
                        )
                    records.find_unlinked_matches(
                        conn, ws.organization_id, cid, mapping.type, rule.columns, rule.normalize, keys
                    )
                    sql, params = asked[-1]
                    steps = [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)]
                assert not any(step.startswith("SCAN") for step in steps), (mapping.type, rule.columns, steps)
                # The keys are looked up, not the organization's rows walked: rules that start
                # with text in crmsync's stored keys, then each row by id; the others through
                # the index on the rule's first column.
                (searched,) = [step for step in steps if step.startswith(f"SEARCH {table.name} ")]
                if keyed:
                    assert any(
                        step.startswith("SEARCH crmsync_match_keys USING") and "match_key=?" in step
                        for step in steps
                    ), steps
                    assert "PRIMARY KEY (rowid=?)" in searched, (mapping.type, rule.columns, searched)
                else:
                    assert "(organization_id=? AND " in searched, (mapping.type, rule.columns, searched)
                assert any(step.startswith("SEARCH crmsync_links USING") for step in steps), steps
    finally:
        ws.close()
