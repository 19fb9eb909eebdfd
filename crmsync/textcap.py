"""Bounded text: what crmsync stores of an error, and how much of a value a message quotes.

A CRM may echo a whole rejected value in its error (Salesforce's STRING_TOO_LONG quotes
every character of a 100 KB text), and that message is copied into each log entry, the
push queue, the record's failures and the run. Stored text keeps its head and says how long
it was; a message that quotes a value quotes a short preview of it.
"""

from __future__ import annotations

from typing import Any

# Characters of an error kept where it is stored: the CRM's code, message and advice fit.
STORED = 2_000
# Characters of a value quoted inside a message: enough to recognise it.
PREVIEW = 200


def capped(text: str, limit: int = STORED) -> str:
    """``text``, or its first ``limit`` characters and a note of its full length."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... [truncated, {len(text):,} characters in all]"


def capped_json(value: Any, limit: int = STORED) -> Any:
    """A JSON-ready value with every string in it capped (tuples become lists, as in JSON)."""
    if isinstance(value, str):
        return capped(value, limit)
    if isinstance(value, dict):
        return {key: capped_json(item, limit) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [capped_json(item, limit) for item in value]
    return value


def preview(value: Any, limit: int = PREVIEW) -> str:
    """``repr(value)`` for quoting in a message, cut to ``limit`` characters when longer."""
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f"{len(value):,} characters" if isinstance(value, str) else f"{len(text):,} characters as written"
    return f"{text[:limit]}... [{size} in all]"
