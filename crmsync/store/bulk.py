"""Appending many rows in few statements: the fast path for what a pull page inserts.

A page of a pull inserts up to thousands of platform rows, links and log entries. Through a
Core ``insert()`` SQLAlchemy handles every row on its own (a parameter dict, every value
through its type's bind processor, insertmanyvalues batching), which cost several times
what the database spends on the rows. Here:

- each column's bind processor, the very one SQLAlchemy would apply (so what is stored is
  the same: SQLite's datetime text, JSON text, floats for numerics), runs once per column
  over the batch, and a value shared by every row (organization, timestamps) is converted
  once;
- on SQLite the rows go as multi-row ``INSERT ... SELECT ... FROM (VALUES (...), (...))``
  statements (one statement per row costs a statement journal each on tables with
  change-capture triggers), where a value every row holds is bound once, not once a row;
  on PostgreSQL (psycopg) as one ``COPY`` per batch, which PostgreSQL neither parses nor
  plans per value and whose rows fire the same triggers;
- statements run in the caller's transaction and savepoints, with driver errors raised as
  SQLAlchemy's ``DBAPIError`` like any other statement (a caller may retry row by row);
  INSERTs run through ``Connection.exec_driver_sql``, with echo and statement events as
  usual, a COPY on the driver's connection.

Preparing the statements (:func:`insert_statements`) is apart from running them
(:func:`run`), so that a pull can prepare a page's statements while the page before it is
being written.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from itertools import chain, repeat
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from crmsync import jsontext

# Bound values in one statement where the driver cannot say: PostgreSQL's protocol allows
# 65,535; SQLite tells its own limit (32,766 by default since 3.32, 999 before).
_PG_MAX_VALUES = 65_535
_DEFAULT_MAX_VALUES = 999
# Whatever the limit, rows in one statement: larger statements save nothing more and make
# the driver parse longer SQL.
_MAX_ROWS = 2_000

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class _Plan:
    """How rows of some columns of one table are inserted on one dialect."""

    prefix: str
    row_sql: str
    per_statement: int
    # SQLite: the shared values are bound once, before the rows (see _plan); elsewhere each
    # row carries them.
    shared_once: bool = False
    suffix: str = ""
    # PostgreSQL through psycopg: the COPY that loads the rows instead (see _plan).
    copy: str | None = None


@dataclass(frozen=True)
class Target:
    """The database that statements are prepared for: its dialect and how many values it binds."""

    dialect: Dialect
    max_values: int

    @classmethod
    def of(cls, conn: sa.Connection) -> Target:
        """The database ``conn`` is connected to."""
        return cls(conn.dialect, _max_values(conn))


@dataclass(frozen=True)
class Statement:
    """One SQL statement with its bound values, ready to run.

    With ``rows``, ``sql`` is a PostgreSQL ``COPY ... FROM STDIN`` and the rows are its data.
    """

    sql: str
    params: tuple[Any, ...]
    rows: Sequence[tuple[Any, ...]] | None = None


def append(
    conn: sa.Connection,
    table: sa.Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    shared: Mapping[str, Any] | None = None,
) -> None:
    """Insert ``rows`` (Python values in ``columns`` order) into ``table``, in ``conn``'s transaction.

    ``shared``: column -> value for columns that hold the same value in every row.
    """
    run(conn, insert_statements(Target.of(conn), table, columns, rows, shared=shared))


def run(conn: sa.Connection, statements: Iterable[Statement]) -> None:
    """Run prepared statements in ``conn``'s transaction, in order."""
    for statement in statements:
        if statement.rows is None:
            conn.exec_driver_sql(statement.sql, statement.params)
        else:
            _copy(conn, statement.sql, statement.rows)


def _copy(conn: sa.Connection, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """Load ``rows`` with a COPY on the connection's driver (psycopg), in its transaction.

    SQLAlchemy has no COPY: it goes to the driver connection, so echo and statement events
    do not see it. A refused row raises SQLAlchemy's DBAPIError, as a refused INSERT does.
    """
    driver = conn.connection.driver_connection
    dbapi = conn.dialect.loaded_dbapi
    try:
        with driver.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row)
    except dbapi.Error as exc:
        raise sa.exc.DBAPIError.instance(sql, None, exc, dbapi.Error, dialect=conn.dialect) from exc


