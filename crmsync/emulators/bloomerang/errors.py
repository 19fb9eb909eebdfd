"""Bloomerang's error answers: a status and ``{"Message": "..."}``.

The published document defines no error responses. Integrators read ``Message`` from error
bodies (the shape of an ASP.NET Web API error, which Bloomerang's API is built on), so every
error the emulator answers has that one key; the text says what is wrong.
"""

from __future__ import annotations

from typing import Any

UNAUTHORIZED_MESSAGE = "Authorization has been denied for this request."


class ApiError(Exception):
    """An API call that fails with ``status`` and a message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def body(self) -> dict[str, Any]:
        """The JSON body Bloomerang answers with."""
        return {"Message": self.message}


def bad_request(message: str) -> ApiError:
    """400: the request is invalid."""
    return ApiError(400, message)


def not_found(kind: str, record_id: object) -> ApiError:
    """404: no record of ``kind`` has that id (deleted, merged away or never there)."""
    return ApiError(404, f"{kind} with ID {record_id} was not found.")


def no_resource(path: str) -> ApiError:
    """404 for a path the API does not have."""
    return ApiError(404, f"No HTTP resource was found that matches the request URI '{path}'.")


def unauthorized() -> ApiError:
    """401: no valid API key or access token."""
    return ApiError(401, UNAUTHORIZED_MESSAGE)
