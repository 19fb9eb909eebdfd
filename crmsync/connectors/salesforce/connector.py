"""The Salesforce connector: describe, paged reads by (modstamp, Id), writes, connection test."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from crmsync.connectors.base import CrmRecord, FieldInfo, ObjectInfo, Page, ReadRequest
from crmsync.connectors.salesforce.client import SalesforceClient
from crmsync.connectors.salesforce.errors import decide
from crmsync.connectors.salesforce.records import RecordShape
from crmsync.connectors.salesforce.soql import quote, read_query
from crmsync.connectors.salesforce.writer import SalesforceWriter
from crmsync.connectors.writes import WriteRecord, WriteResult
from crmsync.errors import ProtocolError, QueryError, RecordError, SchemaError
from crmsync.model.profile import Condition

# Ids in one `Id IN (...)` query: keeps the URL well under Salesforce's 16,000-character limit.
IDS_PER_QUERY = 200
# Subrequests in one Composite Batch call.
BATCH_LIMIT = 25


class SalesforceConnector:
    """Reads and writes one Salesforce org through the REST API."""

    crm = "salesforce"

    def __init__(self, client: SalesforceClient, *, page_size: int = 2000) -> None:
        self.client = client
        self.page_size = page_size
        self._described: dict[str, ObjectInfo] = {}
        self._record_types: dict[str, dict[str, str]] = {}
        self._writer = SalesforceWriter(client)

    @property
    def api_calls(self) -> int:
        """REST calls made so far."""
        return self.client.calls

    @property
    def api_usage(self) -> tuple[int, int] | None:
        """(used, daily limit) from the last Sforce-Limit-Info header, if any came yet."""
        if self.client.limit_used is None or self.client.limit_max is None:
            return None
        return self.client.limit_used, self.client.limit_max

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()

    def test(self) -> str:
        """Log in and read the org's limits: one call."""
        limits = self.client.request("GET", "limits", what="connection test")
        daily = limits.get("DailyApiRequests", {}) if isinstance(limits, dict) else {}
        used = daily.get("Max", 0) - daily.get("Remaining", 0)
        return f"Connection successful (API requests today: {used} of {daily.get('Max', '?')})"

    def probe(self, object_name: str) -> str:
        """Read one record id of ``object_name`` with the stored token; changes nothing."""
        soql = f"SELECT Id FROM {object_name} LIMIT 1"
        try:
            body = self.client.request("GET", "query", params={"q": soql}, what=f"test {object_name}")
        except RecordError:
            raise SchemaError(f"the Salesforce org has no object {object_name}") from None
        count = len(body.get("records", [])) if isinstance(body, dict) else 0
        plural = "" if count == 1 else "s"
        return f"Connection successful: {object_name} is readable ({count} record{plural} sampled)"

    def describe(self, object_name: str) -> ObjectInfo:
        """The object's fields as this org has them; one call per object per connector."""
        cached = self._described.get(object_name.casefold())
        if cached is not None:
            return cached
        try:
            body = self.client.request(
                "GET", f"sobjects/{object_name}/describe", what=f"describe {object_name}"
            )
        except RecordError:
            raise SchemaError(
                f"the Salesforce org has no object {object_name}; install the package that defines it "
                "or turn off the object's pull toggle"
            ) from None
        fields = {
            f["name"]: FieldInfo(
                name=f["name"],
                type=f.get("type", "string"),
                reference_to=tuple(f.get("referenceTo") or ()),
                relationship_name=f.get("relationshipName"),
                nillable=bool(f.get("nillable", True)),
                createable=bool(f.get("createable", False)),
                updateable=bool(f.get("updateable", False)),
                external_id=bool(f.get("externalId", False)),
            )
            for f in body.get("fields", [])
        }
        info = ObjectInfo(name=body.get("name", object_name), fields=fields)
        self._described[object_name.casefold()] = info
        return info

    def write(self, records: Sequence[WriteRecord]) -> list[WriteResult]:
        """Write records (updates by id, upserts by external id); one result per record."""
        return self._writer.write(records)

    def delete(self, targets: Sequence[tuple[str, str, str]]) -> list[WriteResult]:
        """Delete (key, object, CRM id) triples; one result per triple (the id names the object)."""
        return self._writer.delete([(key, crm_id) for key, _object, crm_id in targets])

    def shared_reads(self) -> AbstractContextManager[None]:
        """Salesforce reads are queries of their own: nothing to share."""
        return nullcontext()

    def prefetch(self, requests: Sequence[ReadRequest]) -> None:
        """Nothing ahead: each object's first page is fetched while the one before is applied."""

    def create_defaults(self, object_name: str, conditions: Sequence[Condition]) -> dict[str, Any]:
        """Field values that make a new record meet equality ``conditions`` (e.g. its record type)."""
        defaults: dict[str, Any] = {}
        for cond in conditions:
            if cond.field.casefold() == "recordtype.developername":
                defaults["RecordTypeId"] = self._record_type_id(object_name, str(cond.value))
            elif "." not in cond.field:
                defaults[cond.field] = cond.value
        return defaults

    def _record_type_id(self, object_name: str, developer_name: str) -> str:
        types = self._record_types.get(object_name)
        if types is None:
            soql = (
                "SELECT Id, DeveloperName FROM RecordType WHERE SobjectType = "
                f"{quote(object_name, where='record types')}"
            )
            body = self.client.request(
                "GET", "query", params={"q": soql}, what=f"record types of {object_name}"
            )
            types = {r["DeveloperName"]: r["Id"] for r in body.get("records", [])}
            self._record_types[object_name] = types
        if developer_name not in types:
            raise SchemaError(
                f"the Salesforce org has no {object_name} record type {developer_name!r}; "
                f"it has {', '.join(sorted(types)) or 'none'}"
            )
        return types[developer_name]

    def read(self, request: ReadRequest) -> Iterator[Page]:
        """Pages in (modstamp, Id) order; an expired query cursor is resumed transparently."""
        if request.ids is not None:
            for start in range(0, len(request.ids), IDS_PER_QUERY):
                chunk = replace(request, ids=request.ids[start : start + IDS_PER_QUERY])
                yield from self._read(chunk)
            return
        yield from self._read(request)

    def read_batch(self, requests: Sequence[ReadRequest]) -> list[Iterator[Page]]:
        """Pages of several reads; their first pages come in one Composite Batch call per 25.

        An idle poll over many objects then costs one call. A read the CRM rejects fails
        only when its own pages are consumed, so one object's problem does not stop others.
        """
        readers: list[Iterator[Page]] = []
        for start in range(0, len(requests), BATCH_LIMIT):
            chunk = requests[start : start + BATCH_LIMIT]
            prepared = [self._prepare(r) for r in chunk]
            body = self.client.request(
                "POST",
                "composite/batch",
                json={
                    "haltOnError": False,
                    "batchRequests": [
                        {
                            "method": "GET",
                            "url": f"v{self.client.api_version}/{resource}?{urlencode({'q': soql})}",
                        }
                        for soql, resource, _ in prepared
                    ],
                },
                what="poll " + ", ".join(r.object for r in chunk),
            )
            results = body.get("results") if isinstance(body, dict) else None
            if not isinstance(results, list) or len(results) != len(chunk):
                raise ProtocolError("Salesforce answered a composite batch without one result per request")
            for request, (_, _, select), result in zip(chunk, prepared, results, strict=True):
                readers.append(self._batched(request, select, result))
        return readers

    def _batched(self, request: ReadRequest, select: list[str], result: dict[str, Any]) -> Iterator[Page]:
        status = int(result.get("statusCode", 0))
        if status >= 300:
            raise decide(status, result.get("result"), retry_after=None, what=f"query {request.object}").error
        # Taken out of the batch's answer: the generator keeps ``result``, not the page in it.
        yield from self._pages(request, select, result.pop("result", None) or {}, before=0)

    def _prepare(self, request: ReadRequest) -> tuple[str, str, list[str]]:
        """(SOQL, resource, selected fields) of a read."""
        info = self.describe(request.object)
        select = ["Id", request.modstamp_field]
        if request.include_deleted:
            select.append("IsDeleted")
            if info.field("MasterRecordId") is not None:
                select.append("MasterRecordId")
        # Salesforce rejects a field selected twice, in any letter case.
        chosen = {name.casefold() for name in select}
        for name in request.fields:
            if name.casefold() not in chosen:
                chosen.add(name.casefold())
                select.append(name)
        soql = read_query(request, info, select=select, where=f"reading {request.object}")
        return soql, "queryAll" if request.include_deleted else "query", select

    def _read(self, request: ReadRequest, *, before: int = 0) -> Iterator[Page]:
        """One query and its pages; ``before`` records were read by an earlier query of this read."""
        soql, resource, select = self._prepare(request)
        # Handed on, not kept here: _pages lets each decoded body go as soon as it is read.
        yield from self._pages(
            request,
            select,
            self.client.request(
                "GET", resource, params={"q": soql}, headers=self._options, what=f"query {request.object}"
            ),
            before=before,
        )

    def _pages(self, request: ReadRequest, select: list[str], body: Any, *, before: int) -> Iterator[Page]:
        """The pages of a query result, following nextRecordsUrl."""
        shape = RecordShape(request.modstamp_field, select)
        last: CrmRecord | None = None
        seen = before
        while True:
            rows = body.get("records", [])
            total = body.get("totalSize")
            next_url = body.get("nextRecordsUrl")
            done = body.get("done", True)
            # Holding neither the decoded body nor the page handed out while the consumer
            # applies it and the next body is fetched keeps one page fewer in memory.
            del body
            page = Page(records=[shape.record(r) for r in rows])
            del rows
            # After a resume Salesforce counts only what is left; the caller wants the whole.
            page.total = before + total if isinstance(total, int) else None
            seen += len(page.records)
            if page.records:
                last = page.records[-1]
            yield page
            del page
            if done or not next_url:
                return
            try:
                body = self.client.request(
                    "GET", next_url, headers=self._options, what=f"query {request.object}"
                )
            except QueryError as exc:
                if exc.details.get("errorCode") != "INVALID_QUERY_LOCATOR" or last is None:
                    raise
                # The server-side cursor expired (15 minutes idle, or dropped as the oldest of
                # too many open ones): continue strictly after the last record seen, which the
                # (modstamp, Id) order makes exact.
                resumed = replace(request, after=(last.modstamp or "", last.id), lookback=timedelta(0))
                yield from self._read(resumed, before=seen)
                return

    @property
    def _options(self) -> dict[str, str]:
        return {"Sforce-Query-Options": f"batchSize={self.page_size}"}
