"""The keys of platform rows under a matching rule, kept in crmsync's own tables.

A matching rule compares keys made in Python (:mod:`crmsync.matchkey`), never text folded
by the database: SQLite's and PostgreSQL's ``lower()`` and ``trim()`` disagree with each
other and with Python. So that a page's keys are still looked up, not every row scanned,
each row's key is stored in ``crmsync_match_keys`` under its key set (one rule of one
platform type in one organization), indexed by (key set, key). The platform's tables stay
the application's: no column and no index is added to them.

A key set is built in full the first time a pull needs it (:func:`refresh`), then kept up
to date from the change capture, which records every insert, update and delete of a
platform row, crmsync's and the application's alike: before a page is matched, the changes
of its type since the set's mark are taken and the keys of their rows made again. The mark
is the last change id on SQLite (one writer at a time: ids come in commit order), and on
PostgreSQL a snapshot, as the pusher takes its batches (:mod:`crmsync.store.change_batches`):
a transaction that commits late has its changes taken by the next refresh, not skipped.
Rows a pull inserts get their keys at once (:func:`note_inserted`), so that taking their
changes later costs one indexed probe, not a read of each row.

A stored key only finds candidates: the rows found are read and their keys made again
before they are matched, so a key gone stale can cost a match, never make a wrong one.
Keys made by another :data:`crmsync.matchkey.VERSION` (another Python, other Unicode
tables) are built again; once an hour a refresh compares the keys' row ids with the rows'
(their number and sum) and, when they differ, keys the rows that have none (rows written
while change capture was off) and drops the keys whose row is gone. :func:`rebuild` drops
an organization's key sets, to be built again when next needed.

On PostgreSQL two transactions refreshing one key set take turns (the set's row is locked
for the rest of the transaction); a pull page holds it until it commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from crmsync import matchkey
from crmsync.store import bulk
from crmsync.store.change_batches import visible_between
from crmsync.store.links import chunks
from crmsync.store.platform import platform_table
from crmsync.store.tables import changes, match_key_sets, match_keys
from crmsync.store.types import utcnow

# How often a refresh compares the keys' row ids with the rows' (see _check).
CHECK_EVERY = timedelta(hours=1)
# Rows read at a time while building a key set.
_BUILD_BATCH = 10_000
_KEY_COLUMNS = ("key_set_id", "platform_id", "match_key")


@dataclass(frozen=True)
class _KeySet:
    id: int
    version: str
    change_id: int
    snapshot: str | None
    checked_at: datetime | None


@dataclass(frozen=True)
class _Keys:
    """The key set of one rule of one platform type in one organization, and how its keys are made."""

    organization_id: int
    set_id: int
    table: sa.Table
    columns: tuple[str, ...]
    normalize: str

    def store(self, conn: sa.Connection, rows: Sequence[Sequence[Any]]) -> None:
        """Store the keys of ``rows`` (each its id, then the rule's columns in order)."""
        if not rows:
            return
        made = []
        for row in rows:
            found = matchkey.key(dict(zip(self.columns, row[1:], strict=True)), self.columns, self.normalize)
            # A row with an empty part keeps a key that is never asked: every row has one.
            made.append((self.set_id, int(row[0]), "" if found is None else matchkey.digest(found)))
        bulk.append(conn, match_keys, _KEY_COLUMNS, made, shared={"organization_id": self.organization_id})


def rule_name(columns: Sequence[str], normalize: str) -> str:
    """How a key set names its rule: ``casefold:email,first_name,last_name``."""
    return f"{normalize}:{','.join(columns)}"


def keyed(platform_type: str, columns: Sequence[str]) -> bool:
    """Whether a rule's rows are found through stored keys: its first column holds text.

    A rule that starts with another column (an id) is asked of that column's own index:
    numbers, dates and ids compare the same on every database.
    """
    return isinstance(platform_table(platform_type).c[columns[0]].type, sa.String)


def candidates(
    conn: sa.Connection,
    organization_id: int,
    platform_type: str,
    columns: Sequence[str],
    normalize: str,
    keys: Iterable[tuple[object, ...]],
    where: sa.ColumnElement[bool],
) -> list[sa.Row[tuple[object, ...]]] | None:
    """(id, *columns) of the rows whose stored key is one of ``keys`` and that meet ``where``;
    None when this rule's keys are not built (or were made by another version)."""
    found = conn.execute(
        sa.select(match_key_sets.c.id).where(
            match_key_sets.c.organization_id == organization_id,
            match_key_sets.c.platform_type == platform_type,
            match_key_sets.c.rule == rule_name(columns, normalize),
            match_key_sets.c.version == matchkey.VERSION,
        )
    ).scalar()
    if found is None:
        return None
    table = platform_table(platform_type)
    rows: list[sa.Row[tuple[object, ...]]] = []
    for part in chunks(sorted({matchkey.digest(k) for k in keys})):
        rows += conn.execute(
            sa.select(table.c.id, *(table.c[c] for c in columns))
            .select_from(match_keys.join(table, table.c.id == match_keys.c.platform_id))
            .where(
                match_keys.c.key_set_id == found,
                match_keys.c.organization_id == organization_id,
                match_keys.c.match_key.in_(part),
                table.c.organization_id == organization_id,
                where,
            )
        )
    return rows


def refresh(
    conn: sa.Connection, organization_id: int, platform_type: str, columns: Sequence[str], normalize: str
) -> None:
    """Bring a rule's keys up to date, in a writing transaction: built in full when missing or
    made by another version, else the type's changes since their mark taken."""
    key_set = _locked(conn, organization_id, platform_type, rule_name(columns, normalize))
    keys = _Keys(organization_id, key_set.id, platform_table(platform_type), tuple(columns), normalize)
    if key_set.version != matchkey.VERSION:
        _build(conn, keys)
        return
    mark = _position(conn)
    operations: dict[int, set[str]] = {}
    for platform_id, operation in conn.execute(
        sa.select(changes.c.platform_id, changes.c.operation).where(
            changes.c.organization_id == organization_id,
            changes.c.platform_type == platform_type,
            *_since(key_set, mark),
        )
    ):
        operations.setdefault(int(platform_id), set()).add(operation)
    # A row crmsync inserted has its key already; any other change is read again.
    inserted = [i for i, ops in operations.items() if ops == {"insert"}]
    keyed_already = {
        int(row[0])
        for row in bulk.select_in(
            conn,
            match_keys,
            ["platform_id"],
            where={"key_set_id": key_set.id},
            key="platform_id",
            values=inserted,
        )
    }
    stale = [i for i in operations if i not in keyed_already]
    _make_again(conn, keys, stale)
    _set_mark(conn, key_set.id, mark)
    if key_set.checked_at is None or utcnow() - key_set.checked_at >= CHECK_EVERY:
        _check(conn, keys)


def note_inserted(
    conn: sa.Connection,
    organization_id: int,
    platform_type: str,
    ids: Sequence[int],
    rows: Sequence[Mapping[str, object]],
) -> None:
    """Store the keys of rows crmsync just inserted (``ids``, their ``rows`` of values), for every
    built key set of their type."""
    if not ids:
        return
    sets = conn.execute(
        sa.select(match_key_sets.c.id, match_key_sets.c.rule).where(
            match_key_sets.c.organization_id == organization_id,
            match_key_sets.c.platform_type == platform_type,
            match_key_sets.c.version == matchkey.VERSION,
        )
    ).all()
    table = platform_table(platform_type)
    for set_id, rule in sets:
        normalize, _, names = str(rule).partition(":")
        keys = _Keys(organization_id, int(set_id), table, tuple(names.split(",")), normalize)
        keys.store(
            conn, [(i, *(values.get(c) for c in keys.columns)) for i, values in zip(ids, rows, strict=True)]
        )


def rebuild(conn: sa.Connection, organization_id: int, platform_type: str | None = None) -> int:
    """Drop an organization's key sets (of one type, or all); each is built again when next
    needed. Returns how many were dropped."""
    query = match_key_sets.delete().where(match_key_sets.c.organization_id == organization_id)
    if platform_type is not None:
        query = query.where(match_key_sets.c.platform_type == platform_type)
    return int(conn.execute(query).rowcount)


def _locked(conn: sa.Connection, organization_id: int, platform_type: str, rule: str) -> _KeySet:
    """The key set, created unbuilt if missing, locked for this transaction on PostgreSQL."""
    where = (
        match_key_sets.c.organization_id == organization_id,
        match_key_sets.c.platform_type == platform_type,
        match_key_sets.c.rule == rule,
    )
    query = sa.select(match_key_sets).where(*where).with_for_update()
    row = conn.execute(query).first()
    if row is None:
        insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        conn.execute(
            insert(match_key_sets)
            .values(organization_id=organization_id, platform_type=platform_type, rule=rule, version="")
            .on_conflict_do_nothing()
        )
        row = conn.execute(query).one()
    return _KeySet(int(row.id), row.version, int(row.change_id), row.snapshot, row.checked_at)


def _position(conn: sa.Connection) -> int | str:
    """Where the changes stand now: SQLite, the last change id; PostgreSQL, a snapshot.

    SQLite: in a writing transaction no other writer can commit a change below it. PostgreSQL:
    the current snapshot, with this transaction counted as still in progress, so that the
    changes it writes after this are taken by the next refresh.
    """
    if conn.dialect.name != "postgresql":
        return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(changes.c.id), 0))).scalar_one())
    snapshot, own = conn.execute(
        sa.text("SELECT pg_current_snapshot()::text, pg_current_xact_id_if_assigned()::text")
    ).one()
    return _in_progress(str(snapshot), None if own is None else int(own))


