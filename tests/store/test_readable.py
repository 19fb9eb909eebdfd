"""Reading rows when some hold values their column's type cannot hold: the others are read,
the bad ones are named with their column and value."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from crmsync.engine.workspace import Workspace
from crmsync.store import records
from crmsync.store.platform import platform_table
from crmsync.store.readable import Unreadable, read_rows


def _gifts(workspace: Workspace, n: int) -> list[int]:
    with workspace.engine.begin() as conn:
        return records.insert_many(
            conn,
            workspace.organization_id,
            "transactions",
            [{"name": f"gift {i}", "amount": i, "close_date": date(2024, 1, 1 + i % 28)} for i in range(n)],
        )


def test_bad_rows_are_named_and_the_others_read(workspace: Workspace) -> None:
    ids = _gifts(workspace, 40)
    sqlite = workspace.engine.dialect.name == "sqlite"
    bad = {ids[3]: ("close_date", "03/02/2024" if sqlite else "infinity"), ids[29]: ("amount", "12,50")}
    if not sqlite:
        bad[ids[29]] = ("close_date", "10000-01-01")  # PostgreSQL checks numbers on write
    with workspace.engine.begin() as conn:
        for platform_id, (column, value) in bad.items():
            update = sa.text(f"UPDATE transactions SET {column} = :v WHERE id = :id")
            conn.execute(update, {"v": value, "id": platform_id})
        with pytest.raises((ValueError, TypeError, sa.exc.DataError)):
            records.get_many(conn, workspace.organization_id, "transactions", ids)

        unreadable: dict[int, Unreadable] = {}
        rows = records.get_many(conn, workspace.organization_id, "transactions", ids, unreadable=unreadable)

    assert sorted(rows) == sorted(set(ids) - set(bad))
    assert rows[ids[0]]["amount"] == Decimal("0")
    assert rows[ids[0]]["close_date"] == date(2024, 1, 1)
    assert {k: (u.column, u.value) for k, u in unreadable.items()} == bad
    problem = unreadable[ids[3]].problem
    said = f"close_date holds '{bad[ids[3]][1]}', which cannot be read as a date (YYYY-MM-DD"
    assert problem.startswith(said)
    assert problem.endswith("; correct the value in the platform")


def test_a_clean_read_is_the_plain_read(workspace: Workspace) -> None:
    ids = _gifts(workspace, 10)
    table = platform_table("transactions")
    with workspace.engine.connect() as conn:
        found, unreadable = read_rows(conn, table, ids, table.c.organization_id == workspace.organization_id)
        plain = records.get_many(conn, workspace.organization_id, "transactions", ids)
        none, _ = read_rows(conn, table, ids, table.c.organization_id == workspace.organization_id + 1)
    assert found == plain
    assert unreadable == {}
    assert none == {}
