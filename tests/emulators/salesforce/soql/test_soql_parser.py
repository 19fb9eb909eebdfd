"""The syntax tree, and every syntax error with Salesforce's code and message."""

from __future__ import annotations

import pytest

from crmsync.emulators.salesforce.soql import SoqlError
from crmsync.emulators.salesforce.soql.nodes import And, Comparison, DateLiteral, Literal, Not, Or
from crmsync.emulators.salesforce.soql.parser import parse


def malformed(text: str) -> str:
    with pytest.raises(SoqlError) as caught:
        parse(text)
    assert caught.value.error_code == "MALFORMED_QUERY"
    return caught.value.message


def test_select_list_from_and_clauses() -> None:
    query = parse(
        "select Id, account.Owner.Name from Contact where Name = 'x' order by Name limit 10 offset 5"
    )
    assert [f.parts for f in query.fields] == [("Id",), ("account", "Owner", "Name")]
    assert query.object_name == "Contact"
    assert query.object_pos == 35
    assert isinstance(query.where, Comparison)
    assert [(o.field.text, o.descending, o.nulls_first) for o in query.order_by] == [("Name", False, True)]
    assert (query.limit, query.offset, query.count_only) == (10, 5, False)


def test_count() -> None:
    query = parse("SELECT COUNT() FROM Account")
    assert query.count_only
    assert query.fields == ()


def test_order_by_directions_and_nulls() -> None:
    query = parse("SELECT Id FROM A ORDER BY a DESC, b ASC NULLS LAST, c DESC NULLS FIRST, d")
    assert [(o.field.text, o.descending, o.nulls_first) for o in query.order_by] == [
        ("a", True, False),  # DESC defaults to NULLS LAST
        ("b", False, False),
        ("c", True, True),
        ("d", False, True),  # ASC defaults to NULLS FIRST
    ]


def test_and_or_not_and_parentheses() -> None:
    where = parse("SELECT Id FROM A WHERE (a = 1 OR b = 2) AND NOT c = 3 AND NOT (d = 4)").where
    assert isinstance(where, And)
    first, second, third = where.items
    assert isinstance(first, Or)
    assert len(first.items) == 2
    assert isinstance(second, Not)
    assert isinstance(second.item, Comparison)
    assert isinstance(third, Not)


def test_not_binds_to_the_next_term_only() -> None:
    where = parse("SELECT Id FROM A WHERE NOT a = 1 AND b = 2").where
    assert isinstance(where, And)
    assert isinstance(where.items[0], Not)
    assert isinstance(where.items[1], Comparison)


@pytest.mark.parametrize(
    ("condition", "op", "count"),
    [
        ("a = 1", "=", 1),
        ("a != 1", "!=", 1),
        ("a <> 1", "!=", 1),
        ("a < 1", "<", 1),
        ("a <= 1", "<=", 1),
        ("a > 1", ">", 1),
        ("a >= 1", ">=", 1),
        ("a LIKE 'x%'", "LIKE", 1),
        ("a IN ('x', 'y')", "IN", 2),
        ("a NOT IN ('x')", "NOT IN", 1),
        ("a INCLUDES ('x;y', 'z')", "INCLUDES", 2),
        ("a excludes ('x')", "EXCLUDES", 1),
    ],
)
def test_operators(condition: str, op: str, count: int) -> None:
    where = parse(f"SELECT Id FROM A WHERE {condition}").where
    assert isinstance(where, Comparison)
    assert where.op == op
    assert len(where.values) == count


def test_values() -> None:
    where = parse(
        "SELECT Id FROM A WHERE a IN "
        "('s', 5, -2.5, true, FALSE, null, 2024-01-01, 2024-01-01T00:00:00Z, TODAY)"
    ).where
    assert isinstance(where, Comparison)
    literals = [v.token.text for v in where.values if isinstance(v, Literal)]
    assert literals == ["'s'", "5", "-2.5", "true", "FALSE", "null", "2024-01-01", "2024-01-01T00:00:00Z"]
    assert where.values[-1] == DateLiteral("TODAY", None, where.values[-1].pos)


def test_parameterised_date_literal() -> None:
    where = parse("SELECT Id FROM A WHERE d = last_n_days:30").where
    assert isinstance(where, Comparison)
    assert where.values[0] == DateLiteral("LAST_N_DAYS", 30, 27)