def _in_progress(snapshot: str, own: int | None) -> str:
    """``snapshot`` (``xmin:xmax:xip,...``) with transaction ``own`` among those in progress.

    PostgreSQL leaves a transaction's own id out of its snapshots, so an id below xmax would
    read as committed.
    """
    xmin_text, xmax_text, xip_text = snapshot.split(":")
    xmin, xmax = int(xmin_text), int(xmax_text)
    running = {int(x) for x in xip_text.split(",") if x}
    if own is None or own >= xmax:
        return snapshot
    running.add(own)
    return f"{min(xmin, own)}:{xmax}:{','.join(str(x) for x in sorted(running))}"


def _since(key_set: _KeySet, mark: int | str) -> list[sa.ColumnElement[bool]]:
    """The conditions on ``crmsync_changes`` of the changes after the key set's mark, up to ``mark``:
    every change this transaction sees that an earlier refresh did not take."""
    if isinstance(mark, int):
        # SQLite keeps txid 0: the index on (organization, txid, id) gives the range.
        return [changes.c.txid == 0, changes.c.id > key_set.change_id, changes.c.id <= mark]
    # This transaction's own changes too: a refresh after its own writes sees them, as on
    # SQLite (the mark leaves them to be taken again once they are committed).
    own: sa.ColumnElement[int] = sa.literal_column("pg_current_xact_id_if_assigned()::text::bigint")
    return [sa.or_(visible_between(key_set.snapshot, mark), changes.c.txid == own)]