def insert_statements(
    target: Target,
    table: sa.Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    shared: Mapping[str, Any] | None = None,
) -> list[Statement]:
    """The statements that insert ``rows`` into ``table`` (see :func:`append`)."""
    if not rows:
        return []
    return column_statements(
        target, table, dict(zip(columns, zip(*rows, strict=True), strict=True)), shared=shared
    )


def column_statements(
    target: Target,
    table: sa.Table,
    columns: Mapping[str, Sequence[Any]],
    *,
    shared: Mapping[str, Any] | None = None,
) -> list[Statement]:
    """The statements that insert rows given column by column (each column's values in row order).

    Column by column: one processor call per value and no per-row bookkeeping; the rows'
    values are laid out for the statements in one pass.
    """
    values = list(columns.values())
    count = len(values[0]) if values else 0
    if not count:
        return []
    dialect = target.dialect
    names = tuple(columns)
    for position, process in _converters(dialect, table, names):
        # Many values are None (no details, no synced values): convert it once.
        empty = process(None)
        values[position] = [empty if v is None else process(v) for v in values[position]]
    common = {name: _converted(dialect, table.c[name], value) for name, value in (shared or {}).items()}
    if dialect.name == "sqlite" and count > 1:
        # A column that holds one value in every row (a page's type, action, status, no
        # details) is bound once, like the shared values, instead of once per row.
        varying = [i for i, column in enumerate(values) if not _uniform(column)] or [0]
        common = {names[i]: values[i][0] for i in range(len(names)) if i not in varying} | common
        names, values = tuple(names[i] for i in varying), [values[i] for i in varying]
    plan = _plan(dialect, table, names, tuple(common), target.max_values)
    tail = list(common.values())
    if plan.copy is not None:
        return [Statement(plan.copy, (), list(zip(*values, *(repeat(v, count) for v in tail), strict=True)))]
    statements = []
    for start in range(0, count, plan.per_statement):
        end = min(count, start + plan.per_statement)
        parts = [column[start:end] for column in values]
        if plan.shared_once:
            head, rows = tuple(tail), zip(*parts, strict=True)
        else:
            head, rows = (), zip(*parts, *(repeat(value, end - start) for value in tail), strict=True)
        statements.append(
            Statement(
                plan.prefix + ", ".join([plan.row_sql] * (end - start)) + plan.suffix,
                (*head, *chain.from_iterable(rows)),
            )
        )
    return statements


# Values that compare equal only when they are the same value for the database: not floats
# (0.0 == -0.0) and not mixed types (1 == 1.0 == True), which the type check rules out.
_UNIFORM_TYPES = frozenset({str, int, bool, bytes, type(None)})


def _uniform(column: Sequence[Any]) -> bool:
    """Whether every value of ``column`` is the same value, of the same type."""
    first = column[0]
    kind = type(first)
    # Most columns differ from one row to the next: the last row usually tells.
    if kind not in _UNIFORM_TYPES or type(column[-1]) is not kind or column[-1] != first:
        return False
    return column.count(first) == len(column) and set(map(type, column)) == {kind}


