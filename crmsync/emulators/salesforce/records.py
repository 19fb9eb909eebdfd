"""Compact record rows: a shared field layout per object and one value list per record.

An NPSP Contact has about a hundred fields and a 100,000-record org must stay small in
memory, so a row is a read-only ``Mapping`` over a list instead of a dict of its own; the
SOQL engine reads it like any mapping keyed by canonical field API names.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from crmsync.catalogs import ObjectDef


class Layout:
    """The field order of one object: API name -> position in every row's value list."""

    __slots__ = ("index", "names", "object_name")

    def __init__(self, obj: ObjectDef) -> None:
        self.object_name = obj.name
        self.names: tuple[str, ...] = tuple(obj.fields)
        self.index: dict[str, int] = {name: position for position, name in enumerate(self.names)}

    def new_row(self, values: Mapping[str, Any]) -> Row:
        """A row with ``values`` (canonical names) and None everywhere else."""
        row = Row(self, [None] * len(self.names))
        for name, value in values.items():
            row.cells[self.index[name]] = value
        return row


class Row(Mapping[str, Any]):
    """One record: every field of its object, None when unset, JSON-ready values."""

    __slots__ = ("cells", "layout")

    def __init__(self, layout: Layout, cells: list[Any]) -> None:
        self.layout = layout
        self.cells = cells

    def __getitem__(self, key: str) -> Any:
        return self.cells[self.layout.index[key]]

    def get(self, key: str, default: Any = None) -> Any:
        """The value of field ``key``, or ``default`` when the object has no such field."""
        position = self.layout.index.get(key)
        return default if position is None else self.cells[position]

    def __contains__(self, key: object) -> bool:
        return key in self.layout.index

    def __iter__(self) -> Iterator[str]:
        return iter(self.layout.names)

    def __len__(self) -> int:
        return len(self.layout.names)

    def __repr__(self) -> str:
        return f"Row({self.layout.object_name}, {self.get('Id')!r})"

    def set(self, key: str, value: Any) -> None:
        """Store ``value`` in field ``key`` (the org's own writes only)."""
        self.cells[self.layout.index[key]] = value

    def copy(self) -> Row:
        """An independent copy, for changes that may be rolled back."""
        return Row(self.layout, list(self.cells))

    def to_dict(self, *, skip_none: bool = False) -> dict[str, Any]:
        """A plain dict of the row, optionally without unset fields."""
        if skip_none:
            return {
                name: value
                for name, value in zip(self.layout.names, self.cells, strict=True)
                if value is not None
            }
        return dict(zip(self.layout.names, self.cells, strict=True))