def _set_mark(conn: sa.Connection, set_id: int, mark: int | str, **values: object) -> None:
    marked = {"change_id": mark} if isinstance(mark, int) else {"snapshot": mark}
    conn.execute(match_key_sets.update().where(match_key_sets.c.id == set_id).values(**marked, **values))


def _build(conn: sa.Connection, keys: _Keys) -> None:
    # The mark first: a change made while the rows are read is taken again next time.
    mark = _position(conn)
    conn.execute(match_keys.delete().where(match_keys.c.key_set_id == keys.set_id))
    table = keys.table
    query = sa.select(table.c.id, *(table.c[c] for c in keys.columns)).where(
        table.c.organization_id == keys.organization_id
    )
    # Streamed: options on the statement, since a connection's would stay for what follows.
    for batch in conn.execute(query.execution_options(yield_per=_BUILD_BATCH)).partitions():
        keys.store(conn, batch)
    now = utcnow()
    _set_mark(conn, keys.set_id, mark, version=matchkey.VERSION, built_at=now, checked_at=now)


def _make_again(conn: sa.Connection, keys: _Keys, ids: Sequence[int]) -> None:
    """Make the keys of rows ``ids`` again from what they hold now (no key for a row gone)."""
    if not ids:
        return
    for part in chunks(sorted(ids)):
        conn.execute(
            match_keys.delete().where(
                match_keys.c.key_set_id == keys.set_id, match_keys.c.platform_id.in_(part)
            )
        )
    where = {"organization_id": keys.organization_id}
    keys.store(
        conn, bulk.select_in(conn, keys.table, ["id", *keys.columns], where=where, key="id", values=ids)
    )


def _check(conn: sa.Connection, keys: _Keys) -> None:
    """Compare the keys' row ids with the rows' (their number and sum, two index scans); if
    they differ, key the rows that have no key and drop the keys whose row is gone."""
    table, org, set_id = keys.table, keys.organization_id, keys.set_id
    rows = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(table.c.id), 0)).where(
        table.c.organization_id == org
    )
    stored = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(match_keys.c.platform_id), 0)).where(
        match_keys.c.key_set_id == set_id
    )
    same = tuple(conn.execute(rows).one()) == tuple(conn.execute(stored).one())
    conn.execute(match_key_sets.update().where(match_key_sets.c.id == set_id).values(checked_at=utcnow()))
    if same:
        return
    keyed_row = sa.exists().where(match_keys.c.key_set_id == set_id, match_keys.c.platform_id == table.c.id)
    missing = conn.execute(sa.select(table.c.id).where(table.c.organization_id == org, ~keyed_row)).scalars()
    _make_again(conn, keys, [int(i) for i in missing])
    row_exists = sa.exists().where(table.c.organization_id == org, table.c.id == match_keys.c.platform_id)
    conn.execute(match_keys.delete().where(match_keys.c.key_set_id == set_id, ~row_exists))
