"""The errors the emulated org raises, each carrying Salesforce's HTTP status and error code."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A failure a Salesforce client sees as ``[{"message","errorCode","fields"}]``."""

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        fields: list[str] | None = None,
        *,
        bare: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.fields = list(fields or [])
        # Salesforce answers a few errors (upsert on a field that is not an external id) with
        # a single object instead of the usual array.
        self.bare = bare
        # Further keys of the error object, e.g. the ``duplicateResult`` of DUPLICATES_DETECTED.
        self.extra = dict(extra or {})

    def body(self) -> list[dict[str, Any]] | dict[str, Any]:
        """The JSON error body Salesforce answers with: an array, or one object when bare."""
        if self.bare:
            return {"message": self.message, "errorCode": self.error_code}
        return [{"message": self.message, "errorCode": self.error_code, "fields": self.fields} | self.extra]

    def record_error(self) -> dict[str, Any]:
        """The error as sObject Collections report it per record (``statusCode``, not ``errorCode``)."""
        return {"statusCode": self.error_code, "message": self.message, "fields": self.fields} | self.extra


class MultipleMatchesError(ApiError):
    """Several records hold the external id of an upsert: HTTP 300 with their URLs."""

    def __init__(self, object_name: str, ids: list[str]) -> None:
        super().__init__(300, "MULTIPLE_CHOICES", f"{len(ids)} {object_name} records match the external id")
        self.object_name = object_name
        self.ids = ids


def not_found(message: str = "The requested resource does not exist") -> ApiError:
    """404 NOT_FOUND."""
    return ApiError(404, "NOT_FOUND", message)


def entity_is_deleted() -> ApiError:
    """404 ENTITY_IS_DELETED, for a record in the recycle bin."""
    return ApiError(404, "ENTITY_IS_DELETED", "entity is deleted")


def bad_request(error_code: str, message: str, fields: list[str] | None = None) -> ApiError:
    """400 with ``error_code``: validation and parse failures."""
    return ApiError(400, error_code, message, fields)
