"""The errors the SOQL engine raises, shaped like the bodies of Salesforce's 400 responses."""

from __future__ import annotations

MALFORMED_QUERY = "MALFORMED_QUERY"
INVALID_FIELD = "INVALID_FIELD"
INVALID_TYPE = "INVALID_TYPE"
# Salesforce reports a bad id literal and a too-large OFFSET with these two codes; the HTTP
# layer passes every code through unchanged, so using the real ones costs nothing.
INVALID_QUERY_FILTER_OPERATOR = "INVALID_QUERY_FILTER_OPERATOR"
NUMBER_OUTSIDE_VALID_RANGE = "NUMBER_OUTSIDE_VALID_RANGE"

_WSDL_HINT = "Please reference your WSDL or the describe call for the appropriate names."


class SoqlError(Exception):
    """A query Salesforce would reject: its ``errorCode`` and the ``message`` of its error body."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(error_code, message)
        self.error_code = error_code
        self.message = message

    def __str__(self) -> str:
        return f"{self.error_code}: {self.message}"


def located(text: str, offset: int, detail: str) -> str:
    """``detail`` behind Salesforce's echo of the offending line, a caret and its Row/Column."""
    offset = max(0, min(offset, len(text)))
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    line = text[start:] if end < 0 else text[start:end]
    row = text.count("\n", 0, offset) + 1
    column = offset - start + 1
    return f"\n{line}\n{' ' * (column - 1)}^\nERROR at Row:{row}:Column:{column}\n{detail}"


def error_at(error_code: str, text: str, offset: int, detail: str) -> SoqlError:
    """A SoqlError whose message points at ``offset`` of the query ``text``."""
    return SoqlError(error_code, located(text, offset, detail))


def unexpected_token(text: str, offset: int, token: str, hint: str = "") -> SoqlError:
    """MALFORMED_QUERY for a token the grammar does not allow where it stands."""
    suffix = f" ({hint})" if hint else ""
    return error_at(MALFORMED_QUERY, text, offset, f"unexpected token: '{token}'{suffix}")


def no_such_object(text: str, offset: int, name: str) -> SoqlError:
    """INVALID_TYPE for an sObject the catalog does not have."""
    return error_at(
        INVALID_TYPE,
        text,
        offset,
        f"sObject type '{name}' is not supported. If you are attempting to use a custom object, "
        f"be sure to append the '__c' after the entity name. {_WSDL_HINT}",
    )


def no_such_column(text: str, offset: int, name: str, entity: str) -> SoqlError:
    """INVALID_FIELD for a field the object does not have."""
    return error_at(
        INVALID_FIELD,
        text,
        offset,
        f"No such column '{name}' on entity '{entity}'. If you are attempting to use a custom field, "
        f"be sure to append the '__c' after the custom field name. {_WSDL_HINT}",
    )


def no_such_relationship(text: str, offset: int, name: str) -> SoqlError:
    """INVALID_FIELD for a relationship name the object does not have."""
    return error_at(
        INVALID_FIELD,
        text,
        offset,
        f"Didn't understand relationship '{name}' in field path. If you are attempting to use a "
        f"custom relationship, be sure to append the '__r' after the custom relationship name. "
        f"{_WSDL_HINT}",
    )


def wrong_value_type(text: str, offset: int, field: str, soap_type: str) -> SoqlError:
    """INVALID_FIELD for a filter value of the wrong type (quoted number, unquoted string...)."""
    quoting = "should be enclosed in quotes" if soap_type == "string" else "should not be enclosed in quotes"
    return error_at(
        INVALID_FIELD,
        text,
        offset,
        f"value of filter criterion for field '{field}' must be of type {soap_type} and {quoting}",
    )
