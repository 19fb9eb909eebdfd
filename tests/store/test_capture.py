"""Change capture: a transaction that captures its own inserts records what the triggers would."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from crmsync.engine.workspace import Workspace
from crmsync.store import bulk, capture, records
from crmsync.store.db import alembic_config, reading
from crmsync.store.platform import platform_table
from crmsync.store.tables import changes


def _changes(ws: Workspace) -> list[tuple[str, int, str, str]]:
    with reading(ws.engine) as conn:
        rows = conn.execute(
            sa.select(
                changes.c.platform_type, changes.c.platform_id, changes.c.operation, changes.c.origin
            ).order_by(changes.c.id)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def _insert(conn: sa.Connection, ws: Workspace, names: list[str]) -> list[int]:
    """Households inserted as a pull's plan inserts them: ids taken first, captured by itself."""
    org = ws.organization_id
    ids = records.new_ids(conn, "households", len(names))
    target = bulk.Target.of(conn)
    statements = records.insert_statements(target, org, "households", [{"name": n} for n in names], ids)
    bulk.run(conn, capture.captured_inserts(conn.dialect, "households", ids, statements))
    return ids


def test_own_capture_records_each_insert_once_with_the_transactions_origin(workspace: Workspace) -> None:
    org = workspace.organization_id
    with workspace.engine.begin() as conn, capture.origin(conn, "sync"):
        ids = _insert(conn, workspace, ["A", "B", "C"])
        # After them, the triggers capture again: an insert and an update in the same transaction.
        (later,) = records.insert_many(conn, org, "households", [{"name": "D"}])
        records.update_many(conn, org, "households", [(ids[0], {"name": "A2"})])
    assert _changes(workspace) == [
        *(("households", i, "insert", "sync") for i in ids),
        ("households", later, "insert", "sync"),
        ("households", ids[0], "update", "sync"),
    ]


def test_without_an_origin_the_triggers_capture_and_nothing_twice(workspace: Workspace) -> None:
    with workspace.engine.begin() as conn:
        ids = _insert(conn, workspace, ["A", "B"])
    assert _changes(workspace) == [("households", i, "insert", "user") for i in ids]


def test_ids_with_a_gap_are_left_to_the_triggers(workspace: Workspace) -> None:
    org = workspace.organization_id
    with workspace.engine.begin() as conn, capture.origin(conn, "sync"):
        first = records.new_ids(conn, "households", 3)
        ids = [first[0], first[2]]
        statements = records.insert_statements(
            bulk.Target.of(conn), org, "households", [{"name": "A"}, {"name": "B"}], ids
        )
        made = capture.captured_inserts(conn.dialect, "households", ids, statements)
        assert made == statements
        bulk.run(conn, made)
    assert _changes(workspace) == [("households", i, "insert", "sync") for i in ids]


def test_migrations_down_to_0008_and_up_again_keep_capture_working(workspace: Workspace) -> None:
    config = alembic_config(workspace.engine)
    command.downgrade(config, "0008")
    with workspace.engine.begin() as conn:
        ids = records.insert_many(conn, workspace.organization_id, "households", [{"name": "A"}])
    command.upgrade(config, "head")
    with workspace.engine.begin() as conn, capture.origin(conn, "sync"):
        ids += _insert(conn, workspace, ["B", "C"])
    assert _changes(workspace) == [
        ("households", ids[0], "insert", "user"),
        *(("households", i, "insert", "sync") for i in ids[1:]),
    ]


def test_statements_of_many_rows_capture_each_row_once(workspace: Workspace) -> None:
    org = workspace.organization_id
    table = platform_table("households")
    with workspace.engine.begin() as conn:
        ids = records.insert_many(conn, org, "households", [{"name": n} for n in "ABCD"])
    with workspace.engine.begin() as conn, capture.origin(conn, "system"):
        # One UPDATE and one DELETE of several rows each; one UPDATE that matches nothing.
        conn.execute(table.update().where(table.c.id.in_(ids[:3])).values(phone="1"))
        conn.execute(table.delete().where(table.c.id.in_(ids[2:])))
        conn.execute(table.update().where(table.c.id == -1).values(phone="2"))
    assert sorted(_changes(workspace)) == sorted(
        [
            *(("households", i, "insert", "user") for i in ids),
            *(("households", i, "update", "system") for i in ids[:3]),
            *(("households", i, "delete", "system") for i in ids[2:]),
        ]
    )
