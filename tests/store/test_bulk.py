"""The bulk fast path: it stores what SQLAlchemy's Core insert stores, on both databases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError
from testkit import bare_connection

from crmsync.engine.workspace import Workspace
from crmsync.jsontext import Encoded
from crmsync.store import bulk, records
from crmsync.store import links as links_store
from crmsync.store import logs as logs_store
from crmsync.store.logs import LogEntry
from crmsync.store.platform import platform_table
from crmsync.store.tables import links, log_entries

NOW = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
ELSEWHERE = datetime(2024, 3, 1, 12, 0, 0, 654321, tzinfo=timezone(timedelta(hours=2)))


def _stored(conn: sa.Connection, table: sa.Table, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    """The rows as the database holds them, with each value's type there, bypassing SQLAlchemy."""
    if conn.dialect.name == "sqlite":
        picked = ", ".join(f"{c}, typeof({c})" for c in columns)
    else:
        picked = ", ".join(f"{c}::text, pg_typeof({c})::text" for c in columns)
    return [tuple(r) for r in conn.exec_driver_sql(f"SELECT {picked} FROM {table.name} ORDER BY id")]


def test_append_stores_what_a_core_insert_stores(workspace: Workspace) -> None:
    org = workspace.organization_id
    cid = bare_connection(workspace, "c")
    cases: list[tuple[sa.Table, list[str], list[tuple[Any, ...]], dict[str, Any]]] = [
        (
            platform_table("transactions"),
            ["name", "amount", "close_date", "stage", "description"],
            [
                ("a", Decimal("12.50"), date(2024, 1, 2), "x", None),
                ("b", None, None, None, "it's 100%"),
                # A year below 1000, and a datetime given for a date (its date is kept).
                ("c", 1, date(987, 6, 5), None, None),
                ("d", 2, datetime(2024, 3, 4, 5, 6, tzinfo=UTC), None, None),
            ],
            {"organization_id": org, "created_at": NOW, "updated_at": ELSEWHERE},
        ),
        (
            platform_table("campaigns"),
            ["name", "is_active", "expected_revenue"],
            [("c", True, Decimal("3.333")), ("d", False, 5), ("e", None, 2.5)],
            {"organization_id": org, "created_at": NOW, "updated_at": NOW},
        ),
        (
            platform_table("subscriptions"),
            ["list_name", "subscribed_at", "unsubscribed_at"],
            [("l", ELSEWHERE, None), ("m", NOW, ELSEWHERE)],
            {"organization_id": org, "created_at": NOW, "updated_at": NOW},
        ),
        (
            log_entries,
            ["data_type", "action", "direction", "status", "message", "details", "crm_id", "platform_id"],
            [
                ("t", "create", "pull", "processed", "m", None, "003A", 5),
                ("t", "pull", "pull", "error", "é ' \" %s ?", {"code": "X", "n": 1.5}, None, None),
            ],
            {"organization_id": org, "connection_id": cid, "run_id": None, "created_at": NOW},
        ),
        (
            links,
            ["platform_type", "platform_id", "crm_id", "crm_object", "values_hash", "synced_values"],
            [
                ("t", 1, "003A", "Contact", "h", None),
                ("t", 2, "003B", "Contact", None, {"a": "1", "b": None}),
            ],
            {"organization_id": org, "connection_id": cid, "synced_at": NOW},
        ),
    ]
    for table, columns, rows, shared in cases:
        with workspace.engine.begin() as conn:
            conn.execute(table.insert(), [{**dict(zip(columns, row, strict=True)), **shared} for row in rows])
            by_core = _stored(conn, table, [*columns, *shared])
            conn.execute(table.delete())
            bulk.append(conn, table, columns, rows, shared=shared)
            assert _stored(conn, table, [*columns, *shared]) == by_core, table.name
            conn.execute(table.delete())


