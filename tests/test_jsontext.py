"""crmsync.jsontext: orjson where it can, the standard library's answers where it cannot."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmsync import jsontext

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_what_dumps_writes_loads_reads_back(value: Any) -> None:
    assert jsontext.loads(jsontext.dumps(value)) == value


@given(json_values)
def test_loads_reads_what_the_standard_library_writes(value: Any) -> None:
    assert jsontext.loads(json.dumps(value)) == value


@pytest.mark.parametrize("number", [2**64, -(2**63) - 1, 10**30, -(10**19)])
def test_integers_beyond_64_bits_decode_exactly(number: int) -> None:
    assert jsontext.loads(f'{{"n": {number}}}'.encode()) == {"n": number}
    assert jsontext.loads(f"[{number}]") == [number]


def test_nan_and_infinity_still_decode() -> None:
    assert math.isnan(jsontext.loads("[NaN]")[0])
    assert jsontext.loads(b"[Infinity]") == [math.inf]


def test_a_document_that_is_not_json_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"(?i)expecting|unexpected|invalid|EOF"):
        jsontext.loads(b'{"records": [')


def test_dumps_is_compact_and_writes_non_text_keys_as_text() -> None:
    assert jsontext.dumps({"a": [1, "é"], 2: None}) == '{"a":[1,"é"],"2":null}'
    assert jsontext.dumps({"big": 2**70}) == '{"big":1180591620717411303424}'


def test_dumps_writes_numbers_json_has_not_as_null() -> None:
    # JSON has no NaN or Infinity, and PostgreSQL's json types refuse the standard
    # library's non-standard spelling of them.
    assert jsontext.dumps([math.nan, math.inf, -math.inf, 1.5]) == "[null,null,null,1.5]"


def test_dumps_refuses_what_json_cannot_hold() -> None:
    with pytest.raises(TypeError):
        jsontext.dumps({"at": datetime(2026, 12, 4, tzinfo=UTC)})
    with pytest.raises(TypeError):
        jsontext.dumps({"amount": Decimal("10.5")})


@given(st.dictionaries(st.text(), json_values, max_size=6), st.randoms())
def test_canonical_ignores_key_order(value: dict[str, Any], rng: Any) -> None:
    keys = list(value)
    rng.shuffle(keys)
    assert jsontext.canonical({k: value[k] for k in keys}) == jsontext.canonical(value)


def test_canonical_writes_what_json_cannot_hold_as_text() -> None:
    assert (
        jsontext.canonical({"b": Decimal("10.50"), "a": 2**70}) == b'{"a":1180591620717411303424,"b":"10.50"}'
    )
