"""ORDER BY with nulls and several keys, through relationships; LIMIT and OFFSET."""

from __future__ import annotations

from typing import Any

import pytest
from soql_testkit import MemorySource, ids, make_id

A = [make_id("001", n) for n in range(6)]
U1, U2 = make_id("005", 1), make_id("005", 2)


@pytest.fixture
def source() -> MemorySource:
    rows: list[dict[str, Any]] = [
        {"Id": A[0], "Name": "beta", "AnnualRevenue": 10.0, "Industry": "Banking", "OwnerId": U2},
        {"Id": A[1], "Name": "Alpha", "AnnualRevenue": None, "Industry": "Banking", "OwnerId": U1},
        {"Id": A[2], "Name": "alpha", "AnnualRevenue": 5.0, "Industry": None, "OwnerId": None},
        {"Id": A[3], "Name": "Gamma", "AnnualRevenue": 10.0, "Industry": "Education", "OwnerId": U1},
        {"Id": A[4], "Name": None, "AnnualRevenue": 1.0, "Industry": "Education", "OwnerId": U2},
        {"Id": A[5], "Name": "Deleted", "AnnualRevenue": 0.0, "IsDeleted": True},
    ]
    # Stored out of Id order, so that ties visibly keep scan order.
    return MemorySource(
        {
            "Account": [rows[3], rows[0], rows[4], rows[1], rows[5], rows[2]],
            "User": [{"Id": U1, "Name": "Zed"}, {"Id": U2, "Name": "Amy"}],
        }
    )


def order(clause: str, source: MemorySource, *, include_deleted: bool = False) -> list[int]:
    found = ids(f"SELECT Id FROM Account {clause}", source, include_deleted=include_deleted)
    return [A.index(record_id) for record_id in found]


def test_no_order_by_keeps_scan_order(source: MemorySource) -> None:
    assert order("", source) == [3, 0, 4, 1, 2]


def test_ascending_puts_nulls_first(source: MemorySource) -> None:
    assert order("ORDER BY AnnualRevenue", source) == [1, 4, 2, 3, 0]  # 10.0 tie keeps scan order


def test_descending_puts_nulls_last(source: MemorySource) -> None:
    assert order("ORDER BY AnnualRevenue DESC", source) == [3, 0, 2, 4, 1]


def test_explicit_nulls(source: MemorySource) -> None:
    assert order("ORDER BY AnnualRevenue ASC NULLS LAST", source) == [4, 2, 3, 0, 1]
    assert order("ORDER BY AnnualRevenue DESC NULLS FIRST", source) == [1, 3, 0, 2, 4]


def test_text_sorts_case_insensitively(source: MemorySource) -> None:
    assert order("ORDER BY Name", source) == [4, 1, 2, 0, 3]  # Alpha/alpha tie keeps scan order


def test_id_sorts_by_its_string(source: MemorySource) -> None:
    assert order("ORDER BY Id", source) == [0, 1, 2, 3, 4]
    assert order("ORDER BY Id DESC", source) == [4, 3, 2, 1, 0]


def test_several_keys_same_direction(source: MemorySource) -> None:
    assert order("ORDER BY Industry, AnnualRevenue", source) == [2, 1, 0, 4, 3]


def test_several_keys_mixed_directions(source: MemorySource) -> None:
    assert order("ORDER BY Industry DESC, AnnualRevenue DESC NULLS FIRST, Id", source) == [3, 4, 1, 0, 2]
    assert order("ORDER BY AnnualRevenue DESC, Id DESC", source) == [3, 0, 2, 4, 1]


def test_order_by_parent_field(source: MemorySource) -> None:
    # Owner names: U1 = Zed, U2 = Amy; A[2] has no owner (null first).
    assert order("ORDER BY Owner.Name, Id", source) == [2, 0, 4, 1, 3]
    assert order("ORDER BY Owner.Name DESC, Id", source) == [1, 3, 0, 4, 2]


def test_deleted_rows_sort_in_when_included(source: MemorySource) -> None:
    assert order("ORDER BY AnnualRevenue NULLS LAST", source, include_deleted=True) == [5, 4, 2, 3, 0, 1]


def test_limit_and_offset(source: MemorySource) -> None:
    assert order("ORDER BY Id LIMIT 2", source) == [0, 1]
    assert order("ORDER BY Id LIMIT 2 OFFSET 2", source) == [2, 3]
    assert order("ORDER BY Id OFFSET 3", source) == [3, 4]
    assert order("ORDER BY Id LIMIT 10 OFFSET 10", source) == []
    assert order("ORDER BY Id LIMIT 0", source) == []
    assert order("LIMIT 2 OFFSET 1", source) == [0, 4]  # without ORDER BY: scan order


def test_limit_applies_after_where_and_order(source: MemorySource) -> None:
    assert order("WHERE AnnualRevenue != null ORDER BY AnnualRevenue DESC LIMIT 2", source) == [3, 0]


def test_count_runs_like_a_select(source: MemorySource) -> None:
    assert len(ids("SELECT COUNT() FROM Account WHERE Industry = 'Banking'", source)) == 2
