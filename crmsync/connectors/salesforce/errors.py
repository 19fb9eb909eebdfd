"""What to do about each Salesforce answer: one table, not scattered ifs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from crmsync.errors import (
    AuthError,
    CrmsyncError,
    ProtocolError,
    QueryError,
    RateLimitedError,
    RecordError,
    SchemaError,
    TransientError,
)

Action = Literal["retry", "refresh", "raise"]
_SOQL_POSITION = re.compile(r"ERROR at Row:(\d+):Column:(\d+)")


@dataclass(frozen=True)
class Decision:
    """Retry the call, refresh the token and replay it, or raise ``error``."""

    action: Action
    error: CrmsyncError


# errorCode -> (action, error class, advice appended to Salesforce's message)
BY_CODE: dict[str, tuple[Action, type[CrmsyncError], str]] = {
    "INVALID_SESSION_ID": ("refresh", AuthError, "the session expired; crmsync logs in again"),
    "INVALID_AUTH_HEADER": ("refresh", AuthError, "the session is not valid; crmsync logs in again"),
    "REQUEST_LIMIT_EXCEEDED": (
        "retry",
        RateLimitedError,
        "the org's API limit is reached; crmsync backs off",
    ),
    "SERVER_UNAVAILABLE": ("retry", TransientError, "Salesforce is unavailable; crmsync retries"),
    "UNABLE_TO_LOCK_ROW": (
        "retry",
        TransientError,
        "a record is locked by another transaction; crmsync retries",
    ),
    "QUERY_TIMEOUT": ("raise", QueryError, "the query took too long; narrow the filter"),
    "MALFORMED_QUERY": ("raise", QueryError, "check the filters configured for this object"),
    "INVALID_FIELD": ("raise", SchemaError, "check the field names in the profile and filters"),
    "INVALID_TYPE": (
        "raise",
        SchemaError,
        "the object does not exist in this org; is the package installed?",
    ),
    "INVALID_QUERY_LOCATOR": ("raise", QueryError, "the query cursor expired; crmsync re-queries"),
    "API_DISABLED_FOR_ORG": (
        "raise",
        AuthError,
        "enable API access for the org (it needs Enterprise edition or the API add-on)",
    ),
    "API_CURRENTLY_DISABLED": (
        "raise",
        AuthError,
        "API access is disabled for this user; grant the 'API Enabled' permission",
    ),
    "INSUFFICIENT_ACCESS": (
        "raise",
        AuthError,
        "the integration user lacks permission; grant access to the object",
    ),
}

# Status codes without a more specific errorCode.
BY_STATUS: dict[int, tuple[Action, type[CrmsyncError], str]] = {
    401: ("refresh", AuthError, "the session is not valid; crmsync logs in again"),
    403: ("raise", AuthError, "Salesforce refused the request; check the integration user's permissions"),
    404: ("raise", RecordError, "the record or resource does not exist"),
    408: ("retry", TransientError, "the request timed out; crmsync retries"),
    412: ("raise", RecordError, "the record changed in Salesforce after crmsync read it"),
    429: ("retry", RateLimitedError, "too many requests; crmsync backs off"),
    500: ("retry", TransientError, "Salesforce had an internal error; crmsync retries"),
    502: ("retry", TransientError, "bad gateway; crmsync retries"),
    503: ("retry", TransientError, "Salesforce is unavailable; crmsync retries"),
    504: ("retry", TransientError, "gateway timeout; crmsync retries"),
}


def one_line(message: str) -> str:
    """Salesforce's message on one line.

    SOQL errors come as the query, a caret line, ``ERROR at Row:1:Column:30`` and the reason;
    they keep the reason and the position.
    """
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    position = _SOQL_POSITION.search(message)
    if position is not None and len(lines) > 1:
        return f"{lines[-1]} (row {position[1]}, column {position[2]})"
    return " ".join(lines)


def first_error(body: Any) -> tuple[str | None, str, tuple[str, ...]]:
    """(errorCode, message, fields) of a Salesforce error body (array, or the bare-object case)."""
    item = body[0] if isinstance(body, list) and body else body
    if isinstance(item, dict):
        code = item.get("errorCode") or item.get("statusCode")
        fields = tuple(item.get("fields") or ())
        return (str(code) if code else None, one_line(str(item.get("message", ""))), fields)
    return None, one_line(str(body)[:200]), ()


def decide(status: int, body: Any, *, retry_after: float | None, what: str) -> Decision:
    """The decision for a non-2xx answer to ``what`` (e.g. "query Contact")."""
    code, message, fields = first_error(body)
    entry = BY_CODE.get(code or "") or BY_STATUS.get(status)
    if entry is None:
        if 400 <= status < 500:
            return Decision(
                "raise", RecordError(f"{what}: {code or status}: {message}", code=code, fields=fields)
            )
        unknown = TransientError(f"{what}: HTTP {status} {message}", details={"status": status})
        return Decision("retry", unknown)
    action, kind, advice = entry
    said = f"{what}: {code or f'HTTP {status}'}: {message or 'no message'}"
    text = f"{said}; {advice}"
    error: CrmsyncError
    if issubclass(kind, TransientError):
        error = kind(text, retry_after=retry_after, said=said, details={"status": status, "errorCode": code})
    elif issubclass(kind, RecordError):
        error = RecordError(text, code=code, fields=fields, details={"status": status})
    else:
        error = kind(text, details={"status": status, "errorCode": code})
    return Decision(action, error)


def malformed(what: str, status: int, text: str) -> ProtocolError:
    """The error for an answer that is not the JSON Salesforce documents."""
    snippet = text[:80].replace("\n", " ")
    return ProtocolError(
        f"{what}: Salesforce answered HTTP {status} with a body that is not valid JSON ({snippet!r}); "
        "if this repeats, check instance_url and any proxy in between"
    )
