"""Check a parsed query against the catalog and compile it into a CompiledQuery."""

from __future__ import annotations

import re

from crmsync.catalogs import Catalog, ObjectDef

from .errors import (
    INVALID_FIELD,
    MALFORMED_QUERY,
    NUMBER_OUTSIDE_VALID_RANGE,
    error_at,
    no_such_object,
    wrong_value_type,
)
from .filters import (
    AllOf,
    AnyOf,
    FieldFilter,
    Filter,
    Negation,
    compare_test,
    in_test,
    includes_test,
    like_test,
)
from .lexer import Kind as TokenKind
from .lexer import like_regex
from .nodes import And, Comparison, Condition, FieldRef, Literal, Not, Or, Query
from .operands import Kind, is_long_text, kind_of, operand, soap_type
from .ordering import SortKey
from .parser import parse
from .paths import FieldPath, resolve
from .query import CompiledQuery
from .render import Renderer

MAX_OFFSET = 2000


def compile_query(text: str, catalog: Catalog) -> CompiledQuery:
    """Parse ``text`` and check it against ``catalog``; raises SoqlError as Salesforce would."""
    query = parse(text)
    root = catalog.object(query.object_name)
    if root is None:
        raise no_such_object(text, query.object_pos, query.object_name)
    compiler = _Compiler(text, catalog, root)
    paths = compiler.select_list(query)
    where = None if query.where is None else compiler.condition(query.where)
    order_by = compiler.order_by(query)
    if query.offset is not None and query.offset > MAX_OFFSET:
        raise error_at(
            NUMBER_OUTSIDE_VALID_RANGE, text, query.offset_pos, f"Maximum SOQL offset allowed is {MAX_OFFSET}"
        )
    polymorphic = any(len(hop.targets) > 1 for path in compiler.paths_seen for hop in path.hops)
    prefixes = {obj.key_prefix: obj.name for obj in catalog.objects.values()} if polymorphic else {}
    return CompiledQuery(
        object_name=root.name,
        count_only=query.count_only,
        where=where,
        order_by=order_by,
        limit=query.limit,
        offset=query.offset,
        renderer=Renderer(root.name, paths),
        prefixes=prefixes,
    )


class _Compiler:
    """Resolves names and builds filter and sort plans for one statement."""

    def __init__(self, text: str, catalog: Catalog, root: ObjectDef) -> None:
        self.text = text
        self.catalog = catalog
        self.root = root
        self.paths_seen: list[FieldPath] = []

    def resolve(self, ref: FieldRef) -> FieldPath:
        path = resolve(self.catalog, self.root, ref, self.text)
        self.paths_seen.append(path)
        return path

    def select_list(self, query: Query) -> list[FieldPath]:
        paths: list[FieldPath] = []
        seen: set[str] = set()
        for ref in query.fields:
            path = self.resolve(ref)
            key = path.key.casefold()
            if key in seen:
                raise error_at(MALFORMED_QUERY, self.text, ref.pos, f"duplicate field selected: {ref.text}")
            seen.add(key)
            paths.append(path)
        return paths

    def order_by(self, query: Query) -> list[SortKey]:
        keys: list[SortKey] = []
        for item in query.order_by:
            path = self.resolve(item.field)
            kind = kind_of(path.field)
            if kind is Kind.MULTI or is_long_text(path.field):
                raise error_at(
                    INVALID_FIELD,
                    self.text,
                    item.field.pos,
                    f"field '{path.field.name}' can not be sorted in a query call",
                )
            keys.append(SortKey(path, kind is Kind.TEXT, item.descending, item.nulls_first))
        return keys

    def condition(self, node: Condition) -> Filter:
        if isinstance(node, And):
            return AllOf(tuple(self.condition(item) for item in node.items))
        if isinstance(node, Or):
            return AnyOf(tuple(self.condition(item) for item in node.items))
        if isinstance(node, Not):
            return Negation(self.condition(node.item))
        return self.comparison(node)

    def comparison(self, node: Comparison) -> Filter:
        ref = node.field
        path = self.resolve(ref)
        field = path.field
        kind = kind_of(field)
        if is_long_text(field):
            raise error_at(
                INVALID_FIELD, self.text, ref.pos, f"field '{field.name}' can not be filtered in a query call"
            )
        op = node.op
        if op in ("INCLUDES", "EXCLUDES") and kind is not Kind.MULTI:
            raise error_at(
                INVALID_FIELD,
                self.text,
                ref.pos,
                "includes or excludes operator only valid on multipicklist field",
            )
        if kind is Kind.MULTI and op not in ("=", "!=", "IN", "NOT IN", "INCLUDES", "EXCLUDES"):
            raise error_at(MALFORMED_QUERY, self.text, ref.pos, "invalid operator on multipicklist field")
        if op == "LIKE":
            return FieldFilter(path, like_test(self.like_pattern(node, path)))
        values = [operand(field, ref.pos, value, self.text) for value in node.values]
        if op in ("IN", "NOT IN"):
            return FieldFilter(path, in_test(kind, values, negate=op == "NOT IN"))
        if op in ("INCLUDES", "EXCLUDES"):
            return FieldFilter(path, includes_test(values, negate=op == "EXCLUDES"))
        return FieldFilter(path, compare_test(kind, op, values[0]))

    def like_pattern(self, node: Comparison, path: FieldPath) -> re.Pattern[str] | None:
        """The regex of a LIKE operand (None for ``LIKE null``); only text and id fields take LIKE."""
        value = node.values[0]
        if isinstance(value, Literal) and value.token.keyword == "NULL":
            return None
        field = path.field
        if (
            kind_of(field) not in (Kind.TEXT, Kind.ID)
            or not isinstance(value, Literal)
            or value.token.kind is not TokenKind.STRING
        ):
            raise wrong_value_type(self.text, node.field.pos, field.name, soap_type(field))
        return like_regex(value.token)