def test_empty_query() -> None:
    with pytest.raises(SoqlError) as caught:
        parse("   ")
    assert (caught.value.error_code, caught.value.message) == (
        "MALFORMED_QUERY",
        "A query string has to be specified",
    )


def test_unexpected_token_message_points_at_the_token() -> None:
    assert malformed("SELECT Id FORM Account") == (
        "\nSELECT Id FORM Account\n          ^\nERROR at Row:1:Column:11\nunexpected token: 'FORM'"
    )


def test_position_on_a_later_line() -> None:
    message = malformed("SELECT Id\nFROM Account\nWHERE Name = 'a' OR Name = 'b' AND Id = null")
    assert message == (
        "\nWHERE Name = 'a' OR Name = 'b' AND Id = null\n"
        "                               ^\nERROR at Row:3:Column:32\nunexpected token: 'AND'"
    )


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("SELECT Id FROM Account WHERE a = 1 AND b = 2 OR c = 3", "OR"),  # mixing needs parentheses
        ("SELECT Id FROM Account WHERE a = 1 OR b = 2 AND c = 3", "AND"),
        ("SELECT Id, FROM Account", "FROM"),
        ("SELECT FROM Account", "FROM"),
        ("SELECT Id FROM", "<EOF>"),
        ("SELECT Id FROM Account WHERE", "<EOF>"),
        ("SELECT Id FROM Account WHERE Name", "<EOF>"),
        ("SELECT Id FROM Account WHERE Name = ", "<EOF>"),
        ("SELECT Id FROM Account WHERE Name = Acme", "Acme"),
        ("SELECT Id FROM Account WHERE (Name = 'a'", "<EOF>"),
        ("SELECT Id FROM Account WHERE Name NOT LIKE 'a'", "LIKE"),
        ("SELECT Id FROM Account WHERE Name IN ()", ")"),
        ("SELECT Id FROM Account LIMIT -1", "-1"),
        ("SELECT Id FROM Account LIMIT 1.5", "1.5"),
        ("SELECT Id FROM Account LIMIT x", "x"),
        ("SELECT Id FROM Account OFFSET 5 LIMIT 1", "LIMIT"),  # LIMIT comes before OFFSET
        ("SELECT Id FROM Account ORDER BY Name WHERE Name = 'a'", "WHERE"),
        ("SELECT Id FROM Account ORDER BY Name NULLS", "<EOF>"),
        ("SELECT Id FROM Account a", "a"),
        ("SELECT Id FROM Account WHERE d = LAST_N_DAYS", "<EOF>"),
        ("SELECT Id FROM Account WHERE d = LAST_N_DAYS:x", "x"),
        ("UPDATE Account", "UPDATE"),
        ("SELECT Id Name FROM Account", "Name"),
        ("SELECT Id FROM Account.Name", "."),
    ],
)
def test_syntax_errors(text: str, token: str) -> None:
    assert malformed(text).endswith(f"unexpected token: '{token}'")


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("SELECT FIELDS(ALL) FROM Account", "FIELDS"),
        ("SELECT Id, (SELECT Id FROM Contacts) FROM Account", "("),
        ("SELECT COUNT(Id) FROM Account", "COUNT"),
        ("SELECT MAX(Amount) FROM Opportunity", "MAX"),
        ("SELECT TYPEOF What WHEN Account THEN Name END FROM Task", "TYPEOF"),
        ("SELECT Name FROM Account GROUP BY Name", "GROUP"),
        ("SELECT Id FROM Account WITH SECURITY_ENFORCED", "WITH"),
        ("SELECT Id FROM Account FOR UPDATE", "FOR"),
        ("SELECT Id FROM Account USING SCOPE mine", "USING"),
        ("SELECT Id FROM Contact WHERE AccountId IN (SELECT Id FROM Account)", "SELECT"),
    ],
)
def test_unsupported_soql_names_the_token(text: str, token: str) -> None:
    message = malformed(text)
    assert f"unexpected token: '{token}' (" in message
    assert "not supported by the crmsync Salesforce emulator" in message


def test_relationship_depth_limit() -> None:
    assert parse("SELECT a.b.c.d.e.f FROM X").fields[0].parts == ("a", "b", "c", "d", "e", "f")
    message = malformed("SELECT a.b.c.d.e.f.g FROM X")
    assert message.endswith("more than 5 levels away from the root entity object.")
    assert "ERROR at Row:1:Column:8" in message
