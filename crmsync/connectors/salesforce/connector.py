"""The Salesforce connector: describe, paged reads by (modstamp, Id), writes, connection test."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from crmsync.connectors.base import CrmRecord, FieldInfo, ObjectInfo, Page, ReadRequest
from crmsync.connectors.salesforce.client import SalesforceClient
from crmsync.connectors.salesforce.soql import quote, read_query
from crmsync.connectors.salesforce.writer import SalesforceWriter
from crmsync.connectors.writes import WriteRecord, WriteResult
from crmsync.errors import QueryError, RecordError, SchemaError
from crmsync.model.profile import Condition

# Ids in one `Id IN (...)` query: keeps the URL well under Salesforce's 16,000-character limit.
IDS_PER_QUERY = 200


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

    def write(self, records: Sequence[WriteRecord]) -> list[WriteResult]:
        """Write records (updates by id, upserts by external id); one result per record."""
        return self._writer.write(records)

    def delete(self, targets: Sequence[tuple[str, str]]) -> list[WriteResult]:
        """Delete (key, CRM id) pairs; one result per pair."""
        return self._writer.delete(targets)

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

    def _read(self, request: ReadRequest, *, before: int = 0) -> Iterator[Page]:
        """One query and its pages; ``before`` records were read by an earlier query of this read."""
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
        where = f"reading {request.object}"
        soql = read_query(request, info, select=select, where=where)
        resource = "queryAll" if request.include_deleted else "query"
        headers = {"Sforce-Query-Options": f"batchSize={self.page_size}"}
        body = self.client.request(
            "GET", resource, params={"q": soql}, headers=headers, what=f"query {request.object}"
        )
        last: CrmRecord | None = None
        seen = before
        while True:
            page = Page(records=[_record(r, request.modstamp_field, select) for r in body.get("records", [])])
            total = body.get("totalSize")
            # After a resume Salesforce counts only what is left; the caller wants the whole.
            page.total = before + total if isinstance(total, int) else None
            seen += len(page.records)
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
                # The server-side cursor expired (15 minutes idle, or dropped as the oldest of
                # too many open ones): continue strictly after the last record seen, which the
                # (modstamp, Id) order makes exact.
                resumed = replace(request, after=(last.modstamp or "", last.id), lookback=timedelta(0))
                yield from self._read(resumed, before=seen)
                return


def _record(raw: dict[str, Any], modstamp_field: str, select: list[str]) -> CrmRecord:
    values: dict[str, Any] = {}
    _flatten(raw, "", values)
    # Every selected field is a key. A null parent arrives as one null ("Account": null):
    # its selected fields (Account.Name) become None and the bare relationship key goes.
    present = {key.casefold() for key in values}
    for name in select:
        if name.casefold() not in present:
            values[name] = None
    parents = _relationships(select)
    for key in [k for k, v in values.items() if v is None and k.casefold() in parents]:
        del values[key]
    return CrmRecord(
        id=str(values["Id"]),
        modstamp=values.get(modstamp_field),
        values=values,
        deleted=bool(values.get("IsDeleted", False)),
        master_id=values.get("MasterRecordId"),
    )


def _relationships(select: list[str]) -> set[str]:
    """The relationship paths of the selected fields, case-folded: Account.Owner.Name gives
    account and account.owner."""
    paths: set[str] = set()
    for name in select:
        parts = name.casefold().split(".")
        paths.update(".".join(parts[:i]) for i in range(1, len(parts)))
    return paths


def _flatten(raw: dict[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for key, value in raw.items():
        if key == "attributes":
            continue
        if isinstance(value, dict) and "attributes" in value:
            _flatten(value, f"{prefix}{key}.", out)
        else:
            out[prefix + key] = value
