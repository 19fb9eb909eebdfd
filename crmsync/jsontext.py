"""JSON text for crmsync's own data: orjson's speed, the standard library's answers.

A pull decodes every CRM page and encodes a fingerprint, the synced values and a log entry
for every record; with the standard library that was about a tenth of Sync All's time.
Where orjson answers differently (it reads an integer beyond 64 bits as an inexact float,
and refuses NaN and Infinity), the standard library does the work, so nothing that worked
before fails or loses precision now.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

# Dict keys that are not text become text (as json.dumps does); datetimes are not JSON (as
# with json.dumps, a caller that stores one gets a TypeError instead of a silent format).
_STORE_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
_CANONICAL_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
# Nineteen digits in a row may be an integer orjson cannot hold exactly (beyond -2**63 or
# 2**64 - 1). Looked for as nineteen zeros in the document with every digit made a zero and
# everything else a space: two passes at C speed, a tenth of what decoding costs (a regular
# expression took four times as long as decoding). A false alarm (a long run of digits
# inside a string) only costs the slower decoder.
_DIGITS_AS_ZEROS = bytes(ord("0") if chr(i).isdigit() and i < 128 else ord(" ") for i in range(256))
_NINETEEN_ZEROS = b"0" * 19


def loads(data: bytes | str) -> Any:
    """Decode a JSON document; ValueError if it is not one."""
    raw = data.encode() if isinstance(data, str) else data
    if _NINETEEN_ZEROS in raw.translate(_DIGITS_AS_ZEROS):
        return json.loads(data)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


class Encoded(str):
    """JSON text already encoded (say, for a digest): :func:`dumps` hands it on as it is."""

    __slots__ = ()


def dumps(value: Any) -> str:
    """Encode ``value`` for a JSON column: compact text; TypeError for what JSON cannot hold.

    NaN and Infinity are written as null: JSON has no such numbers, and PostgreSQL's json
    types refuse the standard library's spelling of them. :class:`Encoded` text is the value's
    encoding already.
    """
    if type(value) is Encoded:
        return str(value)
    try:
        return orjson.dumps(value, option=_STORE_OPTIONS).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def canonical(value: Any) -> bytes:
    """The same bytes for equal values, whatever their key order (what fingerprints hash).

    Values JSON cannot hold are written as their ``str()``.
    """
    try:
        return orjson.dumps(value, option=_CANONICAL_OPTIONS, default=str)
    except orjson.JSONEncodeError:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
        return text.encode()
