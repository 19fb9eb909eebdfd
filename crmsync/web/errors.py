"""Errors of the JSON API: a status, a machine code and a sentence for a person."""

from __future__ import annotations

from starlette.responses import JSONResponse


class ApiError(Exception):
    """An answer other than success: status, a machine code and a sentence for a person."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def not_found(what: str) -> ApiError:
    """404: the thing does not exist in the caller's organization (or anywhere)."""
    return ApiError(404, "not_found", f"{what} does not exist")


def error_response(status: int, code: str, message: str) -> JSONResponse:
    """The body every error has: {"error": code, "message": sentence}."""
    return JSONResponse({"error": code, "message": message}, status_code=status)
