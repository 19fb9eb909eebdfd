"""Conditional requests on sObject Rows (``/sobjects/{Obj}/{id}``), as Salesforce answers them.

The weak validators compare an HTTP-date (``Mon, 30 Nov 2020 08:34:54 GMT``) with the
record's ``LastModifiedDate``, to the second (both are whole seconds):

- ``PATCH`` with ``If-Unmodified-Since``: a record modified after that instant is not
  changed; the answer is ``412 [{"errorCode":"PRECONDITION_FAILED","message"}]``. A value
  that is not an HTTP-date answers 400, as Salesforce documents for this header on PATCH.
- ``GET`` (and ``HEAD``) with ``If-Modified-Since``: a record not modified after that
  instant answers ``304 Not Modified`` without a body; a value that is not an HTTP-date is
  ignored, as HTTP says. Every answer with the record carries ``Last-Modified``.

Only user saves move ``LastModifiedDate``: a system change (an automation, a rollup) does
not make a conditional update fail. The ETag validators ``If-Match`` and ``If-None-Match``
(Salesforce has them on Account records only) are not implemented: they are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime as format_http_date
from email.utils import parsedate_to_datetime
from typing import Any

from .clock import parse_datetime
from .errors import ApiError, bad_request

# Headers that condition one request, never the subrequests of a composite that carries them.
CONDITIONAL_HEADERS = frozenset({"if-match", "if-none-match", "if-modified-since", "if-unmodified-since"})


def parse_http_date(text: str) -> datetime:
    """An HTTP-date (RFC 1123, RFC 850 or asctime form) as an aware UTC datetime; ValueError
    when ``text`` is none of them."""
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        raise ValueError(f"not an HTTP-date: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def last_modified(row: Mapping[str, Any]) -> datetime | None:
    """The record's LastModifiedDate, or None when it has none."""
    stamp = row.get("LastModifiedDate")
    return parse_datetime(stamp) if stamp else None


def last_modified_header(row: Mapping[str, Any]) -> dict[str, str]:
    """``Last-Modified`` for an answer carrying the record (empty when it has no date)."""
    moment = last_modified(row)
    return {} if moment is None else {"Last-Modified": format_http_date(moment, usegmt=True)}


def unmodified_since(headers: Mapping[str, str]) -> datetime | None:
    """The instant of ``If-Unmodified-Since`` (None without one); 400 when it is not an
    HTTP-date."""
    text = headers.get("if-unmodified-since")
    if text is None:
        return None
    try:
        return parse_http_date(text)
    except ValueError:
        raise bad_request(
            "INVALID_HEADER_VALUE",
            f"If-Unmodified-Since: {text} is not an HTTP-date such as Mon, 30 Nov 2020 08:34:54 GMT",
        ) from None


def check_unmodified_since(since: datetime | None, row: Mapping[str, Any]) -> None:
    """412 PRECONDITION_FAILED when the record changed after ``since`` (no check when None)."""
    moment = last_modified(row)
    # To the second, as HTTP-dates go (seeded records may carry milliseconds).
    if since is not None and moment is not None and moment.replace(microsecond=0) > since:
        raise ApiError(
            412,
            "PRECONDITION_FAILED",
            f"The record was modified at {format_http_date(moment, usegmt=True)}, after the "
            f"If-Unmodified-Since time {format_http_date(since, usegmt=True)}; it was not updated.",
        )


def not_modified_since(headers: Mapping[str, str], row: Mapping[str, Any]) -> bool:
    """True when ``If-Modified-Since`` is a valid HTTP-date the record has not changed after."""
    text = headers.get("if-modified-since")
    if text is None:
        return False
    try:
        since = parse_http_date(text)
    except ValueError:
        return False
    moment = last_modified(row)
    return moment is not None and moment <= since
