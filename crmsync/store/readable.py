"""Reading platform rows when one of them may hold a value its column's type cannot read.

SQLite stores any text in a DATE or NUMERIC column (``'03/02/2024'``, ``'12,50'``), and
PostgreSQL keeps dates Python cannot hold (``'infinity'``). Such a value fails only when a
row is read, and it fails the whole query: one row would stop every record read with it.
Rows are read as usual; only a query that fails is read again in halves, down to the rows
that fail, and each of those is reported with its column and value. The normal path costs
nothing more; a bad row costs a few queries per halving.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from crmsync.textcap import preview

# What reading a value its type cannot hold raises: SQLAlchemy's result processors on
# SQLite (ValueError, TypeError, decimal errors) and the driver on PostgreSQL (DataError).
READ_ERRORS: tuple[type[Exception], ...] = (ValueError, TypeError, ArithmeticError, sa.exc.DataError)


@dataclass(frozen=True)
class Unreadable:
    """A platform row holding a value that cannot be read as its column's type."""

    platform_id: int
    column: str
    value: str
    expected: str
    reason: str

    @property
    def problem(self) -> str:
        """What is wrong and what to do, for a log entry and a failure."""
        why = f": {self.reason}" if self.reason else ""
        return (
            f"{self.column} holds {preview(self.value)}, which cannot be read as {self.expected}{why}; "
            "correct the value in the platform"
        )


def read_rows(
    conn: sa.Connection, table: sa.Table, ids: Sequence[int], *where: sa.ColumnElement[bool]
) -> tuple[dict[int, dict[str, Any]], dict[int, Unreadable]]:
    """Rows of ``table`` with these ids (and ``where``) by id, and the ids whose row cannot be read."""
    if not ids:
        return {}, {}
    try:
        rows = conn.execute(sa.select(table).where(table.c.id.in_(ids), *where)).all()
    except READ_ERRORS as exc:
        if len(ids) == 1:
            return {}, {int(ids[0]): _diagnose(conn, table, int(ids[0]), exc)}
        half = len(ids) // 2
        found, unreadable = read_rows(conn, table, ids[:half], *where)
        more, worse = read_rows(conn, table, ids[half:], *where)
        return {**found, **more}, {**unreadable, **worse}
    return {int(r.id): dict(r._mapping) for r in rows}, {}


def _diagnose(conn: sa.Connection, table: sa.Table, platform_id: int, error: Exception) -> Unreadable:
    """The first column of one row whose value cannot be read, with the value as stored."""
    where = table.c.id == platform_id
    for column in table.c:
        try:
            conn.execute(sa.select(column).where(where)).all()
        except READ_ERRORS as exc:
            raw = str(conn.execute(sa.select(sa.cast(column, sa.Text)).where(where)).scalar())
            return Unreadable(platform_id, column.name, raw, _expected(column.type), _reason(exc, raw))
    # Each value reads alone: name the row, and what reading it whole said.
    return Unreadable(platform_id, "a column", "?", "its type", _reason(error, ""))


def _reason(error: Exception, value: str) -> str:
    """What the reader said, when it adds to the value and its expected form."""
    text = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    # A TypeError speaks of Python's types, and most messages only quote the value again.
    if isinstance(error, TypeError) or (value and value in text):
        return ""
    return text


def _expected(column_type: sa.types.TypeEngine[Any]) -> str:
    """What a column's values must look like, in words."""
    if isinstance(column_type, sa.types.TypeDecorator):
        column_type = column_type.impl_instance
    python_type: type[Any] | None
    try:
        python_type = column_type.python_type
    except NotImplementedError:
        python_type = None
    if python_type is datetime.datetime:
        return "a date and time (YYYY-MM-DD HH:MM:SS, years 1 to 9999)"
    if python_type is datetime.date:
        return "a date (YYYY-MM-DD, years 1 to 9999)"
    if python_type is bool:
        return "true or false"
    if python_type in (Decimal, float, int):
        return "a number (digits and a decimal point)"
    return f"a {column_type}"
