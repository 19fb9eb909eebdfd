"""The Salesforce connector: describe, paged reads by (modstamp, Id), connection test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

from crmsync.connectors.base import CrmRecord, FieldInfo, ObjectInfo, Page, ReadRequest
from crmsync.connectors.salesforce.client import SalesforceClient
from crmsync.connectors.salesforce.soql import read_query
from crmsync.errors import QueryError, RecordError, SchemaError

# Ids in one `Id IN (...)` query: keeps the URL well under Salesforce's 16,000-character limit.
IDS_PER_QUERY = 200


class SalesforceConnector:
    """Reads (and later writes) one Salesforce org through the REST API."""

    crm = "salesforce"

    def __init__(self, client: SalesforceClient, *, page_size: int = 2000) -> None:
        self.client = client
        self.page_size = page_size
        self._described: dict[str, ObjectInfo] = {}

    @property
    def api_calls(self) -> int:
        """REST calls made so far."""
        return self.client.calls

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()

    def test(self) -> str:
        """Log in and read the org's limits: one call."""
        limits = self.client.request("GET", "limits", what="connection test")
        daily = limits.get("DailyApiRequests", {}) if isinstance(limits, dict) else {}
        used = daily.get("Max", 0) - daily.get("Remaining", 0)
        return f"Connection successful (API requests today: {used} of {daily.get('Max', '?')})"

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

    def read(self, request: ReadRequest) -> Iterator[Page]:
        """Pages in (modstamp, Id) order; an expired query cursor is resumed transparently."""
        if request.ids is not None:
            for start in range(0, len(request.ids), IDS_PER_QUERY):
                chunk = replace(request, ids=request.ids[start : start + IDS_PER_QUERY])
                yield from self._read(chunk)
            return
        yield from self._read(request)

    def _read(self, request: ReadRequest) -> Iterator[Page]:
        info = self.describe(request.object)
        select = ["Id", request.modstamp_field]
        if request.include_deleted:
            select.append("IsDeleted")
            if info.field("MasterRecordId") is not None:
                select.append("MasterRecordId")
        select += [f for f in request.fields if f not in select]
        where = f"reading {request.object}"
        soql = read_query(request, info, select=select, where=where)
        resource = "queryAll" if request.include_deleted else "query"
        headers = {"Sforce-Query-Options": f"batchSize={self.page_size}"}
        body = self.client.request(
            "GET", resource, params={"q": soql}, headers=headers, what=f"query {request.object}"
        )
        last: CrmRecord | None = None
        while True:
            page = Page(records=[_record(r, request.modstamp_field) for r in body.get("records", [])])
            page.total = body.get("totalSize")
            if page.records:
                last = page.records[-1]
            yield page
            next_url = body.get("nextRecordsUrl")
            if body.get("done", True) or not next_url:
                return
            try:
                body = self.client.request("GET", next_url, headers=headers, what=f"query {request.object}")
            except QueryError as exc:
                if exc.details.get("errorCode") != "INVALID_QUERY_LOCATOR" or last is None:
                    raise
                # The server-side cursor expired (15 minutes idle): continue strictly after
                # the last record seen, which the (modstamp, Id) order makes exact.
                resumed = replace(request, after=(last.modstamp or "", last.id), lookback=timedelta(0))
                yield from self._read(resumed)
                return


def _record(raw: dict[str, Any], modstamp_field: str) -> CrmRecord:
    values: dict[str, Any] = {}
    _flatten(raw, "", values)
    return CrmRecord(
        id=str(values["Id"]),
        modstamp=values.get(modstamp_field),
        values=values,
        deleted=bool(values.get("IsDeleted", False)),
        master_id=values.get("MasterRecordId"),
    )


def _flatten(raw: dict[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for key, value in raw.items():
        if key == "attributes":
            continue
        if isinstance(value, dict) and "attributes" in value:
            _flatten(value, f"{prefix}{key}.", out)
        else:
            out[prefix + key] = value
