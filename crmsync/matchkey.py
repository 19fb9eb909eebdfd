"""Match keys: the one normalisation of the values a matching rule compares.

A matching rule (``casefold``) calls two values equal when they are the same text to a
reader, whatever the keyboard, the database or the CRM did to them. Keys are made here,
in Python, and only here: the platform's keys are stored by crmsync (see
:mod:`crmsync.store.match_keys`), a push compares the CRM's answers with them, and neither
SQLite nor PostgreSQL is asked to fold text (``lower()`` and ``trim()`` differ between the
two and from Python on white space, ``ß`` and non-ASCII capitals).

A text part is:

1. trimmed of Unicode white space at both ends (tabs, newlines, no-break and ideographic
   spaces, not only ASCII) and of the invisible characters that spreadsheets and CSV
   exports leave there (zero-width space, word joiner, byte order mark);
2. matched caselessly by Unicode's own recipe for compatibility caseless matching
   (definition D146 of the standard: NFKD, full case folding, NFKD, full case folding of
   the canonical decomposition): ``ß`` is ``ss``, a final sigma is a sigma, an accent typed
   as one character or as a letter and a combining mark is the same accent, and
   compatibility forms (full-width letters, ligatures, a no-break space inside a name) are
   their plain letters; trimmed again, since a decomposition can start or end with a space;
3. composed again (NFC), which names the same text in fewer characters.

Compatibility rather than canonical equivalence (NFKC rather than NFC): it is the form
Unicode recommends for matching identifiers and the one domain names are mapped with
(UTS #46), so two addresses that reach the same mailbox domain have one key; it equates the
full-width letters East Asian keyboards type and a name written with a no-break space. What
it also equates (a superscript two and a two, a circled one and a one) does not tell people
or organisations apart.

The key depends on Python's Unicode tables: :data:`VERSION` names them, and keys stored
under another version are built again.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any

from crmsync.textcap import preview

# Unicode's White_Space property, and the invisible format characters found at the ends of
# imported values (zero-width space, word joiner, zero-width no-break space / BOM).
_EDGES = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\u200b\u2060\ufeff"
)

# Bump when fold() changes: stored keys made by another version are built again.
_RULES = 1
VERSION = f"{_RULES}/unicode-{unicodedata.unidata_version}"

# Characters of each key part quoted in a log message.
SHOWN = 80


def trim(text: str) -> str:
    """``text`` without Unicode white space (and invisible edge characters) at either end."""
    return text.strip(_EDGES)


# A page's keys are made where it is planned and again in its transaction (and its new
# rows' keys stored there): the second time they are looked up, not made.
_MEMORY = 8192


@lru_cache(maxsize=_MEMORY)
def fold(text: str) -> str:
    """The caseless-match form of ``text`` (see the module's docstring); '' for blank text."""
    folded = unicodedata.normalize("NFD", trim(text)).casefold()
    folded = unicodedata.normalize("NFKD", folded).casefold()
    return unicodedata.normalize("NFC", trim(unicodedata.normalize("NFKD", folded)))


def part(value: Any, normalize: str) -> Any:
    """One part of a match key: text folded under ``casefold``; any other value as it is."""
    if normalize == "casefold" and isinstance(value, str):
        return fold(value)
    return value


def key(values: Mapping[str, Any], columns: Sequence[str], normalize: str) -> tuple[Any, ...] | None:
    """The key of a record's ``values`` under a rule on ``columns``; None when a part is empty
    (such a record matches nothing)."""
    parts = tuple([part(values.get(column), normalize) for column in columns])
    return None if None in parts or "" in parts else parts


@lru_cache(maxsize=_MEMORY)
def digest(parts: tuple[Any, ...]) -> str:
    """A fixed-size name of a key, for storing and looking it up (equal keys, equal digests)."""
    encoded = "".join([_canonical(p) for p in parts])
    return hashlib.blake2b(encoded.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _canonical(value: Any) -> str:
    """A key part as text that only equal values share (1, 1.0 and True are one number), its
    length said first so that no two keys run together."""
    if type(value) is str:
        kind, text = "s", value
    elif isinstance(value, bool | int | float | Decimal):
        kind, text = "n", format(Decimal(value).normalize(), "f")
    else:
        kind, text = type(value).__name__, str(value)
    return f"{kind}:{len(text)}:{text}"


def shown(columns: Sequence[str], parts: tuple[Any, ...]) -> str:
    """A rule and its key for a log message, each part cut to :data:`SHOWN` characters."""
    return f"{', '.join(columns)} {', '.join(preview(p, SHOWN) for p in parts)}"
