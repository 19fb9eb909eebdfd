"""Turn SOQL text into tokens, and decode its quoted string literals."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from .errors import MALFORMED_QUERY, error_at, unexpected_token


class Kind(enum.Enum):
    """What a token is; keywords are IDENT tokens, recognised by the parser."""

    IDENT = "ident"
    STRING = "string"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"
    OP = "op"
    LPAREN = "("
    RPAREN = ")"
    COMMA = ","
    DOT = "."
    COLON = ":"
    EOF = "eof"


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind, its exact source text (quotes included) and its offset."""

    kind: Kind
    text: str
    pos: int

    @property
    def keyword(self) -> str:
        """The upper-cased text of an identifier (SOQL keywords are case-insensitive), else ''."""
        return self.text.upper() if self.kind is Kind.IDENT else ""


_TOKEN = re.compile(
    r"""
     (?P<ws>\s+)
    |(?P<datetime>\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2}))
    |(?P<date>\d{4}-\d{2}-\d{2})
    |(?P<number>[+-]?\d+(?:\.\d+)?)
    |(?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<op>!=|<>|<=|>=|=|<|>)
    |(?P<punct>[(),.:])
    """,
    re.VERBOSE,
)
# A literal glued to letters (``2024-01-01T10:00:00`` without a zone, ``5abc``) is one bad token.
_GLUED = re.compile(r"[\w:.+-]*")
_KINDS = {
    "datetime": Kind.DATETIME,
    "date": Kind.DATE,
    "number": Kind.NUMBER,
    "ident": Kind.IDENT,
    "op": Kind.OP,
}
_PUNCT = {"(": Kind.LPAREN, ")": Kind.RPAREN, ",": Kind.COMMA, ".": Kind.DOT, ":": Kind.COLON}

# Escapes Salesforce documents for quoted strings; \% and \_ only mean something inside LIKE.
_ESCAPES = {
    "\\": "\\",
    "'": "'",
    '"': '"',
    "n": "\n",
    "N": "\n",
    "r": "\r",
    "R": "\r",
    "t": "\t",
    "T": "\t",
    "b": "\b",
    "B": "\b",
    "f": "\f",
    "F": "\f",
}
_LIKE_ESCAPES = frozenset("%_")


def tokenize(text: str) -> list[Token]:
    """All tokens of ``text``, ending with an EOF token; raises SoqlError on a stray character."""
    tokens: list[Token] = []
    pos = 0
    length = len(text)
    while pos < length:
        if text[pos] == "'":
            end = _string_end(text, pos)
            tokens.append(Token(Kind.STRING, text[pos:end], pos))
            pos = end
            continue
        match = _TOKEN.match(text, pos)
        if match is None:
            raise unexpected_token(text, pos, text[pos])
        group = match.lastgroup
        end = match.end()
        if group == "ws":
            pos = end
            continue
        if (
            group in ("datetime", "date", "number")
            and end < length
            and (text[end].isalnum() or text[end] in "_:")
        ):
            glued = _GLUED.match(text, end)
            bad_end = glued.end() if glued else end
            raise unexpected_token(text, pos, text[pos:bad_end])
        kind = _PUNCT[match.group()] if group == "punct" else _KINDS[str(group)]
        tokens.append(Token(kind, match.group(), pos))
        pos = end
    tokens.append(Token(Kind.EOF, "<EOF>", length))
    return tokens


def _string_end(text: str, start: int) -> int:
    """The offset just past the closing quote of the string literal opening at ``start``."""
    pos = start + 1
    length = len(text)
    while pos < length:
        char = text[pos]
        if char == "\\":
            if pos + 1 >= length:
                break
            escaped = text[pos + 1]
            if escaped not in _ESCAPES and escaped not in _LIKE_ESCAPES:
                raise error_at(
                    MALFORMED_QUERY,
                    text,
                    pos,
                    f"Illegal character sequence '\\{escaped}' in string literal.",
                )
            pos += 2
            continue
        if char == "'":
            return pos + 1
        pos += 1
    raise unexpected_token(text, start, "<EOF>", "unterminated string literal")


def decode_string(token: Token) -> str:
    """The value of a string literal outside LIKE (``\\%`` and ``\\_`` keep their backslash)."""
    raw = token.text[1:-1]
    if "\\" not in raw:
        return raw
    out: list[str] = []
    pos = 0
    while pos < len(raw):
        char = raw[pos]
        if char == "\\":
            escaped = raw[pos + 1]
            out.append(_ESCAPES.get(escaped, "\\" + escaped))
            pos += 2
        else:
            out.append(char)
            pos += 1
    return "".join(out)


def like_regex(token: Token) -> re.Pattern[str]:
    """A case-insensitive full-match regex for a LIKE pattern literal (``%``, ``_``, ``\\%``, ``\\_``)."""
    raw = token.text[1:-1]
    parts: list[str] = []
    pos = 0
    while pos < len(raw):
        char = raw[pos]
        if char == "\\":
            escaped = raw[pos + 1]
            parts.append(re.escape(_ESCAPES.get(escaped, escaped)))
            pos += 2
            continue
        if char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
        pos += 1
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)
