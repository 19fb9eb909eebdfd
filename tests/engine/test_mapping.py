"""CRM values -> platform values: conversions, errors that name the field, fingerprints, synced values."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync import jsontext
from crmsync.engine.conflicts import snapshot
from crmsync.engine.mapping import Pulled, converter, encoded
from crmsync.errors import RecordError
from crmsync.model.load import load_profile
from crmsync.store.platform import platform_table

NPSP = load_profile("npsp")
PROFILES = [load_profile(name) for name in ("npsp", "bloomerang", "customer-success", "contact-center")]
MAPPINGS = [(p.name, m) for p in PROFILES for m in p.objects]


def _column(platform_type: str, name: str) -> Any:
    return platform_table(platform_type).c[name]


@pytest.mark.parametrize(
    ("platform_type", "column", "crm_value", "expected"),
    [
        ("transactions", "amount", 12.5, Decimal("12.5")),
        ("transactions", "amount", "12.50", Decimal("12.50")),
        ("transactions", "close_date", "2024-01-04", date(2024, 1, 4)),
        ("transactions", "close_date", "2024-01-04T10:00:00.000+0000", date(2024, 1, 4)),
        ("supporters", "do_not_contact", True, True),
        ("supporters", "do_not_contact", "false", False),
        ("supporters", "first_name", 42, "42"),
        ("recurring_donations", "installments", 12.0, 12),
    ],
)
def test_values_convert_to_what_the_column_stores(
    platform_type: str, column: str, crm_value: Any, expected: Any
) -> None:
    value = converter(_column(platform_type, column), crm_field="X__c")(crm_value)
    assert value == expected
    assert type(value) is type(expected)


def test_timestamps_become_aware_utc() -> None:
    convert = converter(_column("subscriptions", "subscribed_at"), crm_field="Subscribed_At__c")
    assert convert("2024-01-31T12:00:00.000+0100") == datetime(2024, 1, 31, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("platform_type", "column", "crm_value", "code"),
    [
        ("transactions", "amount", "a lot", "INVALID_VALUE"),
        ("transactions", "close_date", "yesterday", "INVALID_VALUE"),
        ("supporters", "do_not_contact", "maybe", "INVALID_VALUE"),
        ("recurring_donations", "installments", 2.5, "INVALID_VALUE"),
        ("supporters", "first_name", "x" * 81, "VALUE_TOO_LONG"),
    ],
)
def test_a_value_the_column_cannot_hold_names_the_field(
    platform_type: str, column: str, crm_value: Any, code: str
) -> None:
    with pytest.raises(RecordError, match="Odd__c") as caught:
        converter(_column(platform_type, column), crm_field="Odd__c")(crm_value)
    assert caught.value.code == code
    assert caught.value.fields == ("Odd__c",)
    assert column in caught.value.message


crm_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=20),
    st.dates().map(date.isoformat),
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.000+0000")),
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(MAPPINGS), st.data())
def test_synced_values_are_the_snapshot_of_the_mapped_values(
    named: tuple[str, Any], data: st.DataObject
) -> None:
    _, mapping = named
    pulled = Pulled(mapping, platform_table(mapping.type))
    record = {f.crm: data.draw(crm_values, label=f.crm) for f in mapping.pulled_fields()}
    try:
        values = pulled.values(record)
    except RecordError:
        return
    for lookup in mapping.lookups:
        for target in lookup.targets:
            values[target.column] = data.draw(st.none() | st.integers(1, 10**9), label=target.column)
    assert pulled.synced(values) == snapshot(values)


def test_a_digest_is_the_same_for_equal_amounts_and_differs_for_other_values() -> None:
    pulled = Pulled(NPSP.mapping("transactions"), platform_table("transactions"))

    def digest(**record: Any) -> str:
        values = pulled.values({"Name": "Gift", "Amount": 10, "CloseDate": "2024-01-04", **record})
        values["supporter_id"] = record.get("supporter_id", 7)
        return encoded(pulled.synced(values))[1]

    assert digest() == digest(Amount=10.0) == digest(Amount=Decimal("10.00")) == digest(Amount="10.0")
    assert digest() != digest(Amount=11)
    assert digest() != digest(supporter_id=8)
    # A field the mapping does not pull changes nothing.
    assert digest() == digest(Unmapped__c="x")


SYNCED_VALUES = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text()


@settings(max_examples=50)
@given(st.dictionaries(st.text(max_size=8), SYNCED_VALUES))
def test_the_encoded_synced_values_read_back_as_the_values(synced: dict[str, Any]) -> None:
    # What a created row's link stores without a second encoding.
    text, _ = encoded(synced)
    assert jsontext.dumps(text) == text
    assert jsontext.loads(jsontext.dumps(text)) == synced


def test_a_long_value_that_does_not_convert_is_quoted_as_a_short_preview() -> None:
    with pytest.raises(RecordError) as caught:
        converter(_column("transactions", "amount"), crm_field="Amount")("9" * 50_000 + " dollars")
    message = caught.value.message
    assert message.startswith("Amount has the value '999")
    assert "[50,008 characters in all]" in message
    assert len(message) < 400