def select_in(
    conn: sa.Connection,
    table: sa.Table,
    columns: Sequence[str],
    *,
    where: Mapping[str, Any],
    key: str,
    values: Iterable[Any],
) -> list[tuple[Any, ...]]:
    """``columns`` of the rows whose ``key`` is one of ``values`` and whose ``where`` columns equal theirs.

    The lookups of a page (links by CRM id) ask for a few thousand values at once; a plain
    ``IN`` of bound values, as many per statement as the database takes, costs SQLAlchemy
    nothing per value. The lists are padded to a few fixed sizes (with a repeated value,
    which matches nothing new) so that the driver reuses its prepared statements.
    """
    wanted = list(dict.fromkeys(values))
    if not wanted:
        return []
    dialect = conn.dialect
    fixed = tuple(_converted(dialect, table.c[name], value) for name, value in where.items())
    process = _processor(dialect, table.c[key].type)
    keys = [process(value) for value in wanted] if process is not None else wanted
    step = _max_values(conn) - len(fixed)
    found: list[tuple[Any, ...]] = []
    # The driver's type of each column, which some result processors need (PostgreSQL numerics).
    coltypes: list[Any] = [None] * len(columns)
    for start in range(0, len(keys), step):
        part = keys[start : start + step]
        size = min(step, 1 << max(3, (len(part) - 1).bit_length()))
        part += [part[-1]] * (size - len(part))
        select = _select(dialect, table, tuple(columns), tuple(where), key, size)
        params = (*fixed, *part)
        if select.aggregated is not None:
            rows, inexact = conn.exec_driver_sql(select.aggregated, params).one()
            if not inexact:
                found.extend(map(tuple, jsontext.loads(rows)))
                continue
        result = conn.exec_driver_sql(select.plain, params)
        coltypes = [description[1] for description in result.cursor.description]
        found.extend(result.fetchall())
    results = [
        (i, p)
        for i, (name, coltype) in enumerate(zip(columns, coltypes, strict=True))
        if (p := _result_processor(dialect, table.c[name].type, coltype))
    ]
    if not results or not found:
        return found
    values_by_column = [list(column) for column in zip(*found, strict=True)]
    for position, process in results:
        values_by_column[position] = [process(v) for v in values_by_column[position]]
    return list(zip(*values_by_column, strict=True))


def _converted(dialect: Dialect, column: sa.Column[Any], value: Any) -> Any:
    process = _processor(dialect, column.type)
    return process(value) if process is not None else value


@lru_cache(maxsize=512)
def _processor(dialect: Dialect, kind: sa.types.TypeEngine[Any]) -> Processor | None:
    process = kind.dialect_impl(dialect).bind_processor(dialect)
    if process is not None and isinstance(kind, sa.Date) and _writes_iso_dates(process):
        return _iso_dates(process)
    return process


# Dates whose text shows the format: padded month and day, a year below 1000.
_PROBE_DATES = (date(2001, 2, 3), date(987, 6, 5), date(9999, 12, 31))


def _writes_iso_dates(process: Processor) -> bool:
    """Whether ``process`` writes a date as date.isoformat() does (SQLite's default format)."""
    return all(process(probe) == probe.isoformat() for probe in _PROBE_DATES)


def _iso_dates(process: Processor) -> Processor:
    # SQLAlchemy's SQLite date processor formats through a dict of the parts; isoformat is
    # the same text, made in C, for every plain date (a pull writes one per dated record).
    def convert(value: Any) -> Any:
        return value.isoformat() if type(value) is date else process(value)

    return convert


@lru_cache(maxsize=512)
def _result_processor(dialect: Dialect, kind: sa.types.TypeEngine[Any], coltype: Any) -> Processor | None:
    return kind.dialect_impl(dialect).result_processor(dialect, coltype)


class _Select(NamedTuple):
    plain: str
    # SQLite: the same rows as one row of JSON text, and whether one of them holds a value
    # JSON would not carry exactly (then ``plain`` is run instead); None where not used.
    aggregated: str | None


@lru_cache(maxsize=256)
def _select(
    dialect: Dialect, table: sa.Table, columns: tuple[str, ...], where: tuple[str, ...], key: str, size: int
) -> _Select:
    marker = _marker(dialect)
    quote = dialect.identifier_preparer.quote
    names = [quote(name) for name in columns]
    conditions = [f"{quote(name)} = {marker}" for name in where]
    conditions.append(f"{quote(key)} IN ({', '.join([marker] * size)})")
    table_name = dialect.identifier_preparer.format_table(table)
    sql = f"SELECT {', '.join(names)} FROM {table_name} WHERE {' AND '.join(conditions)}"
    # Python's sqlite3 lets go of the GIL for every row it steps through and must take it
    # back: beside a thread holding the GIL (a page being decoded, the writer), each row of a
    # lookup waits its turn. 2,000 rows took 7 ms alone and 66-142 ms beside a busy thread;
    # as one row of JSON, 10 ms and 34 ms. JSON carries integers, text and NULL exactly, not
    # a REAL (15 digits) or a BLOB: columns of such types are read row by row, and should a
    # row hold one anyway (SQLite keeps a type per value), the plain select is run instead.
    if not (
        dialect.name == "sqlite"
        and sqlite3.sqlite_version_info >= _SQLITE_JSON
        and all(_exact_in_json(table.c[name].type) for name in columns)
    ):
        return _Select(sql, aggregated=None)
    odd = {name: f"typeof({name}) IN ('real', 'blob')" for name in names}
    exact = ", ".join(f"CASE WHEN {test} THEN NULL ELSE {name} END" for name, test in odd.items())
    inexact = " OR ".join(odd.values())
    return _Select(sql, f"SELECT json_group_array(json_array({exact})), max({inexact}) FROM ({sql})")


