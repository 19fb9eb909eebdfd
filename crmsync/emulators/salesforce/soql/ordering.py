"""ORDER BY: stable sorts, one pass per key, nulls placed as Salesforce places them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .paths import Fetch, FieldPath, Row, getter


@dataclass(frozen=True, slots=True)
class SortKey:
    """One ORDER BY item, checked against the schema."""

    path: FieldPath
    casefold: bool  # text sorts case-insensitively, as Salesforce's collation does
    descending: bool
    nulls_first: bool


def sort_rows(rows: list[Row], keys: Sequence[SortKey], fetch: Fetch) -> list[Row]:
    """``rows`` ordered by ``keys``; ties keep their scan order.

    One stable pass per key, least significant first. Each pass reads the key's values once
    into a list and sorts row indices by it with a C-level key function, and sets null rows
    apart instead of wrapping every value in a (flag, value) tuple: several times faster than
    a composite Python key on the 40,000-row pages a sync engine asks for.
    """
    for key in reversed(keys):
        if key.path.hops:
            read = getter(key.path, fetch)
            values = [read(row) for row in rows]
        else:
            name = key.path.field.name
            values = [row.get(name) for row in rows]
        if key.casefold:
            values = [value.casefold() if value else None for value in values]
        present = [index for index, value in enumerate(values) if value is not None]
        present.sort(key=values.__getitem__, reverse=key.descending)
        if len(present) == len(rows):
            order = present
        else:
            nulls = [index for index, value in enumerate(values) if value is None]
            order = nulls + present if key.nulls_first else present + nulls
        rows = [rows[index] for index in order]
    return rows
