"""Change capture: database triggers record every platform insert, update and delete.

Triggers write a row into ``crmsync_changes`` in the same transaction as the change, so
nothing is missed, including writes made with plain SQL outside crmsync. Each change
carries its origin: ``user`` unless the writing transaction said otherwise with
:func:`origin` (crmsync's pull says ``sync``; an application's automated jobs say ``system``).

How a transaction says its origin differs by database, because SQLite has no session
variables: PostgreSQL uses a transaction-local setting; SQLite a marker row that only the
writing transaction can see (SQLite has one writer at a time) and that is removed before
commit.

On SQLite a trigger is a small program run once per row, which for a pull's page of
thousands of new rows cost a sixth of writing it. So a transaction that said its origin may
capture the rows it inserts itself, in one statement (:func:`captured_inserts`): while its
marker says ``own_capture``, the insert triggers stand aside.

On PostgreSQL the triggers run once per statement and capture all its rows at once from the
statement's transition table; a PL/pgSQL call per row cost as much as the foreign-key
checks of the rows it captured.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from crmsync.store.bulk import Statement

Origin = Literal["user", "system", "sync"]
CHANNEL = "crmsync_changes"

_SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'"
_SQLITE_ORIGIN = "COALESCE((SELECT origin FROM crmsync_origin LIMIT 1), 'user')"
_SQLITE_OWN_CAPTURE = "EXISTS (SELECT 1 FROM crmsync_origin WHERE own_capture)"
# Each captured operation, and which of its rows (NEW or OLD) holds the platform row's id.
_OPERATIONS = (("insert", "NEW"), ("update", "NEW"), ("delete", "OLD"))

# The capture function of the per-row triggers (PostgreSQL, migrations 0002 to 0009; 0010
# keeps it for a downgrade). Changing a capture function needs a new migration that runs it
# again (CREATE OR REPLACE), as 0004 did.
PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION crmsync_capture() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rec record;
    change_origin text := COALESCE(NULLIF(current_setting('crmsync.origin', true), ''), 'user');
BEGIN
    IF TG_OP = 'DELETE' THEN rec := OLD; ELSE rec := NEW; END IF;
    INSERT INTO crmsync_changes
        (organization_id, platform_type, platform_id, operation, origin, created_at, txid)
    VALUES (rec.organization_id, TG_TABLE_NAME, rec.id, lower(TG_OP), change_origin, clock_timestamp(),
            pg_current_xact_id()::text::bigint);
    IF change_origin <> 'sync' THEN
        PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
    END IF;
    RETURN NULL;
END $$
"""


# Capture on PostgreSQL since migration 0010: one trigger per operation and statement.
PG_STATEMENT_FUNCTION = f"""
CREATE OR REPLACE FUNCTION crmsync_capture_statement() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    change_origin text := COALESCE(NULLIF(current_setting('crmsync.origin', true), ''), 'user');
    change_txid bigint := pg_current_xact_id()::text::bigint;
    captured bigint;
BEGIN
    -- A transition table is named in the SQL itself: one INSERT for each.
    IF TG_OP = 'DELETE' THEN
        INSERT INTO crmsync_changes
            (organization_id, platform_type, platform_id, operation, origin, created_at, txid)
        SELECT organization_id, TG_TABLE_NAME, id, 'delete', change_origin, clock_timestamp(), change_txid
        FROM crmsync_old;
    ELSE
        INSERT INTO crmsync_changes
            (organization_id, platform_type, platform_id, operation, origin, created_at, txid)
        SELECT organization_id, TG_TABLE_NAME, id, lower(TG_OP), change_origin, clock_timestamp(), change_txid
        FROM crmsync_new;
    END IF;
    GET DIAGNOSTICS captured = ROW_COUNT;
    IF captured > 0 AND change_origin <> 'sync' THEN
        PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
    END IF;
    RETURN NULL;
END $$
"""

# What install_ddl installs, by the migration that installs it (see its ``revision``).
NEWEST = "0010"


