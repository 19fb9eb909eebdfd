"""A compiled query: run it over a record source, render its rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from itertools import islice
from typing import Any, Protocol

from .filters import Filter, RunContext
from .ordering import SortKey, sort_rows
from .paths import Fetch, Hop, Row
from .render import Renderer


class RecordSource(Protocol):
    """Where a query reads records: the emulator's record store, or a test double."""

    def scan(self, object_name: str) -> Iterable[Mapping[str, Any]]:
        """Every row of the object, soft-deleted ones included (``IsDeleted`` true)."""
        ...

    def get(self, object_name: str, record_id: str) -> Mapping[str, Any] | None:
        """One row by its 18-character Id, deleted or not; None when there is none."""
        ...


class CompiledQuery:
    """A SOQL statement parsed and checked against a catalog, ready to run any number of times."""

    def __init__(
        self,
        *,
        object_name: str,
        count_only: bool,
        where: Filter | None,
        order_by: Sequence[SortKey],
        limit: int | None,
        offset: int | None,
        renderer: Renderer,
        prefixes: Mapping[str, str],
    ) -> None:
        self.object_name = object_name
        self.count_only = count_only
        self._where = where
        self._order_by = tuple(order_by)
        self._limit = limit
        self._offset = offset or 0
        self._renderer = renderer
        self._prefixes = prefixes  # key prefix -> object, to type the target of a polymorphic id

    def __repr__(self) -> str:
        return f"<CompiledQuery {self.object_name}{' COUNT()' if self.count_only else ''}>"

    def run(self, source: RecordSource, *, include_deleted: bool, now: datetime) -> list[Mapping[str, Any]]:
        """The matching rows, filtered, ordered, then OFFSET and LIMIT applied."""
        today = (now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)).date()
        fetch = self._fetcher(source)
        test = None if self._where is None else self._where.bind(RunContext(fetch, today))
        rows: Iterable[Row] = source.scan(self.object_name)
        if not include_deleted:
            rows = (row for row in rows if not row.get("IsDeleted"))
        if test is not None:
            rows = filter(test, rows)
        stop = None if self._limit is None else self._offset + self._limit
        if not self._order_by:
            # Without ORDER BY the scan order stands, so stop reading once the page is full.
            return list(islice(rows, self._offset, stop))
        return sort_rows(list(rows), self._order_by, fetch)[self._offset : stop]

    def render(self, row: Mapping[str, Any], source: RecordSource, *, api_version: str) -> dict[str, Any]:
        """``row`` as the REST query returns it: attributes, then the selected fields in SELECT order."""

        def lookup(hop: Hop, parent_id: str) -> tuple[str, Row] | None:
            object_name = self._target(hop, parent_id)
            parent = None if object_name is None else source.get(object_name, parent_id)
            return None if parent is None or object_name is None else (object_name, parent)

        return self._renderer.render(row, lookup, api_version)

    def _target(self, hop: Hop, parent_id: str) -> str | None:
        """The object a reference value points at (by key prefix when the lookup is polymorphic)."""
        if len(hop.targets) == 1:
            return hop.targets[0]
        found = self._prefixes.get(parent_id[:3])
        return found if found in hop.targets else None

    def _fetcher(self, source: RecordSource) -> Fetch:
        """Parent rows for filters and sort keys, each fetched at most once per run."""
        cache: dict[tuple[str, str], Row | None] = {}
        get = source.get

        def fetch(hop: Hop, parent_id: str) -> Row | None:
            object_name = self._target(hop, parent_id)
            if object_name is None:
                return None
            key = (object_name, parent_id)
            try:
                return cache[key]
            except KeyError:
                found = cache[key] = get(object_name, parent_id)
                return found

        return fetch
