"""crmsync.textcap: stored text keeps its head and says how long it was; quoted values are previews."""

from __future__ import annotations

from crmsync.textcap import PREVIEW, STORED, capped, capped_json, preview


def test_short_text_is_stored_as_it_is() -> None:
    text = "x" * STORED
    assert capped(text) is text


def test_long_text_keeps_its_head_and_notes_its_full_length() -> None:
    text = "STRING_TOO_LONG: " + "y" * 104_840
    stored = capped(text)
    assert stored.startswith(text[:STORED])
    assert stored.endswith("... [truncated, 104,857 characters in all]")
    assert len(stored) < STORED + 50


def test_every_string_in_json_details_is_capped_and_the_rest_kept() -> None:
    details = {"code": "STRING_TOO_LONG", "sent": {"Description": "z" * 5000}, "fields": ("A", 1, None)}
    stored = capped_json(details)
    assert stored["code"] == "STRING_TOO_LONG"
    assert stored["sent"]["Description"] == capped("z" * 5000)
    assert stored["fields"] == ["A", 1, None]
    assert capped_json(None) is None


def test_a_preview_quotes_a_value_as_repr_and_cuts_a_long_one() -> None:
    assert preview("2.5") == "'2.5'"
    assert preview(2.5) == "2.5"
    long = preview("w" * 104_857)
    assert long.startswith("'" + "w" * (PREVIEW - 1))
    assert long.endswith("... [104,857 characters in all]")
    assert len(long) < PREVIEW + 40
