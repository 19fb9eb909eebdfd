"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from crmsync import jsontext
from crmsync.textcap import STORED, capped, capped_json


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime; SQLite keeps it naive, so it is made aware on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: crmsync stores only timezone-aware UTC times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


class CappedText(TypeDecorator[str]):
    """Text of errors and reasons, stored capped whoever writes it (see crmsync.textcap)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else capped(value)


class CappedJSON(TypeDecorator[Any]):
    """JSON details (a log entry's), stored with every string in them capped."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        # A pull logs thousands of small details a page: their encoded length, a quarter of
        # the cost of walking them, shows that none of their strings is long.
        if value is None or len(jsontext.dumps(value)) <= STORED:
            return value
        return capped_json(value)


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)
