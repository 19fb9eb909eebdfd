"""Tokens, string escapes and LIKE patterns."""

from __future__ import annotations

import pytest

from crmsync.emulators.salesforce.soql import SoqlError
from crmsync.emulators.salesforce.soql.lexer import Kind, Token, decode_string, like_regex, tokenize


def kinds(text: str) -> list[tuple[Kind, str]]:
    return [(token.kind, token.text) for token in tokenize(text)]


def string_token(body: str) -> Token:
    return Token(Kind.STRING, f"'{body}'", 0)


def test_tokens_of_a_full_statement_with_offsets() -> None:
    tokens = tokenize("SELECT Id, Account.Name FROM Contact WHERE Amount >= -1.5")
    assert [(t.kind, t.text, t.pos) for t in tokens] == [
        (Kind.IDENT, "SELECT", 0),
        (Kind.IDENT, "Id", 7),
        (Kind.COMMA, ",", 9),
        (Kind.IDENT, "Account", 11),
        (Kind.DOT, ".", 18),
        (Kind.IDENT, "Name", 19),
        (Kind.IDENT, "FROM", 24),
        (Kind.IDENT, "Contact", 29),
        (Kind.IDENT, "WHERE", 37),
        (Kind.IDENT, "Amount", 43),
        (Kind.OP, ">=", 50),
        (Kind.NUMBER, "-1.5", 53),
        (Kind.EOF, "<EOF>", 57),
    ]


def test_keywords_are_case_insensitive_identifiers() -> None:
    token = tokenize("sElEcT")[0]
    assert token.kind is Kind.IDENT
    assert token.keyword == "SELECT"
    assert tokenize("'x'")[0].keyword == ""


@pytest.mark.parametrize("op", ["=", "!=", "<>", "<", "<=", ">", ">="])
def test_operators(op: str) -> None:
    assert kinds(f"a{op}1")[1] == (Kind.OP, op)


def test_date_and_datetime_literals() -> None:
    assert kinds("2024-01-31")[0] == (Kind.DATE, "2024-01-31")
    for text in (
        "2024-01-31T10:00:00Z",
        "2024-01-31T10:00:00.123Z",
        "2024-01-31T10:00:00+05:30",
        "2024-01-31T10:00:00-08:00",
    ):
        assert kinds(text)[0] == (Kind.DATETIME, text)


def test_date_literal_with_parameter_lexes_as_ident_colon_number() -> None:
    assert kinds("LAST_N_DAYS:30")[:3] == [
        (Kind.IDENT, "LAST_N_DAYS"),
        (Kind.COLON, ":"),
        (Kind.NUMBER, "30"),
    ]


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("x = 2024-01-01T10:00:00", "2024-01-01T10:00:00"),  # a dateTime needs a zone
        ("x = 5abc", "5abc"),
        ("SELECT * FROM Account", "*"),
        ("x = 1;", ";"),
    ],
)
def test_stray_characters_are_unexpected_tokens(text: str, bad: str) -> None:
    with pytest.raises(SoqlError) as caught:
        tokenize(text)
    assert caught.value.error_code == "MALFORMED_QUERY"
    assert caught.value.message.endswith(f"unexpected token: '{bad}'")


def test_string_token_keeps_its_quotes_and_escapes() -> None:
    assert kinds(r"'it\'s'")[0] == (Kind.STRING, r"'it\'s'")


@pytest.mark.parametrize(
    ("body", "value"),
    [
        ("plain", "plain"),
        (r"it\'s", "it's"),
        (r"back\\slash", "back\\slash"),
        (r"q\"uote", 'q"uote'),
        (r"a\nb\rc\td\be\ff", "a\nb\rc\td\be\ff"),
        (r"A\NB\RC\TD\BE\FF", "A\nB\rC\tD\bE\fF"),
        (r"50\%", "50\\%"),  # \% and \_ only mean something in LIKE; elsewhere the backslash stays
        (r"a\_b", "a\\_b"),
        ("", ""),
    ],
)
def test_decode_string(body: str, value: str) -> None:
    assert decode_string(string_token(body)) == value


def test_invalid_escape_is_malformed() -> None:
    with pytest.raises(SoqlError) as caught:
        tokenize(r"Name = 'a\qb'")
    assert caught.value.error_code == "MALFORMED_QUERY"
    assert caught.value.message.endswith("Illegal character sequence '\\q' in string literal.")


def test_unterminated_string_is_malformed() -> None:
    with pytest.raises(SoqlError) as caught:
        tokenize("Name = 'abc")
    assert caught.value.error_code == "MALFORMED_QUERY"
    assert "unexpected token: '<EOF>'" in caught.value.message


@pytest.mark.parametrize(
    ("pattern", "matching", "not_matching"),
    [
        ("Ac%", ["Acme", "ACME corp", "ac"], ["xAcme", "A"]),
        ("%me", ["Acme", "me"], ["Acmes"]),
        ("A_me", ["Acme", "AXME"], ["Ame", "Accme"]),
        (r"50\%", ["50%"], ["500", "50"]),
        (r"a\_b", ["a_b", "A_B"], ["axb"]),
        (r"100\%%", ["100% sure"], ["1000 sure"]),
        (r"it\'s%", ["It's mine"], ["its mine"]),
        ("a.b", ["a.b"], ["axb"]),  # regex metacharacters are literal
        ("%", ["", "anything\nmultiline"], []),
    ],
)
def test_like_regex(pattern: str, matching: list[str], not_matching: list[str]) -> None:
    regex = like_regex(string_token(pattern))
    for text in matching:
        assert regex.fullmatch(text), text
    for text in not_matching:
        assert not regex.fullmatch(text), text
