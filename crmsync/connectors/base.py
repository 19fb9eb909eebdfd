"""The Connector protocol: the small surface every CRM offers the engine."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from crmsync.connectors.writes import WriteRecord, WriteResult
from crmsync.model.profile import Condition


@dataclass(frozen=True)
class FieldInfo:
    """A field of a CRM object as the live account describes it."""

    name: str
    type: str
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    external_id: bool = False


@dataclass(frozen=True)
class ObjectInfo:
    """A CRM object as the live account describes it."""

    name: str
    fields: dict[str, FieldInfo]

    def field(self, name: str) -> FieldInfo | None:
        """The field called ``name`` (case-insensitive), or None."""
        found = self.fields.get(name)
        if found is not None:
            return found
        wanted = name.casefold()
        return next((f for f in self.fields.values() if f.name.casefold() == wanted), None)


@dataclass(frozen=True)
class ReadRequest:
    """What to read from one CRM object, in (modstamp, id) order.

    ``after`` is the cursor (modstamp as the CRM wrote it, last id). With ``lookback`` zero
    the read starts strictly after it; otherwise it starts ``lookback`` before its modstamp,
    inclusive, and the caller de-duplicates what it has already applied.
    """

    object: str
    fields: tuple[str, ...]
    conditions: tuple[Condition, ...] = ()
    modstamp_field: str = "SystemModstamp"
    after: tuple[str, str] | None = None
    lookback: timedelta = timedelta(0)
    include_deleted: bool = False
    ids: tuple[str, ...] | None = None


@dataclass
class CrmRecord:
    """One CRM record: values flattened (parent fields as ``Parent.Field`` keys).

    Every field the read asked for is a key; the fields of a parent that is not set
    (a null lookup) are None.
    """

    id: str
    modstamp: str | None
    values: dict[str, Any]
    deleted: bool = False
    master_id: str | None = None


@dataclass
class Page:
    """A page of records; ``total`` is the size of the whole result when the CRM says it."""

    records: list[CrmRecord] = field(default_factory=list)
    total: int | None = None


class Connector(Protocol):
    """One connection's access to its CRM account."""

    crm: str

    @property
    def api_calls(self) -> int:
        """API calls made through this connector so far."""
        ...

    @property
    def api_usage(self) -> tuple[int, int] | None:
        """(calls used, daily limit) as the CRM last reported them, or None."""
        ...

    def test(self) -> str:
        """Check credentials and reachability with one cheap call; return a message for a person."""
        ...

    def describe(self, object_name: str) -> ObjectInfo:
        """The live description of an object (cached for the connector's life)."""
        ...

    def read(self, request: ReadRequest) -> Iterator[Page]:
        """Pages of records in (modstamp, id) order."""
        ...

    def read_batch(self, requests: Sequence[ReadRequest]) -> list[Iterator[Page]]:
        """Pages of several reads at once, their first pages fetched together where the CRM can."""
        ...

    def probe(self, object_name: str) -> str:
        """Read one record of an object with the stored credentials; change nothing."""
        ...

    def write(self, records: Sequence[WriteRecord]) -> list[WriteResult]:
        """Write records (update by id or upsert by external id); one result per record, in order."""
        ...

    def delete(self, targets: Sequence[tuple[str, str, str]]) -> list[WriteResult]:
        """Delete (key, CRM object, CRM id) triples; a record already gone counts as deleted."""
        ...

    def shared_reads(self) -> AbstractContextManager[None]:
        """Within the block, reads may share what they fetched (one run's reads)."""
        ...

    def prefetch(self, requests: Sequence[ReadRequest]) -> None:
        """The reads a run will make, in order: the connector may start fetching them now."""
        ...

    def create_defaults(self, object_name: str, conditions: Sequence[Condition]) -> dict[str, Any]:
        """Values that make a new record meet the given equality conditions."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
