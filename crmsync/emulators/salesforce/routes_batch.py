"""``/composite/batch``: up to 25 independent subrequests in one API call.

``{"batchRequests":[{"method","url","richInput"?}],"haltOnError":false}``; each ``url`` is
relative to ``/services/data/`` and starts with the version (``v61.0/query?q=...``). The
subrequests run in order and each commits on its own (a later one sees what an earlier one
wrote); they cannot refer to each other. Any REST resource but the composite ones may be
called, so one batch can poll several objects with queries. Answer: 200
``{"hasErrors","results":[{"statusCode","result"}]}``, ``result`` being the subrequest's
body (null when empty). With ``haltOnError`` the first failure (4xx/5xx) stops the batch and
every later subrequest answers 412 BATCH_PROCESSING_HALTED.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from .errors import bad_request
from .responses import json_response, read_json
from .routes_composite import MAX_SUBREQUESTS, METHODS

if TYPE_CHECKING:
    from .rest import Call

BATCH_RESOURCES = frozenset(
    {
        "resources",
        "limits",
        "describeGlobal",
        "sobjects",
        "describe",
        "updated",
        "deleted",
        "query",
        "queryAll",
    }
)
HALTED = [
    {
        "errorCode": "BATCH_PROCESSING_HALTED",
        "message": "Batch processing halted: an earlier subrequest failed and haltOnError is true",
    }
]


async def batch(call: Call) -> Response:
    """``POST /composite/batch``."""
    body = await read_json(call.request)
    items = body.get("batchRequests") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise bad_request("INVALID_API_INPUT", "batchRequests must be a non-empty array of subrequests")
    if len(items) > MAX_SUBREQUESTS:
        raise bad_request(
            "LIMIT_EXCEEDED",
            f"A batch can hold at most {MAX_SUBREQUESTS} subrequests; this one has {len(items)}",
        )
    assert isinstance(body, dict)
    halt_on_error = body.get("haltOnError", False)
    if not isinstance(halt_on_error, bool):
        raise bad_request("JSON_PARSER_ERROR", f"haltOnError must be true or false; got {halt_on_error!r}")
    for item in items:
        if (
            not isinstance(item, dict)
            or item.get("method") not in METHODS
            or not isinstance(item.get("url"), str)
        ):
            raise bad_request(
                "INVALID_API_INPUT",
                "Every batch subrequest needs a method (GET, POST, PUT, PATCH, DELETE) and a url",
            )
    org = call.state.org
    results: list[dict[str, Any]] = []
    halted = False
    # One journal write for the whole batch; each subrequest still stands alone.
    with org.transaction():
        for item in items:
            if halted:
                results.append({"statusCode": 412, "result": HALTED})
                continue
            url = "/services/data/" + item["url"]
            with org.transaction() as one:
                answer = await call.subrequest(
                    item["method"], url, item.get("richInput"), allowed=BATCH_RESOURCES
                )
                if not answer.ok:
                    one.rollback()
            results.append({"statusCode": answer.status, "result": answer.body})
            # Each subrequest is a transaction of its own (its own change events' transactionKey).
            org.split_capture()
            halted = halt_on_error and answer.status >= 400
    return json_response({"hasErrors": any(r["statusCode"] >= 400 for r in results), "results": results})