# Few values per column, so that many columns hold one value in every row, with values that
# compare equal but are stored differently (1, 1.0, True, Decimal; 0.0 and -0.0).
_CAMPAIGN_ROWS = st.lists(
    st.tuples(
        st.sampled_from(["a", "b"]),
        st.sampled_from([None, True, False]),
        st.sampled_from([None, 1, 1.0, Decimal("1.00"), 2.5, 0.0, -0.0]),
        st.sampled_from([None, "x", "1"]),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=_CAMPAIGN_ROWS)
def test_any_rows_are_stored_as_a_core_insert_stores_them_in_their_order(
    workspace: Workspace, rows: list[tuple[Any, ...]]
) -> None:
    table = platform_table("campaigns")
    columns = ["name", "is_active", "expected_revenue", "description"]
    shared = {"organization_id": workspace.organization_id, "created_at": NOW, "updated_at": NOW}
    with workspace.engine.begin() as conn:
        conn.execute(table.delete())
        conn.execute(table.insert(), [{**dict(zip(columns, row, strict=True)), **shared} for row in rows])
        by_core = _stored(conn, table, [*columns, *shared])
        conn.execute(table.delete())
        bulk.append(conn, table, columns, rows, shared=shared)
        assert _stored(conn, table, [*columns, *shared]) == by_core


def test_on_sqlite_a_value_every_row_holds_is_bound_once() -> None:
    target = bulk.Target(sqlite.dialect(), 999)
    rows = [("t", "create", None, f"m{i}", f"003{i}") for i in range(3)]
    [statement] = bulk.insert_statements(
        target,
        log_entries,
        ["data_type", "action", "details", "message", "crm_id"],
        rows,
        shared={"organization_id": 1, "created_at": NOW},
    )
    # Type, action and details are the same in every row; the organization and time are shared.
    assert len(statement.params) == 3 * 2 + 3 + 2
    assert statement.params[-6:] == ("m0", "0030", "m1", "0031", "m2", "0032")


def test_statements_and_lookups_split_where_one_would_hold_too_many_values(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = workspace.organization_id
    cid = bare_connection(workspace, "c")
    # At most 64 values a statement: 12 fund rows, 9 links, lookups of 61 CRM ids.
    monkeypatch.setattr(bulk, "_max_values", lambda conn: 64)
    with workspace.engine.begin() as conn:
        ids = records.insert_many(conn, org, "funds", [{"name": f"fund {i}"} for i in range(23)])
        bulk.append(
            conn,
            links,
            ["platform_type", "platform_id", "crm_object", "crm_id"],
            [("funds", i, "GAU", f"a0{i}") for i in ids],
            shared={"organization_id": org, "connection_id": cid, "synced_at": NOW},
        )
        found = bulk.select_in(
            conn,
            links,
            ["crm_id", "platform_id"],
            where={"organization_id": org, "connection_id": cid, "platform_type": "funds"},
            key="crm_id",
            values=[f"a0{i}" for i in reversed(ids)] + [f"x{i}" for i in range(80)],
        )
        names = conn.execute(sa.select(platform_table("funds").c.name).order_by("id")).scalars().all()
    assert sorted(found) == sorted((f"a0{i}", i) for i in ids)
    assert names == [f"fund {i}" for i in range(23)]


def test_lookups_read_what_a_core_select_reads(workspace: Workspace) -> None:
    # On SQLite, lookups of integer and text columns come back as one row of JSON; others
    # (numerics, booleans) row by row. Either way the values are those SQLAlchemy reads.
    org = workspace.organization_id
    cid = bare_connection(workspace, "c")
    tricky = ["plain", 'it\'s "quoted" \\ é 🙂', "line\nbreak\ttab\u0001", "[1, 2]", "null"]
    cases: list[tuple[sa.Table, str, list[dict[str, Any]], dict[str, Any]]] = [
        (
            links,
            "crm_id",
            [
                {
                    "platform_id": 2**62 + i,
                    "crm_id": text,
                    "crm_modstamp": None if i else "2024-01-02T03:04:05.000+0000",
                    "values_hash": text,
                    "synced_values": None if i == 1 else {"v": text, "n": 1.25, "i": 2**60},
                }
                for i, text in enumerate(tricky)
            ],
            {
                "organization_id": org,
                "connection_id": cid,
                "platform_type": "t",
                "crm_object": "Contact",
                "synced_at": ELSEWHERE,
            },
        ),
        (
            platform_table("transactions"),
            "name",
            [
                {"name": text, "amount": Decimal("0.1") * (i + 1), "close_date": date(987 + i, 6, 5)}
                for i, text in enumerate(tricky)
            ],
            {"organization_id": org, "created_at": NOW, "updated_at": ELSEWHERE},
        ),
        (
            platform_table("campaigns"),
            "name",
            [
                {"name": text, "is_active": i % 2 == 0, "expected_revenue": 1 / 3}
                for i, text in enumerate(tricky)
            ],
            {"organization_id": org, "created_at": NOW, "updated_at": NOW},
        ),
    ]
    # Kinds of value no crmsync table holds yet, which JSON would not carry exactly.
    probe = sa.Table(
        "bulk_probe",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100)),
        sa.Column("ratio", sa.Float),
        sa.Column("blob", sa.LargeBinary),
    )
    cases.append(
        (
            probe,
            "name",
            [{"name": text, "ratio": 1 / (i + 3), "blob": text.encode()} for i, text in enumerate(tricky)],
            {},
        )
    )
    for table, key, rows, shared in cases:
        with workspace.engine.begin() as conn:
            if table is probe:
                probe.create(conn)
            conn.execute(table.insert(), [{**row, **shared} for row in rows])
            columns = [c.name for c in table.columns]
            by_core = conn.execute(sa.select(table).order_by(table.c.id)).all()
            found = bulk.select_in(conn, table, columns, where=shared, key=key, values=[*tricky, "absent"])
            assert sorted(found, key=lambda row: row[0]) == [tuple(row) for row in by_core], table.name
            assert bulk.select_in(conn, table, columns, where=shared, key=key, values=["absent"]) == []
            conn.execute(table.delete())
            if table is probe:
                probe.drop(conn)