def install_ddl(dialect: str, table: str, *, revision: str = NEWEST) -> list[str]:
    """Statements that install change capture on one platform table, as of migration ``revision``.

    From 0009 the SQLite insert trigger stands aside while a transaction captures its own
    inserts (the marker column came then); from 0010 PostgreSQL captures per statement
    (:data:`PG_STATEMENT_FUNCTION`), before that per row (:data:`PG_FUNCTION`).
    """
    if dialect == "postgresql":
        if revision < "0010":
            return [
                f"CREATE TRIGGER crmsync_capture AFTER INSERT OR UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION crmsync_capture()"
            ]
        # A trigger with a transition table serves one operation.
        return [
            f"CREATE TRIGGER crmsync_capture_{operation} AFTER {operation.upper()} ON {table} "
            f"REFERENCING {rows} TABLE AS crmsync_{rows.lower()} "
            "FOR EACH STATEMENT EXECUTE FUNCTION crmsync_capture_statement()"
            for operation, rows in _OPERATIONS
        ]
    own_capture = revision >= "0009"
    statements = []
    for operation, row in _OPERATIONS:
        when = f"WHEN NOT {_SQLITE_OWN_CAPTURE} " if own_capture and operation == "insert" else ""
        statements.append(
            f"CREATE TRIGGER crmsync_capture_{table}_{operation} AFTER {operation.upper()} ON {table} "
            f"{when}BEGIN INSERT INTO crmsync_changes "
            "(organization_id, platform_type, platform_id, operation, origin, created_at) "
            f"VALUES ({row}.organization_id, '{table}', {row}.id, '{operation}', "
            f"{_SQLITE_ORIGIN}, {_SQLITE_NOW}); "
            "END"
        )
    return statements


def remove_ddl(dialect: str, table: str) -> list[str]:
    """Statements that remove change capture from one platform table."""
    if dialect == "postgresql":
        names = ["crmsync_capture", *(f"crmsync_capture_{op}" for op, _ in _OPERATIONS)]
        return [f"DROP TRIGGER IF EXISTS {name} ON {table}" for name in names]
    return [f"DROP TRIGGER IF EXISTS crmsync_capture_{table}_{op}" for op, _ in _OPERATIONS]


@contextmanager
def origin(conn: sa.Connection, value: Origin) -> Iterator[None]:
    """Within the block, platform writes on ``conn`` are captured with origin ``value``.

    Use it inside a transaction (``engine.begin()``); the origin ends with the block.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT set_config('crmsync.origin', :origin, true)"), {"origin": value})
        yield
        conn.execute(sa.text("SELECT set_config('crmsync.origin', '', true)"))
        return
    conn.execute(sa.text("INSERT INTO crmsync_origin (origin) VALUES (:origin)"), {"origin": value})
    yield
    # Only reached when the block succeeded; on an exception the transaction rolls back and
    # takes the marker with it.
    conn.execute(sa.text("DELETE FROM crmsync_origin"))


def captured_inserts(
    dialect: Dialect, table: str, ids: Sequence[int], inserts: Sequence[Statement]
) -> list[Statement]:
    """``inserts`` (the new rows of ``table`` with ``ids``) with their changes captured in one
    statement rather than by a trigger per row.

    ``ids`` are exactly the new rows' ids, and no other row of the table holds an id in their
    range: the changes are read back by that range. Only on SQLite and for ascending ids
    without gaps (as :func:`crmsync.store.records.new_ids` takes them there); otherwise the
    statements are returned as they are and the triggers capture. Outside a transaction that
    said its origin there is no marker: the triggers capture then, and the statement that
    would have done it inserts nothing.
    """
    if dialect.name != "sqlite" or not ids or list(ids) != list(range(ids[0], ids[0] + len(ids))):
        return list(inserts)
    return [
        Statement("UPDATE crmsync_origin SET own_capture = 1", ()),
        *inserts,
        Statement(
            "INSERT INTO crmsync_changes "
            "(organization_id, platform_type, platform_id, operation, origin, created_at) "
            f"SELECT organization_id, '{table}', id, 'insert', {_SQLITE_ORIGIN}, {_SQLITE_NOW} "
            f"FROM {table} WHERE id BETWEEN ? AND ? AND {_SQLITE_OWN_CAPTURE} ORDER BY id",
            (ids[0], ids[-1]),
        ),
        Statement("UPDATE crmsync_origin SET own_capture = 0", ()),
    ]