# The JSON functions are built into SQLite from 3.38 on.
_SQLITE_JSON = (3, 38, 0)


def _exact_in_json(kind: sa.types.TypeEngine[Any]) -> bool:
    """Whether SQLite stores ``kind`` as an integer or text (datetimes and JSON as text)."""
    if isinstance(kind, sa.TypeDecorator):
        kind = kind.impl_instance
    return isinstance(kind, (sa.Integer, sa.String, sa.JSON, sa.DateTime, sa.Date))


def _marker(dialect: Dialect) -> str:
    if dialect.paramstyle == "qmark":
        return "?"
    if dialect.paramstyle in ("format", "pyformat"):
        return "%s"
    raise NotImplementedError(f"bulk statements do not support the {dialect.paramstyle} parameter style")


@lru_cache(maxsize=256)
def _converters(
    dialect: Dialect, table: sa.Table, columns: tuple[str, ...]
) -> tuple[tuple[int, Processor], ...]:
    """(position, processor) of the ``columns`` whose values need converting."""
    return tuple(
        (i, process)
        for i, name in enumerate(columns)
        if (process := _processor(dialect, table.c[name].type)) is not None
    )


@lru_cache(maxsize=256)
def _plan(
    dialect: Dialect, table: sa.Table, columns: tuple[str, ...], shared: tuple[str, ...], limit: int
) -> _Plan:
    marker = _marker(dialect)
    quote = dialect.identifier_preparer.quote
    table_name = dialect.identifier_preparer.format_table(table)
    names = ", ".join(quote(name) for name in (*columns, *shared))
    row_sql = "(" + ", ".join([marker] * len(columns)) + ")"
    # PostgreSQL parses and plans a multi-row INSERT of thousands of bound values for every
    # page, and psycopg adapts each value on its own: a COPY of the same rows took a quarter
    # of the time and an eighth of the client's CPU (and fires the same triggers).
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        return _Plan("", row_sql, 1, copy=f"COPY {table_name} ({names}) FROM STDIN")
    if dialect.name == "sqlite" and shared:
        # The rows' own values from a VALUES list, the shared ones bound once: the driver
        # binds each value holding the GIL, and a page's rows share a third of theirs.
        selected = ", ".join([*(f"column{i + 1}" for i in range(len(columns))), *([marker] * len(shared))])
        return _Plan(
            prefix=f"INSERT INTO {table_name} ({names}) SELECT {selected} FROM (VALUES ",
            row_sql=row_sql,
            per_statement=max(1, min(_MAX_ROWS, (limit - len(shared)) // len(columns))),
            shared_once=True,
            suffix=")",
        )
    return _Plan(
        prefix=f"INSERT INTO {table_name} ({names}) VALUES ",
        row_sql="(" + ", ".join([marker] * (len(columns) + len(shared))) + ")",
        per_statement=max(1, min(_MAX_ROWS, limit // (len(columns) + len(shared)))),
    )


def _max_values(conn: sa.Connection) -> int:
    if conn.dialect.name == "postgresql":
        return _PG_MAX_VALUES
    if conn.dialect.name == "sqlite":
        raw = conn.connection.driver_connection
        if isinstance(raw, sqlite3.Connection):
            return raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return _DEFAULT_MAX_VALUES
