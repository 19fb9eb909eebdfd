"""``/query`` and ``/queryAll``: SOQL, batches of up to 2,000 rows, query locators.

The first call runs the query and keeps the ids of every matching row; each page, the first
included, is rendered from the current records only when it is asked for, so a 100,000-row
result costs one scan and never a 100,000-row JSON document.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from .cursors import Cursor
from .errors import ApiError, bad_request
from .responses import json_response
from .soql import CompiledQuery, SoqlError, compile_query

if TYPE_CHECKING:
    from .rest import Call

DEFAULT_BATCH_SIZE = 2000
MIN_BATCH_SIZE = 200
MAX_BATCH_SIZE = 2000
_BATCH_OPTION = re.compile(r"batchSize\s*=\s*(\d+)", re.IGNORECASE)
_LOCATOR = re.compile(r"^(?P<locator>01g[0-9A-Za-z]{15})-(?P<offset>\d+)$")


def batch_size(call: Call, default: int = DEFAULT_BATCH_SIZE) -> int:
    """The page size asked for in ``Sforce-Query-Options: batchSize=N``, clamped to 200..2000."""
    option = _BATCH_OPTION.search(call.request.headers.get("sforce-query-options", ""))
    if option is None:
        return default
    return max(MIN_BATCH_SIZE, min(MAX_BATCH_SIZE, int(option.group(1))))


async def query(call: Call) -> Response:
    """``GET /query?q=``: live records only."""
    return _first_page(call, include_deleted=False)


async def query_all(call: Call) -> Response:
    """``GET /queryAll?q=``: deleted and merged-away records too."""
    return _first_page(call, include_deleted=True)


def _first_page(call: Call, *, include_deleted: bool) -> Response:
    text = call.request.query_params.get("q")
    if text is None or not text.strip():
        raise bad_request("MALFORMED_QUERY", "A query string has to be specified")
    org = call.state.org
    try:
        compiled = compile_query(text, org.catalog)
    except SoqlError as error:
        raise bad_request(error.error_code, error.message) from None
    size = batch_size(call)
    with org.lock:
        try:
            rows = compiled.run(org, include_deleted=include_deleted, now=org.clock.now())
        except SoqlError as error:
            raise bad_request(error.error_code, error.message) from None
        if compiled.count_only:
            return json_response({"totalSize": len(rows), "done": True, "records": []})
        ids = [row["Id"] for row in rows]
        if len(ids) <= size:
            records = [compiled.render(row, org, api_version=call.version) for row in rows]
            return json_response({"totalSize": len(ids), "done": True, "records": records})
        cursor = call.state.cursors.open(compiled, compiled.object_name, ids, size)
        return json_response(_page(call, cursor, 0, size))


async def query_more(call: Call) -> Response:
    """``GET /query/01g...-2000`` (or ``/queryAll/...``): the page at that offset."""
    parsed = _LOCATOR.match(call.params["locator"])
    cursor = call.state.cursors.get(parsed["locator"]) if parsed else None
    if parsed is None or cursor is None:
        raise ApiError(400, "INVALID_QUERY_LOCATOR", f"invalid query locator: {call.params['locator']}")
    offset = int(parsed["offset"])
    if offset > len(cursor.ids):
        raise ApiError(
            400,
            "INVALID_QUERY_LOCATOR",
            f"invalid query locator: offset {offset} is past the {len(cursor.ids)} rows of the query",
        )
    with call.state.org.lock:
        return json_response(_page(call, cursor, offset, batch_size(call, cursor.batch_size)))


def _page(call: Call, cursor: Cursor, offset: int, size: int) -> dict[str, Any]:
    org = call.state.org
    compiled: CompiledQuery = cursor.query
    end = min(offset + size, len(cursor.ids))
    records = []
    for record_id in cursor.ids[offset:end]:
        row = org.get(cursor.object_name, record_id)
        # A row can only vanish when the org was reset between pages.
        if row is not None:
            records.append(compiled.render(row, org, api_version=call.version))
    body: dict[str, Any] = {"totalSize": len(cursor.ids), "done": end >= len(cursor.ids)}
    if end < len(cursor.ids):
        body["nextRecordsUrl"] = f"/services/data/v{call.version}/query/{cursor.locator}-{end}"
    body["records"] = records
    return body