def test_lookups_read_values_json_would_change_as_they_are(workspace: Workspace) -> None:
    # SQLite keeps a type per value, whatever the column's: a REAL in an integer column would
    # come back from JSON text with 15 digits, a BLOB in a text column not at all. A lookup
    # that meets one is read row by row instead.
    org = workspace.organization_id
    cid = bare_connection(workspace, "c")
    shared = {"organization_id": org, "connection_id": cid, "platform_type": "t", "crm_object": "Contact"}
    rows = [
        {"platform_id": 0.1 + 0.2, "crm_id": "a", "crm_modstamp": None},
        {
            "platform_id": 2,
            "crm_id": "b",
            "crm_modstamp": b"\x00\xff" if workspace.engine.name == "sqlite" else None,
        },
        {"platform_id": 3, "crm_id": "c", "crm_modstamp": "2024"},
    ]
    columns = ["crm_id", "platform_id", "crm_modstamp"]
    with workspace.engine.begin() as conn:
        for row in rows:
            conn.execute(links.insert(), [{**row, **shared, "synced_at": NOW}])
            found = bulk.select_in(conn, links, columns, where=shared, key="crm_id", values=[row["crm_id"]])
            by_core = conn.execute(
                sa.select(*(links.c[c] for c in columns)).where(links.c.crm_id == row["crm_id"])
            )
            assert found == by_core.all(), row
            conn.execute(links.delete())


def test_a_rejected_append_fails_like_any_statement_and_leaves_the_savepoint(workspace: Workspace) -> None:
    org = workspace.organization_id
    table = platform_table("funds")
    shared = {"organization_id": org, "created_at": NOW, "updated_at": NOW}
    with workspace.engine.begin() as conn:
        bulk.append(conn, table, ["name"], [("kept",)], shared=shared)
        with pytest.raises(IntegrityError), conn.begin_nested():
            # The name is required.
            bulk.append(conn, table, ["name"], [("lost",), (None,)], shared=shared)
        names = conn.execute(sa.select(table.c.name)).scalars().all()
    assert names == ["kept"]


def test_rows_with_different_columns_keep_their_order_and_defaults(workspace: Workspace) -> None:
    org = workspace.organization_id
    with workspace.engine.begin() as conn:
        ids = records.insert_many(
            conn,
            org,
            "households",
            [{"name": "A"}, {"name": "B", "phone": "1"}, {"phone": "2", "name": "C"}, {"name": "D"}],
        )
        rows = records.get_many(conn, org, "households", ids)
    assert ids == sorted(ids)
    assert [(rows[i]["name"], rows[i]["phone"]) for i in ids] == [
        ("A", None),
        ("B", "1"),
        ("C", "2"),
        ("D", None),
    ]
    assert all(rows[i]["created_at"] == rows[ids[0]]["created_at"] for i in ids)


def _links_and_entries(conn: sa.Connection) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    link_columns = [c.name for c in links.columns if c.name != "id"]
    entry_columns = [c.name for c in log_entries.columns if c.name not in ("id", "created_at")]
    return _stored(conn, links, link_columns), _stored(conn, log_entries, entry_columns)


def test_links_and_log_entries_given_column_by_column_are_stored_as_row_by_row(workspace: Workspace) -> None:
    org = workspace.organization_id
    cid = bare_connection(workspace, "c")
    stamp = "2026-01-01T00:00:00.000+0000"
    made = [
        links_store.NewLink("supporters", 1, "Contact", "0031", stamp, "h1", Encoded('{"a":"1"}')),
        links_store.NewLink("supporters", 2, "Contact", "0032", None, None, None),
        links_store.NewLink("supporters", 3, "Contact", "0033", stamp, "h3", {"a": None}),
    ]
    entries = [
        LogEntry("supporters", "create", "pull", "processed", f"created supporter {i}", f"003{i}", i)
        for i in (1, 2, 3)
    ]
    new = links_store.CreatedLinks(
        "supporters",
        "Contact",
        [m.platform_id for m in made],
        [m.crm_id for m in made],
        [m.crm_modstamp for m in made],
        [m.values_hash for m in made],
        [m.synced_values for m in made],
    )
    same = {"data_type": "supporters", "action": "create", "direction": "pull", "status": "processed"}
    columns = {
        "message": [e.message for e in entries],
        "crm_id": [e.crm_id for e in entries],
        "platform_id": [e.platform_id for e in entries],
    }
    stored = []
    for by_columns in (False, True):
        with workspace.engine.begin() as conn:
            target = bulk.Target.of(conn)
            if by_columns:
                bulk.run(conn, links_store.created_statements(target, org, cid, new, synced_at=NOW))
                bulk.run(
                    conn,
                    logs_store.column_statements(
                        target, org, {**same, "details": None}, columns, connection_id=cid, run_id=None
                    ),
                )
            else:
                bulk.run(conn, links_store.insert_statements(target, org, cid, made, synced_at=NOW))
                logs_store.write(conn, org, entries, connection_id=cid, run_id=None)
            stored.append(_links_and_entries(conn))
            conn.execute(links.delete())
            conn.execute(log_entries.delete())
    assert stored[0] == stored[1]
    assert [len(rows) for rows in stored[0]] == [3, 3]
