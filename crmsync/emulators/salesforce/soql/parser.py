"""Parse SOQL text into a syntax tree (``nodes.Query``), rejecting what Salesforce rejects."""

from __future__ import annotations

from .dates import FIXED_DATE_LITERALS, N_DATE_LITERALS
from .errors import MALFORMED_QUERY, SoqlError, error_at, unexpected_token
from .lexer import Kind, Token, tokenize
from .nodes import (
    And,
    Comparison,
    Condition,
    DateLiteral,
    FieldRef,
    Literal,
    Not,
    Or,
    OrderItem,
    Query,
    Value,
)

# Words that end a field list or a condition; a field path may not be one of them, so that
# ``SELECT Id, FROM Account`` fails on FROM as Salesforce's parser does.
_RESERVED = frozenset(
    {
        "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "INCLUDES", "EXCLUDES",
        "ORDER", "BY", "GROUP", "HAVING", "LIMIT", "OFFSET", "ASC", "DESC", "NULLS", "FIRST",
        "LAST", "WITH", "FOR", "USING", "TRUE", "FALSE", "NULL", "TYPEOF",
    }
)  # fmt: skip
# Valid SOQL the emulator does not implement: named in the error so the caller knows why.
_UNSUPPORTED_CLAUSES = frozenset({"USING", "WITH", "GROUP", "HAVING", "FOR", "UPDATE"})
_UNSUPPORTED_HINT = "not supported by the crmsync Salesforce emulator"
_COMPARATORS = {"=": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
MAX_RELATIONSHIP_DEPTH = 5


def parse(text: str) -> Query:
    """The syntax tree of the SOQL statement ``text``; raises SoqlError (MALFORMED_QUERY)."""
    if not text.strip():
        raise SoqlError(MALFORMED_QUERY, "A query string has to be specified")
    return _Parser(text).query()


class _Parser:
    """Recursive descent over the token list; one instance per statement."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    # -- token helpers ---------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind is not Kind.EOF:
            self.index += 1
        return token

    def unexpected(self, token: Token, hint: str = "") -> SoqlError:
        return unexpected_token(self.text, token.pos, token.text, hint)

    def expect_keyword(self, word: str) -> Token:
        token = self.peek()
        if token.keyword != word:
            raise self.unexpected(token)
        return self.advance()

    def expect(self, kind: Kind) -> Token:
        token = self.peek()
        if token.kind is not kind:
            raise self.unexpected(token)
        return self.advance()

    def at_keyword(self, *words: str) -> bool:
        return self.peek().keyword in words

    # -- statement -------------------------------------------------------------------------

    def query(self) -> Query:
        self.expect_keyword("SELECT")
        fields, count_only = self.select_list()
        self.expect_keyword("FROM")
        target = self.peek()
        if target.kind is not Kind.IDENT or target.keyword in _RESERVED:
            raise self.unexpected(target)
        self.advance()
        self.reject_unsupported()
        where = None
        if self.at_keyword("WHERE"):
            self.advance()
            where = self.condition()
        self.reject_unsupported()
        order_by: tuple[OrderItem, ...] = ()
        if self.at_keyword("ORDER"):
            self.advance()
            self.expect_keyword("BY")
            order_by = self.order_items()
        limit = offset = None
        if self.at_keyword("LIMIT"):
            self.advance()
            limit = self.non_negative_int()
        offset_pos = self.peek().pos
        if self.at_keyword("OFFSET"):
            self.advance()
            offset_pos = self.peek().pos
            offset = self.non_negative_int()
        self.reject_unsupported()
        end = self.peek()
        if end.kind is not Kind.EOF:
            raise self.unexpected(end)
        return Query(
            fields=fields,
            count_only=count_only,
            object_name=target.text,
            object_pos=target.pos,
            where=where,
            order_by=order_by,
            limit=limit,
            offset=offset,
            offset_pos=offset_pos,
        )

    def reject_unsupported(self) -> None:
        token = self.peek()
        if token.keyword in _UNSUPPORTED_CLAUSES:
            raise self.unexpected(token, f"{token.keyword} is {_UNSUPPORTED_HINT}")

    def select_list(self) -> tuple[tuple[FieldRef, ...], bool]:
        first = self.peek()
        if first.keyword == "COUNT" and self.peek(1).kind is Kind.LPAREN and self.peek(2).kind is Kind.RPAREN:
            self.index += 3
            return (), True
        fields: list[FieldRef] = []
        while True:
            token = self.peek()
            if token.kind is Kind.LPAREN:
                raise self.unexpected(token, f"subqueries are {_UNSUPPORTED_HINT}")
            if token.kind is Kind.IDENT and self.peek(1).kind is Kind.LPAREN:
                raise self.unexpected(token, f"{token.keyword}() is {_UNSUPPORTED_HINT}")
            if token.keyword == "TYPEOF":
                raise self.unexpected(token, f"TYPEOF is {_UNSUPPORTED_HINT}")
            fields.append(self.field_ref())
            if self.peek().kind is not Kind.COMMA:
                return tuple(fields), False
            self.advance()

    def field_ref(self) -> FieldRef:
        first = self.peek()
        if first.kind is not Kind.IDENT or first.keyword in _RESERVED:
            raise self.unexpected(first)
        parts = [self.advance().text]
        while self.peek().kind is Kind.DOT:
            self.advance()
            part = self.expect(Kind.IDENT)
            parts.append(part.text)
        if len(parts) - 1 > MAX_RELATIONSHIP_DEPTH:
            raise error_at(
                MALFORMED_QUERY,
                self.text,
                first.pos,
                f"SOQL statements cannot query relationships that are more than {MAX_RELATIONSHIP_DEPTH} "
                "levels away from the root entity object.",
            )
        return FieldRef(tuple(parts), first.pos)

    def non_negative_int(self) -> int:
        token = self.peek()
        if token.kind is not Kind.NUMBER or not token.text.isdigit():
            raise self.unexpected(token)
        self.advance()
        return int(token.text)

    # -- WHERE -----------------------------------------------------------------------------

    def condition(self) -> Condition:
        """Terms joined by AND or by OR; mixing the two needs parentheses, as in Salesforce."""
        items = [self.term()]
        joiner = ""
        while self.at_keyword("AND", "OR"):
            token = self.peek()
            if joiner and token.keyword != joiner:
                raise self.unexpected(token)
            joiner = token.keyword
            self.advance()
            items.append(self.term())
        if joiner == "AND":
            return And(tuple(items))
        if joiner == "OR":
            return Or(tuple(items))
        return items[0]

    def term(self) -> Condition:
        if self.at_keyword("NOT"):
            self.advance()
            return Not(self.term())
        if self.peek().kind is Kind.LPAREN:
            self.advance()
            inner = self.condition()
            self.expect(Kind.RPAREN)
            return inner
        return self.comparison()

    def comparison(self) -> Comparison:
        field = self.field_ref()
        token = self.peek()
        if token.kind is Kind.OP:
            self.advance()
            return Comparison(field, _COMPARATORS[token.text], (self.value(),))
        word = token.keyword
        if word == "LIKE":
            self.advance()
            return Comparison(field, "LIKE", (self.value(),))
        if word == "NOT":
            self.advance()
            self.expect_keyword("IN")
            return Comparison(field, "NOT IN", self.value_list())
        if word in ("IN", "INCLUDES", "EXCLUDES"):
            self.advance()
            return Comparison(field, word, self.value_list())
        raise self.unexpected(token)

    def value_list(self) -> tuple[Value, ...]:
        self.expect(Kind.LPAREN)
        if self.at_keyword("SELECT"):
            raise self.unexpected(self.peek(), f"semi-join subqueries are {_UNSUPPORTED_HINT}")
        values = [self.value()]
        while self.peek().kind is Kind.COMMA:
            self.advance()
            values.append(self.value())
        self.expect(Kind.RPAREN)
        return tuple(values)

    def value(self) -> Value:
        token = self.peek()
        if token.kind in (Kind.STRING, Kind.NUMBER, Kind.DATE, Kind.DATETIME):
            self.advance()
            return Literal(token)
        word = token.keyword
        if word in ("TRUE", "FALSE", "NULL"):
            self.advance()
            return Literal(token)
        if word in FIXED_DATE_LITERALS:
            self.advance()
            return DateLiteral(word, None, token.pos)
        if word in N_DATE_LITERALS:
            self.advance()
            self.expect(Kind.COLON)
            return DateLiteral(word, self.non_negative_int(), token.pos)
        raise self.unexpected(token)

    # -- ORDER BY --------------------------------------------------------------------------

    def order_items(self) -> tuple[OrderItem, ...]:
        items: list[OrderItem] = []
        while True:
            field = self.field_ref()
            descending = False
            if self.at_keyword("ASC", "DESC"):
                descending = self.advance().keyword == "DESC"
            nulls_first = not descending
            if self.at_keyword("NULLS"):
                self.advance()
                if not self.at_keyword("FIRST", "LAST"):
                    raise self.unexpected(self.peek())
                nulls_first = self.advance().keyword == "FIRST"
            items.append(OrderItem(field, descending, nulls_first))
            if self.peek().kind is not Kind.COMMA:
                return tuple(items)
            self.advance()
