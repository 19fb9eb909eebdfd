"""JSON responses serialised once, straight to bytes, as Salesforce's REST API sends them."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .errors import ApiError, bad_request

JSON_MEDIA_TYPE = "application/json;charset=UTF-8"
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def json_bytes(content: Any) -> bytes:
    """Compact UTF-8 JSON of ``content``."""
    return _ENCODER.encode(content).encode("utf-8")


def json_response(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response from pre-serialised bytes (no Starlette re-encoding)."""
    return Response(json_bytes(content), status_code=status, headers=headers, media_type=JSON_MEDIA_TYPE)


def empty_response(status: int = 204, headers: dict[str, str] | None = None) -> Response:
    """A bodiless response, e.g. 204 No Content after an update or delete."""
    return Response(b"", status_code=status, headers=headers)


def error_response(error: ApiError, headers: dict[str, str] | None = None) -> Response:
    """The JSON error body of ``error`` with its status."""
    return json_response(error.body(), error.status, headers)


async def read_json(request: Request) -> Any:
    """The request body parsed as JSON, or 400 JSON_PARSER_ERROR saying where it broke."""
    raw = await request.body()
    if not raw.strip():
        raise bad_request("JSON_PARSER_ERROR", "The request body is empty; a JSON object was expected")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        position = (
            f" at [line:{exc.lineno}, column:{exc.colno}]" if isinstance(exc, json.JSONDecodeError) else ""
        )
        raise bad_request(
            "JSON_PARSER_ERROR", f"Unexpected input in the JSON body{position}: {exc}"
        ) from None
