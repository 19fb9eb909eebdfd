"""Salesforce record ids: 15-character base-62 keys with the 3-character case-safe suffix.

An id is ``<key prefix: 3><pod: 2><reserved: 1><sequence: 9>`` plus a checksum that encodes
which of the first 15 characters are upper case, so that the 18-character form survives
case-insensitive systems. Sequences are per key prefix and deterministic, so a seeded org
always gets the same ids.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_CHECKSUM_ALPHABET = string.ascii_uppercase + "012345"
_ALNUM = frozenset(BASE62)
# The pod and reserved characters of the ids this emulator mints ("RO" + "0"), as in the
# examples of Salesforce's own documentation; anything alphanumeric is accepted on input.
POD = "RO0"
ORG_KEY_PREFIX = "00D"
USER_KEY_PREFIX = "005"
QUERY_LOCATOR_PREFIX = "01g"
# The id Salesforce uses for the implicit "Master" record type of every object.
MASTER_RECORD_TYPE_ID = "012000000000000AAA"


def checksum(id15: str) -> str:
    """The 3-character case-safe suffix of a 15-character id."""
    suffix = []
    for block in range(3):
        bits = 0
        for position, char in enumerate(id15[block * 5 : block * 5 + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << position
        suffix.append(_CHECKSUM_ALPHABET[bits])
    return "".join(suffix)


def to_base62(number: int, width: int) -> str:
    """``number`` in base 62, left-padded with zeros to ``width`` characters."""
    if number < 0:
        raise ValueError("ids are minted from non-negative sequence numbers")
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(BASE62[rest])
    text = "".join(reversed(digits)) or "0"
    if len(text) > width:
        raise ValueError(f"sequence number does not fit in {width} base-62 digits")
    return text.rjust(width, "0")


def make_id(key_prefix: str, sequence: int) -> str:
    """The 18-character id number ``sequence`` of the object with ``key_prefix``."""
    id15 = key_prefix + POD + to_base62(sequence, 9)
    return id15 + checksum(id15)


def looks_like_id(value: str) -> bool:
    """True when ``value`` has the shape of a record id (15 or 18 alphanumeric characters)."""
    return len(value) in (15, 18) and all(char in _ALNUM for char in value)


def normalize_id(value: str) -> str | None:
    """The 18-character form of a 15- or 18-character id, or None when it is malformed.

    The 18-character form is case-insensitive: like Salesforce, the letter case of the first
    15 characters is restored from the suffix. A suffix that no casing matches is malformed.
    """
    if not looks_like_id(value):
        return None
    if len(value) == 15:
        return value + checksum(value)
    suffix = value[15:].upper()
    if any(char not in _CHECKSUM_ALPHABET for char in suffix):
        return None
    restored = []
    for block, char in enumerate(suffix):
        bits = _CHECKSUM_ALPHABET.index(char)
        for position, letter in enumerate(value[block * 5 : block * 5 + 5]):
            restored.append(letter.upper() if bits >> position & 1 else letter.lower())
    id15 = "".join(restored)
    return id15 + suffix if checksum(id15) == suffix else None


class IdSequences:
    """Deterministic id sequences, one per key prefix."""

    def __init__(self, state: Mapping[str, int] | None = None) -> None:
        self._next: dict[str, int] = dict(state or {})

    def mint(self, key_prefix: str) -> str:
        """A new id for an object with ``key_prefix``."""
        number = self._next.get(key_prefix, 1)
        self._next[key_prefix] = number + 1
        return make_id(key_prefix, number)

    def observe(self, record_id: str) -> None:
        """Move the sequence past ``record_id`` when it was minted here (e.g. loaded from a file)."""
        if record_id[3:6] != POD:
            return
        try:
            number = int(_from_base62(record_id[6:15]))
        except ValueError:
            return
        prefix = record_id[:3]
        if number >= self._next.get(prefix, 1):
            self._next[prefix] = number + 1

    def state(self) -> dict[str, int]:
        """The next number of every sequence, for persistence."""
        return dict(self._next)


def _from_base62(text: str) -> int:
    number = 0
    for char in text:
        position = BASE62.find(char)
        if position < 0:
            raise ValueError(f"{text!r} is not base 62")
        number = number * 62 + position
    return number
