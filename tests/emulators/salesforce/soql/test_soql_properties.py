"""Invariants over random rows and queries, checked against naive reference implementations."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simple_salesforce.format import format_soql, quote_soql_value
from soql_testkit import CATALOG, NOW, MemorySource, make_id

from crmsync.emulators.salesforce.soql import SoqlError, compile_query

Row = Mapping[str, Any]
Oracle = Callable[[Row], bool]

NAMES = ["Acme", "acme", "ACME West", "Beta", "béta", "O'Brien", "50% off", "a_b", "tab\there", "", None]
STAGES = ["Pledged", "Closed Won", "Prospecting", None]
AMOUNTS = [None, 0, 1.5, -2, 100, 100.0, 250.25]
DATES = [None, "2023-12-31", "2024-01-01", "2024-05-14", "2024-05-15"]
STAMPS = [
    None,
    "2023-12-31T23:59:59.999+0000",
    "2024-01-01T00:00:00.000+0000",
    "2024-05-15T13:30:00.000+0000",
    "2024-05-15T13:30:00.001+0000",
]


@st.composite
def opportunity_rows(draw: st.DrawFn) -> list[Row]:
    count = draw(st.integers(0, 25))
    return [
        {
            "Id": make_id("006", n),
            "IsDeleted": draw(st.booleans()),
            "Name": draw(st.sampled_from(NAMES)),
            "StageName": draw(st.sampled_from(STAGES)),
            "Amount": draw(st.sampled_from(AMOUNTS)),
            "CloseDate": draw(st.sampled_from(DATES)),
            "IsWon": draw(st.sampled_from([True, False])),
            "SystemModstamp": draw(st.sampled_from(STAMPS)),
        }
        for n in draw(st.permutations(range(count)))
    ]


# -- reference semantics, written plainly and independently of the engine ------------------------


def _text(value: Any) -> str | None:
    return value.casefold() if value else None  # '' is null


def _instant(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _typed(op: str, read: Callable[[Row], Any], literal: Any) -> Oracle:
    if op == "!=":
        return lambda row: read(row) is None or read(row) != literal
    return lambda row: read(row) is not None and _CMP[op](read(row), literal)


OPS = st.sampled_from(["=", "!=", "<", "<=", ">", ">="])


@st.composite
def text_condition(draw: st.DrawFn) -> tuple[str, Oracle]:
    field = draw(st.sampled_from(["Name", "StageName"]))
    pool = NAMES if field == "Name" else STAGES
    value = draw(st.sampled_from([v for v in pool if v]))
    value = "".join(c.upper() if draw(st.booleans()) else c for c in value)
    op = draw(OPS)
    return f"{field} {op} {quote_soql_value(value)}", _typed(
        op, lambda row: _text(row[field]), value.casefold()
    )


@st.composite
def like_condition(draw: st.DrawFn) -> tuple[str, Oracle]:
    parts = draw(
        st.lists(st.sampled_from(["%", "_", "a", "A", "cme", "%", "'", "b", " ", "_b", "50% "]), max_size=5)
    )
    soql = "".join(part if part in ("%", "_") else format_soql("{:like}", part) for part in parts)
    regex = re.compile(
        "".join({"%": ".*", "_": "."}.get(part, re.escape(part)) for part in parts), re.IGNORECASE | re.DOTALL
    )
    return f"Name LIKE '{soql}'", lambda row: bool(row["Name"]) and regex.fullmatch(row["Name"]) is not None


@st.composite
def number_condition(draw: st.DrawFn) -> tuple[str, Oracle]:
    value = draw(st.sampled_from([v for v in AMOUNTS if v is not None] + [-1, 99.99]))
    op = draw(OPS)
    return f"Amount {op} {value}", _typed(op, lambda row: row["Amount"], value)


@st.composite
def date_condition(draw: st.DrawFn) -> tuple[str, Oracle]:
    value = draw(st.sampled_from([v for v in DATES if v] + ["2024-03-01"]))
    op = draw(OPS)
    return f"CloseDate {op} {value}", _typed(op, lambda row: row["CloseDate"], value)


@st.composite
def datetime_condition(draw: st.DrawFn) -> tuple[str, Oracle]:
    base = _instant(draw(st.sampled_from([v for v in STAMPS if v])))
    instant = base + timedelta(milliseconds=draw(st.sampled_from([-1, 0, 0, 1, 3600_000])))
    zone = timezone(timedelta(minutes=draw(st.sampled_from([0, 0, 120, -480, 330]))))
    local = instant.astimezone(zone)
    text = local.isoformat(timespec="milliseconds")
    if local.utcoffset() == timedelta(0) and draw(st.booleans()):
        text = text.replace("+00:00", "Z")
    op = draw(OPS)
    return f"SystemModstamp {op} {text}", _typed(
        op, lambda row: _instant(row["SystemModstamp"]) if row["SystemModstamp"] else None, instant
    )


@st.composite
def null_or_bool_condition(draw: st.DrawFn) -> tuple[str, Oracle]:
    field = draw(st.sampled_from(["Name", "StageName", "Amount", "CloseDate", "SystemModstamp", "IsWon"]))
    if field == "IsWon":
        value = draw(st.booleans())
        return f"IsWon = {str(value).lower()}", lambda row: row["IsWon"] is value
    op = draw(st.sampled_from(["=", "!="]))
    is_null: Oracle = lambda row: row[field] is None or row[field] == ""  # noqa: E731
    return f"{field} {op} null", is_null if op == "=" else (lambda row: not is_null(row))


@st.composite
def in_condition(draw: st.DrawFn) -> tuple[str, Oracle]:
    values = draw(st.lists(st.sampled_from([v for v in STAGES if v]), min_size=1, max_size=3))
    negate = draw(st.booleans())
    soql = f"StageName {'NOT IN' if negate else 'IN'} {quote_soql_value(values)}"
    wanted = {v.casefold() for v in values}
    return soql, lambda row: (_text(row["StageName"]) in wanted) != negate


LEAVES = st.one_of(
    text_condition(),
    like_condition(),
    number_condition(),
    date_condition(),
    datetime_condition(),
    null_or_bool_condition(),
    in_condition(),
)


def _combine(children: st.SearchStrategy[tuple[str, Oracle]]) -> st.SearchStrategy[tuple[str, Oracle]]:
    def join(joiner: str, items: list[tuple[str, Oracle]]) -> tuple[str, Oracle]:
        text = f" {joiner} ".join(f"({soql})" for soql, _ in items)
        oracles = [oracle for _, oracle in items]
        if joiner == "AND":
            return text, lambda row: all(oracle(row) for oracle in oracles)
        return text, lambda row: any(oracle(row) for oracle in oracles)

    def negate(item: tuple[str, Oracle]) -> tuple[str, Oracle]:
        soql, oracle = item
        return f"NOT ({soql})", lambda row: not oracle(row)

    return st.one_of(
        st.builds(join, st.sampled_from(["AND", "OR"]), st.lists(children, min_size=2, max_size=3)),
        st.builds(negate, children),
    )


CONDITIONS = st.recursive(LEAVES, _combine, max_leaves=6)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(opportunity_rows(), CONDITIONS, st.booleans())
def test_run_returns_exactly_what_a_naive_filter_returns(
    rows: list[Row], condition: tuple[str, Oracle], include_deleted: bool
) -> None:
    soql, oracle = condition
    source = MemorySource({"Opportunity": rows})
    query = compile_query(f"SELECT Id FROM Opportunity WHERE {soql}", CATALOG)
    found = [row["Id"] for row in query.run(source, include_deleted=include_deleted, now=NOW)]
    expected = [row["Id"] for row in rows if (include_deleted or not row["IsDeleted"]) and oracle(row)]
    assert found == expected  # same rows, in scan order


# -- ORDER BY ----------------------------------------------------------------------------------

SORTABLE = ["Name", "StageName", "Amount", "CloseDate", "SystemModstamp", "IsWon", "Id"]


@st.composite
def order_items(draw: st.DrawFn) -> list[tuple[str, bool, bool]]:
    fields = draw(st.lists(st.sampled_from(SORTABLE), min_size=1, max_size=3, unique=True))
    items = []
    for field in fields:
        descending = draw(st.booleans())
        nulls_first = draw(st.sampled_from([not descending, True, False]))
        items.append((field, descending, nulls_first))
    return items


def _compare(a: Row, b: Row, items: list[tuple[str, bool, bool]]) -> int:
    for field, descending, nulls_first in items:
        x, y = a[field], b[field]
        if field in ("Name", "StageName"):
            x, y = _text(x), _text(y)
        if x is None or y is None:
            if x is None and y is None:
                continue
            return (-1 if x is None else 1) * (1 if nulls_first else -1)
        if x != y:
            return (-1 if x < y else 1) * (-1 if descending else 1)
    return 0


@settings(max_examples=300)
@given(opportunity_rows(), order_items(), st.integers(0, 30), st.integers(0, 5))
def test_order_by_output_is_sorted_and_complete(
    rows: list[Row], items: list[tuple[str, bool, bool]], limit: int, offset: int
) -> None:
    clause = ", ".join(
        f"{field} {'DESC' if desc else 'ASC'} NULLS {'FIRST' if first else 'LAST'}"
        for field, desc, first in items
    )
    source = MemorySource({"Opportunity": rows})
    query = compile_query(f"SELECT Id FROM Opportunity ORDER BY {clause}", CATALOG)
    found = query.run(source, include_deleted=False, now=NOW)
    live = [row for row in rows if not row["IsDeleted"]]
    assert sorted(row["Id"] for row in found) == sorted(row["Id"] for row in live)
    for before, after in itertools.pairwise(found):
        assert _compare(before, after, items) <= 0
    # Stable: equal keys keep scan order, so the result equals a stable reference sort.
    expected = sorted(live, key=functools.cmp_to_key(functools.partial(_compare, items=items)))
    assert [row["Id"] for row in found] == [row["Id"] for row in expected]
    paged = compile_query(
        f"SELECT Id FROM Opportunity ORDER BY {clause} LIMIT {limit} OFFSET {offset}", CATALOG
    )
    assert paged.run(source, include_deleted=False, now=NOW) == found[offset : offset + limit]


# -- escaping ----------------------------------------------------------------------------------


@settings(max_examples=300)
@given(st.text(min_size=1, max_size=30), st.text(max_size=10))
def test_an_escaped_string_finds_its_record(name: str, other: str) -> None:
    wanted, decoy = make_id("001", 1), make_id("001", 2)
    source = MemorySource(
        {"Account": [{"Id": wanted, "Name": name}, {"Id": decoy, "Name": name + other + "x"}]}
    )
    equal = compile_query(format_soql("SELECT Id FROM Account WHERE Name = {}", name), CATALOG)
    assert [row["Id"] for row in equal.run(source, include_deleted=False, now=NOW)] == [wanted]
    like = compile_query(format_soql("SELECT Id FROM Account WHERE Name LIKE '{:like}'", name), CATALOG)
    assert [row["Id"] for row in like.run(source, include_deleted=False, now=NOW)] == [wanted]
    prefix = compile_query(format_soql("SELECT Id FROM Account WHERE Name LIKE '{:like}%'", name), CATALOG)
    assert [row["Id"] for row in prefix.run(source, include_deleted=False, now=NOW)] == [wanted, decoy]


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2999, 1, 1), timezones=st.just(UTC)))
def test_simple_salesforce_datetimes_compare_as_instants(instant: datetime) -> None:
    stamp = instant.replace(microsecond=0)
    row_value = f"{stamp:%Y-%m-%dT%H:%M:%S}.000+0000"
    source = MemorySource({"Account": [{"Id": make_id("001", 1), "SystemModstamp": row_value}]})
    for op, expected in (("=", 1), (">", 0), ("<", 0), (">=", 1)):
        soql = format_soql(f"SELECT Id FROM Account WHERE SystemModstamp {op} {{}}", stamp)
        assert len(compile_query(soql, CATALOG).run(source, include_deleted=False, now=NOW)) == expected


# -- robustness --------------------------------------------------------------------------------

TOKENS = [
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "LIMIT", "OFFSET", "DESC",
    "NULLS", "FIRST", "Id", "Name", "Account", "Contact", "Account.Name", "AccountId", "COUNT()", "(", ")",
    ",", "=", "!=", "<", ">=", "'x'", "'a\\'b'", "5", "-1.5", "null", "true", "TODAY", "LAST_N_DAYS:3",
    "2024-01-01", "2024-01-01T00:00:00Z", "INCLUDES", "'", "\\", ".", ":", "*",
]  # fmt: skip


ERROR_CODES = {
    "MALFORMED_QUERY",
    "INVALID_FIELD",
    "INVALID_TYPE",
    "INVALID_QUERY_FILTER_OPERATOR",
    "NUMBER_OUTSIDE_VALID_RANGE",
}


@settings(max_examples=500)
@given(st.lists(st.sampled_from(TOKENS), max_size=14), st.text(max_size=8))
def test_any_text_compiles_or_raises_soql_error(tokens: list[str], noise: str) -> None:
    for text in (
        " ".join(tokens),
        " ".join(tokens) + noise,
        "SELECT Id FROM Account WHERE " + " ".join(tokens),
    ):
        try:
            query = compile_query(text, CATALOG)
        except SoqlError as error:
            failure: SoqlError | None = error
        else:
            failure = None
            query.run(MemorySource(), include_deleted=True, now=NOW)
        if failure is not None:
            assert failure.error_code in ERROR_CODES
            assert failure.message
