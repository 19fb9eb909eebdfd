"""The syntax tree of a SOQL query, as written (names not yet checked against any schema)."""

from __future__ import annotations

from dataclasses import dataclass

from .lexer import Token


@dataclass(frozen=True, slots=True)
class FieldRef:
    """A field path as written: ``Name``, ``Account.Name``, ``Account.Owner.Email``."""

    parts: tuple[str, ...]
    pos: int

    @property
    def text(self) -> str:
        """The path as written, dotted."""
        return ".".join(self.parts)


@dataclass(frozen=True, slots=True)
class Literal:
    """A plain value: STRING, NUMBER, DATE or DATETIME token, or true/false/null."""

    token: Token

    @property
    def pos(self) -> int:
        """Offset of the value in the query text."""
        return self.token.pos


@dataclass(frozen=True, slots=True)
class DateLiteral:
    """A relative date literal: ``TODAY``, ``LAST_N_DAYS:30``..."""

    name: str
    n: int | None
    pos: int


Value = Literal | DateLiteral


@dataclass(frozen=True, slots=True)
class Comparison:
    """``field op value``; op is one of = != < <= > >= LIKE IN, NOT IN, INCLUDES, EXCLUDES."""

    field: FieldRef
    op: str
    values: tuple[Value, ...]  # one value, except for the list operators


@dataclass(frozen=True, slots=True)
class And:
    """All conditions hold."""

    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """At least one condition holds."""

    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """The condition does not hold."""

    item: Condition


Condition = Comparison | And | Or | Not

LIST_OPERATORS = frozenset({"IN", "NOT IN", "INCLUDES", "EXCLUDES"})


@dataclass(frozen=True, slots=True)
class OrderItem:
    """One ORDER BY key with its direction and where nulls go."""

    field: FieldRef
    descending: bool
    nulls_first: bool


@dataclass(frozen=True, slots=True)
class Query:
    """A whole SELECT statement."""

    fields: tuple[FieldRef, ...]
    count_only: bool
    object_name: str
    object_pos: int
    where: Condition | None
    order_by: tuple[OrderItem, ...]
    limit: int | None
    offset: int | None
    offset_pos: int
