"""WHERE conditions compiled into closures over rows.

A compiled condition is a small plan (``Filter``) that is *bound* once per run, which is when
the parent-row fetcher and today's date become known; binding yields a plain ``row -> bool``
closure, so no syntax tree is walked per row.

SOQL logic is two-valued: a null field simply fails ``=``, ``<``, ``LIKE``, ``IN``, INCLUDES
and passes their negations (``!=``, ``NOT IN``, EXCLUDES), as Salesforce returns null rows
for ``Name != 'x'``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from .dates import day_start, literal_range
from .operands import DateRange, Kind
from .paths import Fetch, FieldPath, Row, getter

ValueTest = Callable[[Any], bool]
RowTest = Callable[[Row], bool]
# Builds a value test for the day a run happens on (only date literals care which day it is).
TestFactory = Callable[[date], ValueTest]

_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True, slots=True)
class RunContext:
    """What a run supplies to bound filters: parent rows and the current UTC day."""

    fetch: Fetch
    today: date


class Filter(Protocol):
    """A compiled WHERE condition, waiting for a run to bind it."""

    def bind(self, ctx: RunContext) -> RowTest: ...


@dataclass(frozen=True, slots=True)
class FieldFilter:
    """One comparison: read a field path, test its value."""

    path: FieldPath
    make_test: TestFactory

    def bind(self, ctx: RunContext) -> RowTest:
        test = self.make_test(ctx.today)
        if not self.path.hops:
            name = self.path.field.name
            return lambda row: test(row.get(name))
        read = getter(self.path, ctx.fetch)
        return lambda row: test(read(row))


@dataclass(frozen=True, slots=True)
class AllOf:
    """AND of its items, short-circuiting in written order."""

    items: tuple[Filter, ...]

    def bind(self, ctx: RunContext) -> RowTest:
        tests = [item.bind(ctx) for item in self.items]
        if len(tests) == 2:
            first, second = tests
            return lambda row: first(row) and second(row)
        return lambda row: all(test(row) for test in tests)


@dataclass(frozen=True, slots=True)
class AnyOf:
    """OR of its items, short-circuiting in written order."""

    items: tuple[Filter, ...]

    def bind(self, ctx: RunContext) -> RowTest:
        tests = [item.bind(ctx) for item in self.items]
        if len(tests) == 2:
            first, second = tests
            return lambda row: first(row) or second(row)
        return lambda row: any(test(row) for test in tests)


@dataclass(frozen=True, slots=True)
class Negation:
    """NOT of its item."""

    item: Filter

    def bind(self, ctx: RunContext) -> RowTest:
        test = self.item.bind(ctx)
        return lambda row: not test(row)


# -- value tests ---------------------------------------------------------------------------------


def fixed(test: ValueTest) -> TestFactory:
    """A factory for a test that does not depend on the day."""
    return lambda _today: test


def _normalizer(kind: Kind) -> Callable[[Any], Any]:
    """Maps a row value to the form operands of ``kind`` take (None for null)."""
    if kind is Kind.TEXT:
        return lambda v: v.casefold() if v else None
    if kind is Kind.MULTI:
        return lambda v: frozenset(part.casefold() for part in v.split(";")) if v else None
    if kind is Kind.BOOL:
        return bool  # Salesforce checkboxes are never null; a missing value reads as false
    return lambda v: None if v is None or v == "" else v


def compare_test(kind: Kind, op: str, value: Any) -> TestFactory:
    """The test for ``field <op> value`` (op one of = != < <= > >=) on a field of ``kind``."""
    if isinstance(value, DateRange):
        return _range_test(kind, op, value)
    norm = _normalizer(kind)
    if value is None:
        if op == "=":
            return fixed(lambda v: norm(v) is None)
        if op == "!=":
            return fixed(lambda v: norm(v) is not None)
        return fixed(lambda v: False)  # ordering against null matches nothing
    if kind is Kind.TEXT:
        return fixed(_text_test(op, value))
    if kind in (Kind.ID, Kind.NUMBER, Kind.DATE, Kind.DATETIME):
        # Row values are already in the operand's form (canonical strings, numbers): compare raw.
        return fixed(_raw_test(op, value))
    if op == "=":
        return fixed(lambda v: norm(v) == value)
    if op == "!=":
        return fixed(lambda v: norm(v) != value)
    ordering = _ORDERINGS[op]
    return fixed(lambda v: (n := norm(v)) is not None and ordering(n, value))


def _text_test(op: str, value: str) -> ValueTest:
    folded = value.casefold()
    if op == "=":
        return lambda v: v is not None and (v == value or v.casefold() == folded)
    if op == "!=":
        return lambda v: not v or (v != value and v.casefold() != folded)
    ordering = _ORDERINGS[op]
    return lambda v: bool(v) and ordering(v.casefold(), folded)


def _raw_test(op: str, value: Any) -> ValueTest:
    if op == "=":
        return lambda v: v == value
    if op == "!=":
        return lambda v: v != value
    if op == "<":
        return lambda v: v is not None and v < value
    if op == "<=":
        return lambda v: v is not None and v <= value
    if op == ">":
        return lambda v: v is not None and v > value
    return lambda v: v is not None and v >= value


def _range_test(kind: Kind, op: str, value: DateRange) -> TestFactory:
    """``=`` is within the literal's range, ``<`` before its start, ``>`` after its end."""

    def make(today: date) -> ValueTest:
        start, end = literal_range(value.name, value.n, today)
        lo, hi = (
            (day_start(start), day_start(end))
            if kind is Kind.DATETIME
            else (start.isoformat(), end.isoformat())
        )
        if op == "=":
            return lambda v: bool(v) and lo <= v < hi
        if op == "!=":
            return lambda v: not v or not lo <= v < hi
        if op == "<":
            return lambda v: bool(v) and v < lo
        if op == "<=":
            return lambda v: bool(v) and v < hi
        if op == ">":
            return lambda v: bool(v) and v >= hi
        return lambda v: bool(v) and v >= lo

    return make


def like_test(pattern: re.Pattern[str] | None) -> TestFactory:
    """LIKE: a case-insensitive full match; ``LIKE null`` behaves as ``= null``."""
    if pattern is None:
        return fixed(lambda v: not v)
    match = pattern.fullmatch
    return fixed(lambda v: bool(v) and match(v) is not None)


def in_test(kind: Kind, values: Sequence[Any], negate: bool) -> TestFactory:
    """IN / NOT IN over a literal list (nulls allowed; date literals mean 'within the range')."""
    if any(isinstance(value, DateRange) for value in values):
        factories = [compare_test(kind, "=", value) for value in values]

        def make(today: date) -> ValueTest:
            tests = [factory(today) for factory in factories]
            return lambda v: any(test(v) for test in tests) != negate

        return make
    norm = _normalizer(kind)
    members = frozenset(
        value.casefold() if kind is Kind.TEXT else value for value in values if value is not None
    )
    has_null = any(value is None for value in values)

    def contains(v: Any) -> bool:
        n = norm(v)
        return has_null if n is None else n in members

    if negate:
        return fixed(lambda v: not contains(v))
    return fixed(contains)


def includes_test(values: Sequence[frozenset[str] | None], negate: bool) -> TestFactory:
    """INCLUDES / EXCLUDES on a multi-select picklist: ``'a;b'`` needs both a and b."""
    wanted = [value for value in values if value]

    def includes(v: Any) -> bool:
        if not v:
            return False
        chosen = frozenset(part.casefold() for part in v.split(";"))
        return any(value <= chosen for value in wanted)

    if negate:
        return fixed(lambda v: not includes(v))
    return fixed(includes)
