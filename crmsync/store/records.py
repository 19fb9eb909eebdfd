"""Platform records of any type: batch inserts and updates, matching, re-pointing, export."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from operator import itemgetter, methodcaller
from typing import Any

import sqlalchemy as sa

from crmsync import matchkey
from crmsync.store import bulk, match_keys
from crmsync.store.archive import ids_query as archive_ids
from crmsync.store.links import chunks
from crmsync.store.platform import platform_table
from crmsync.store.readable import Unreadable, read_rows
from crmsync.store.tables import archived, links
from crmsync.store.types import utcnow


def insert_many(
    conn: sa.Connection, organization_id: int, platform_type: str, rows: Sequence[Mapping[str, Any]]
) -> list[int]:
    """Insert rows of one type; returns their new ids in input order."""
    if not rows:
        return []
    ids = new_ids(conn, platform_type, len(rows))
    bulk.run(conn, insert_statements(bulk.Target.of(conn), organization_id, platform_type, rows, ids))
    return ids


def insert_statements(
    target: bulk.Target,
    organization_id: int,
    platform_type: str,
    rows: Sequence[Mapping[str, Any]],
    ids: Sequence[int],
) -> list[bulk.Statement]:
    """The statements that insert ``rows`` of one type with the given ids (see :func:`new_ids`)."""
    table = platform_table(platform_type)
    now = utcnow()
    shared = {"organization_id": organization_id, "created_at": now, "updated_at": now}
    # Rows with the same columns go together (a page's rows all have the same); a column a
    # row leaves out keeps its default, as in a single-row insert.
    groups: list[tuple[list[int], list[Mapping[str, Any]]]] = []
    if rows and all(map(rows[0].keys().__eq__, map(methodcaller("keys"), rows))):
        groups.append((list(ids), list(rows)))
    else:
        by_columns: dict[tuple[str, ...], tuple[list[int], list[Mapping[str, Any]]]] = {}
        for new_id, row in zip(ids, rows, strict=True):
            group = by_columns.setdefault(tuple(row), ([], []))
            group[0].append(new_id)
            group[1].append(row)
        groups.extend(by_columns.values())
    statements: list[bulk.Statement] = []
    for group_ids, members in groups:
        names = [name for name in members[0] if name != "id" and name not in shared]
        columns: dict[str, Sequence[Any]] = {"id": group_ids}
        if names:
            # Row values picked and turned into columns in C: a page has thousands of rows.
            picked = map(itemgetter(*names), members) if len(names) > 1 else ((r[names[0]],) for r in members)
            columns.update(zip(names, zip(*picked, strict=True), strict=True))
        statements += bulk.column_statements(target, table, columns, shared=shared)
    return statements


def new_ids(conn: sa.Connection, platform_type: str, count: int, *, above: int = 0) -> list[int]:
    """Ids for ``count`` new rows of ``platform_type``, ascending, taken before the insert.

    Knowing the ids up front lets the rows go in a few multi-row statements instead of one
    ``INSERT ... RETURNING`` each (SQLAlchemy cannot batch RETURNING in parameter order on
    SQLite, whose driver gives no sentinel).

    PostgreSQL: from the id column's sequence, as the column default would take them.

    SQLite: one writer at a time, and writing transactions take the lock at BEGIN, so the
    next ids are known; they are the ones SQLite itself would give: with AUTOINCREMENT, one
    above the largest id the table ever had (sqlite_sequence), so the id of a deleted row
    never comes back. Should another writer slip in anyway, the insert fails on the primary
    key instead of mixing up ids. ``above``: ids up to it are promised to rows not written
    yet; taken outside the writing transaction, the ids hold only while :func:`ids_unused`.
    """
    table = platform_table(platform_type)
    if conn.dialect.name == "postgresql":
        sequence = sa.func.pg_get_serial_sequence(conn.dialect.identifier_preparer.format_table(table), "id")
        taken = conn.execute(
            sa.select(sa.func.nextval(sequence)).select_from(sa.func.generate_series(1, count))
        ).scalars()
        ids = sorted(int(value) for value in taken if value is not None)
        if len(ids) != count:
            raise ValueError(f"{table.name}.id has no sequence; crmsync's platform tables need one")
        return ids
    first = max(_highest_id(conn, table), above) + 1
    return list(range(first, first + count))


def ids_unused(conn: sa.Connection, platform_type: str, ids: Sequence[int]) -> bool:
    """Whether ids taken by :func:`new_ids` outside this transaction are still free for its rows.

    PostgreSQL's sequence never hands out a value twice; on SQLite another writer may have
    taken them since.
    """
    if not ids or conn.dialect.name == "postgresql":
        return True
    return _highest_id(conn, platform_table(platform_type)) < min(ids)


def _highest_id(conn: sa.Connection, table: sa.Table) -> int:
    """SQLite: the largest id ``table`` has or ever had (sqlite_sequence, with AUTOINCREMENT)."""
    # One statement as plain SQL: a pull asks twice a page (planning, then checking the plan).
    name = conn.dialect.identifier_preparer.format_table(table)
    highest = conn.exec_driver_sql(
        f"SELECT max(COALESCE((SELECT max(id) FROM {name}), 0), "
        "COALESCE((SELECT seq FROM sqlite_sequence WHERE name = ?), 0))",
        (table.name,),
    ).scalar_one()
    return int(highest)


def update_many(
    conn: sa.Connection,
    organization_id: int,
    platform_type: str,
    rows: Sequence[tuple[int, Mapping[str, Any]]],
) -> None:
    """Update (id, values) pairs of one type; rows sharing a column set go in one statement."""
    if not rows:
        return
    table = platform_table(platform_type)
    now = utcnow()
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for record_id, values in rows:
        columns = tuple(sorted(values))
        params = {f"v_{c}": values[c] for c in columns}
        params["b_id"] = record_id
        groups.setdefault(columns, []).append(params)
    for columns, batch in groups.items():
        stmt = (
            table.update()
            .where(table.c.organization_id == organization_id, table.c.id == sa.bindparam("b_id"))
            .values({**{c: sa.bindparam(f"v_{c}") for c in columns}, "updated_at": now})
        )
        conn.execute(stmt, batch)


def update_if_unchanged(
    conn: sa.Connection,
    organization_id: int,
    platform_type: str,
    record_id: int,
    values: Mapping[str, Any],
    *,
    updated_at: Any,
) -> bool:
    """Update one row only if it was not written since ``updated_at`` (as read); whether it was."""
    table = platform_table(platform_type)
    result = conn.execute(
        table.update()
        .where(
            table.c.organization_id == organization_id,
            table.c.id == record_id,
            table.c.updated_at == updated_at,
        )
        .values({**values, "updated_at": utcnow()})
    )
    return bool(result.rowcount)


def get_many(
    conn: sa.Connection,
    organization_id: int,
    platform_type: str,
    ids: Sequence[int],
    *,
    unreadable: dict[int, Unreadable] | None = None,
) -> dict[int, dict[str, Any]]:
    """Rows by id.

    ``unreadable``: where a row holding a value its column's type cannot hold goes, instead of
    failing the whole read (see crmsync.store.readable).
    """
    table = platform_table(platform_type)
    found: dict[int, dict[str, Any]] = {}
    for part in chunks(sorted(set(ids))):
        if unreadable is not None:
            rows, bad = read_rows(conn, table, part, table.c.organization_id == organization_id)
            found.update(rows)
            unreadable.update(bad)
            continue
        for row in conn.execute(
            sa.select(table).where(table.c.organization_id == organization_id, table.c.id.in_(part))
        ):
            found[row.id] = dict(row._mapping)
    return found


def existing_ids(
    conn: sa.Connection, organization_id: int, platform_type: str, ids: Sequence[int]
) -> set[int]:
    """Which of ``ids`` are rows of ``platform_type`` (the others were deleted, or never were)."""
    table = platform_table(platform_type)
    found: set[int] = set()
    for part in chunks(sorted(set(ids))):
        query = sa.select(table.c.id).where(table.c.organization_id == organization_id, table.c.id.in_(part))
        found.update(int(i) for i in conn.execute(query).scalars())
    return found


def has_unlinked(conn: sa.Connection, organization_id: int, connection_id: int, platform_type: str) -> bool:
    """Whether any platform row of ``platform_type`` has no link on this connection (archived
    rows aside: they are matched with nothing)."""
    table = platform_table(platform_type)
    linked = sa.select(links.c.platform_id).where(
        links.c.organization_id == organization_id,
        links.c.connection_id == connection_id,
        links.c.platform_type == platform_type,
    )
    query = (
        sa.select(table.c.id)
        .where(
            table.c.organization_id == organization_id,
            table.c.id.not_in(linked),
            _not_archived(table, connection_id, platform_type),
        )
        .limit(1)
    )
    return conn.execute(query).first() is not None


def _not_archived(table: sa.Table, connection_id: int, platform_type: str) -> sa.ColumnElement[bool]:
    return ~sa.exists().where(
        archived.c.connection_id == connection_id,
        archived.c.platform_type == platform_type,
        archived.c.platform_id == table.c.id,
    )


def size_hint(conn: sa.Connection, platform_type: str) -> int:
    """About how many rows ``platform_type`` has, at the cost of one index probe: its highest id."""
    table = platform_table(platform_type)
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one())


def find_unlinked_matches(
    conn: sa.Connection,
    organization_id: int,
    connection_id: int,
    platform_type: str,
    columns: Sequence[str],
    normalize: str,
    keys: Sequence[tuple[Any, ...]],
) -> dict[tuple[Any, ...], int] | None:
    """Platform rows without a link on this connection whose key under the rule (``columns``,
    ``normalize``; see :mod:`crmsync.matchkey`) is one of ``keys``.

    Returns key -> the lowest matching id (oldest record), so repeated runs pick the same one;
    None when the rule's stored keys are not built yet (see
    :func:`crmsync.store.match_keys.refresh`).
    """
    if not keys:
        return {}
    table = platform_table(platform_type)
    # Each candidate row's link is probed by its index, rather than every link of the type
    # gathered first: the cost follows the keys, not the number of rows. Archived rows (their
    # CRM record deleted) are matched with nothing.
    unlinked = sa.and_(
        ~sa.exists().where(
            links.c.connection_id == connection_id,
            links.c.platform_type == platform_type,
            links.c.platform_id == table.c.id,
            links.c.organization_id == organization_id,
        ),
        _not_archived(table, connection_id, platform_type),
    )
    wanted = set(keys)
    candidates: list[sa.Row[Any]] = []
    if match_keys.keyed(platform_type, columns):
        found_rows = match_keys.candidates(
            conn, organization_id, platform_type, columns, normalize, wanted, unlinked
        )
        if found_rows is None:
            return None
        candidates = found_rows
    else:
        # A rule that starts with an id: the rows holding one of the keys' first parts, through
        # the index on (organization, first column) (see crmsync.store.platform.match_index).
        selected = sa.select(table.c.id, *(table.c[c] for c in columns))
        for part in chunks(sorted({key[0] for key in wanted}, key=repr)):
            candidates += conn.execute(
                selected.where(
                    table.c.organization_id == organization_id, table.c[columns[0]].in_(part), unlinked
                )
            )
    # Each candidate's key is made again from what it holds: a stored key finds, never decides.
    # Sorted by id here: ordered by id in SQL, SQLite would rather walk the organization's
    # rows in id order than look the keys up.
    found: dict[tuple[Any, ...], int] = {}
    for row in sorted(candidates, key=lambda r: int(r[0])):
        key = matchkey.key(dict(zip(columns, row[1:], strict=True)), columns, normalize)
        if key in wanted:
            found.setdefault(key, int(row[0]))
    return found


def repoint(
    conn: sa.Connection,
    organization_id: int,
    platform_type: str,
    column: str,
    old_id: int,
    new_id: int,
) -> int:
    """Move children of ``old_id`` to ``new_id`` in one lookup column; returns rows moved."""
    table = platform_table(platform_type)
    result = conn.execute(
        table.update()
        .where(table.c.organization_id == organization_id, table.c[column] == old_id)
        .values({column: new_id, "updated_at": utcnow()})
    )
    return int(result.rowcount)


def delete(conn: sa.Connection, organization_id: int, platform_type: str, record_id: int) -> bool:
    """Delete one platform row; returns whether it existed."""
    table = platform_table(platform_type)
    result = conn.execute(
        table.delete().where(table.c.organization_id == organization_id, table.c.id == record_id)
    )
    return bool(result.rowcount)


def export(
    conn: sa.Connection, organization_id: int, platform_type: str, connection_id: int | None = None
) -> Iterator[dict[str, Any]]:
    """Every row of a type with its CRM id (on ``connection_id``), streamed in id order; rows
    archived (their CRM record deleted) are left out."""
    table = platform_table(platform_type)
    query = sa.select(table, links.c.crm_id).where(
        table.c.organization_id == organization_id,
        table.c.id.not_in(archive_ids(organization_id, platform_type, connection_id)),
    )
    join_on = (
        (links.c.platform_id == table.c.id)
        & (links.c.platform_type == platform_type)
        & (links.c.organization_id == organization_id)
    )
    if connection_id is not None:
        join_on = join_on & (links.c.connection_id == connection_id)
    query = query.select_from(table.outerjoin(links, join_on)).order_by(table.c.id)
    for row in conn.execution_options(yield_per=1000).execute(query):
        yield dict(row._mapping)
