"""What the engine asks a connector to write, and what it gets back per record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# A conditional update found the record changed since it was read: read it again.
CHANGED_SINCE_READ = "CHANGED_SINCE_READ"


@dataclass(frozen=True)
class Ref:
    """A body value that is the CRM id of another record written in the same request."""

    key: str


@dataclass
class WriteRecord:
    """One record to write.

    With ``crm_id`` it is an update by id. Without, it is an upsert by the external id field
    (``external_field`` = ``external_id``): a create the first time, an update on a retry
    after an ambiguous failure, so a record is never duplicated. ``key`` is the caller's
    handle for it (e.g. ``supporters:42``); ``depends_on`` lists keys of records in the same
    request whose ids this body references (through :class:`Ref` values).
    """

    key: str
    object: str
    body: dict[str, Any]
    crm_id: str | None = None
    external_field: str | None = None
    external_id: str | None = None
    depends_on: tuple[str, ...] = ()
    # An update made only if the record was not modified after this CRM modification time
    # (as the CRM gave it), where the CRM can condition a write; otherwise the result has
    # code CHANGED_SINCE_READ and nothing is written.
    unmodified_since: str | None = None


@dataclass
class WriteResult:
    """The outcome of one record's write."""

    key: str
    ok: bool
    crm_id: str | None = None
    created: bool = False
    code: str | None = None
    message: str = ""
    fields: tuple[str, ...] = ()
    # True when the CRM did not get to this record because another one failed.
    halted: bool = False
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def error_text(self) -> str:
        """``CODE: message`` as the integration log shows it."""
        return f"{self.code}: {self.message}" if self.code else self.message
