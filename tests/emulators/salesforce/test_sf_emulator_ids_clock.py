"""Record ids and the org clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crmsync.emulators.salesforce.clock import Clock, format_datetime, parse_datetime
from crmsync.emulators.salesforce.ids import (
    IdSequences,
    checksum,
    looks_like_id,
    make_id,
    normalize_id,
    to_base62,
)


@pytest.mark.parametrize(
    ("id15", "suffix"),
    [
        # Ids printed in Salesforce's own documentation, with their case-safe suffixes.
        ("001D000000IqhSL", "IAZ"),
        ("003RO0000035WQg", "YAM"),
        ("00190000001pPvH", "AAU"),
        ("001D000000Kv3g5", "IAB"),
    ],
)
def test_checksum_matches_salesforce(id15: str, suffix: str) -> None:
    assert checksum(id15) == suffix


def test_minted_ids_have_prefix_and_valid_suffix() -> None:
    record_id = make_id("003", 1)
    assert len(record_id) == 18
    assert record_id.startswith("003")
    assert normalize_id(record_id) == record_id
    assert normalize_id(record_id[:15]) == record_id


def test_normalize_rejects_bad_shapes_and_bad_suffix() -> None:
    good = make_id("001", 42)
    assert normalize_id(good[:15] + "999") is None
    assert normalize_id("001-not-an-id") is None
    assert normalize_id(good.lower()) == good  # the 18-character form is case-insensitive
    assert normalize_id("001RO000000000A" + "BAA") is None  # "B" marks the digit "0" as upper case
    assert not looks_like_id("abc")
    assert looks_like_id(good)


def test_sequences_are_deterministic_and_per_prefix() -> None:
    first, second = IdSequences(), IdSequences()
    minted = [first.mint("003"), first.mint("001"), first.mint("003")]
    assert minted == [second.mint("003"), second.mint("001"), second.mint("003")]
    assert minted[0] == make_id("003", 1)
    assert minted[2] == make_id("003", 2)
    restored = IdSequences(first.state())
    assert restored.mint("003") == make_id("003", 3)


def test_observe_moves_sequence_past_loaded_ids() -> None:
    sequences = IdSequences()
    sequences.observe(make_id("003", 500))
    assert sequences.mint("003") == make_id("003", 501)


def test_base62_width_and_overflow() -> None:
    assert to_base62(61, 2) == "0z"
    with pytest.raises(ValueError, match="does not fit"):
        to_base62(62**3, 2)


def test_datetime_format_is_salesforce_rest() -> None:
    moment = datetime(2024, 1, 2, 3, 4, 5, 678_901, tzinfo=UTC)
    assert format_datetime(moment) == "2024-01-02T03:04:05.678+0000"


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-02T03:04:05Z",
        "2024-01-02T03:04:05.000+0000",
        "2024-01-02T03:04:05+00:00",
        "2024-01-02T05:04:05+02:00",
    ],
)
def test_parse_datetime_accepts_salesforce_and_iso_offsets(text: str) -> None:
    assert parse_datetime(text) == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_parse_datetime_rejects_dates() -> None:
    with pytest.raises(ValueError, match="not a dateTime"):
        parse_datetime("2024-01-02")


def test_clock_freeze_set_advance_and_resume() -> None:
    clock = Clock()
    clock.freeze()
    frozen = clock.now()
    assert clock.now() == frozen
    clock.set(datetime(2024, 1, 1, tzinfo=UTC))
    assert clock.stamp() == "2024-01-01T00:00:00.000+0000"
    clock.advance(90.5)
    assert clock.stamp() == "2024-01-01T00:01:30.000+0000"  # whole seconds, as Salesforce stores them
    clock.unfreeze()
    # Time runs on from the frozen instant, not from the wall clock.
    assert clock.now() - datetime(2024, 1, 1, 0, 1, 30, tzinfo=UTC) < timedelta(seconds=5)
    clock.real_time()
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)
