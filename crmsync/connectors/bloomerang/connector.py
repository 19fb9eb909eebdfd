"""The Bloomerang connector: flat virtual objects over REST API v2 lists, reads and writes."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from crmsync.catalogs import load_catalog
from crmsync.connectors.base import CrmRecord, FieldInfo, ObjectInfo, Page, ReadRequest
from crmsync.connectors.bloomerang.client import BloomerangClient
from crmsync.connectors.bloomerang.reader import TAKE, ListReader
from crmsync.connectors.bloomerang.records import (
    OBJECTS,
    SOURCES,
    Context,
    Raw,
    Source,
    VirtualObject,
    id_key,
    records_of,
)
from crmsync.connectors.bloomerang.writer import BloomerangWriter
from crmsync.connectors.writes import WriteRecord, WriteResult
from crmsync.errors import QueryError, SchemaError
from crmsync.model.conditions import meets
from crmsync.model.profile import Condition

PAGE = 500
PLATFORM_ID_FIELD_NAME = "Platform Id"


class BloomerangConnector:
    """Reads and writes one Bloomerang database through its REST API v2."""

    crm = "bloomerang"

    def __init__(self, client: BloomerangClient, *, concurrency: int = 4) -> None:
        self.client = client
        self.lists = ListReader(client, concurrency=concurrency)
        self._catalog = load_catalog("bloomerang")
        self._field_ids: dict[str, int | None] = {}
        self._interests: tuple[tuple[int, str], ...] | None = None
        self._lock = threading.Lock()
        self._writer = BloomerangWriter(client, self._platform_id_field)

    @property
    def api_calls(self) -> int:
        """REST calls made so far."""
        return self.client.calls

    @property
    def api_usage(self) -> tuple[int, int] | None:
        """Bloomerang reports no daily allowance."""
        return None

    def close(self) -> None:
        """Close the HTTP client and the page threads."""
        self.lists.close()
        self.client.close()

    def shared_reads(self) -> AbstractContextManager[None]:
        """Within the block, a list read for several objects is fetched once."""
        return self.lists.shared()

    def test(self) -> str:
        """Read the key's user and database: two calls."""
        user = self.client.get("/user/current")
        database = self.client.get("/database")
        who = user.get("FullName") or user.get("Name") or user.get("Email") or "the API user"
        name = database.get("Name") or database.get("OrganizationName") or database.get("Id", "")
        return f"Connection successful (signed in as {who}, database {name})"

    def probe(self, object_name: str) -> str:
        """Read one record of the object's list; changes nothing."""
        obj = self._object(object_name)
        body = self.client.get(SOURCES[obj.source].path, {"take": 1})
        total = body.get("TotalFiltered", 0) if isinstance(body, dict) else 0
        return f"Connection successful: {object_name} is readable ({total} records in {obj.source})"

    def describe(self, object_name: str) -> ObjectInfo:
        """The catalog's description; Platform_Id__c only where the database has the custom field."""
        self._object(object_name)
        found = self._catalog.object(object_name)
        assert found is not None
        fields = {
            name: FieldInfo(
                name=f.name,
                type=f.type,
                reference_to=f.reference_to,
                relationship_name=f.relationship_name,
                nillable=f.nillable,
                createable=f.createable,
                updateable=f.updateable,
                external_id=f.external_id,
            )
            for name, f in found.fields.items()
        }
        if "Platform_Id__c" in fields and self._platform_id_field(found.name) is None:
            del fields["Platform_Id__c"]
        return ObjectInfo(found.name, fields)

    def create_defaults(self, object_name: str, conditions: Sequence[Condition]) -> dict[str, Any]:
        """Equality conditions become values (a supporter is created with Type Individual)."""
        return {c.field: c.value for c in conditions if c.op == "=" and "." not in c.field}

    def read(self, request: ReadRequest) -> Iterator[Page]:
        """Pages of records in (modstamp, id) order."""
        obj = self._object(request.object)
        ctx = self._context(obj)
        fields = tuple(dict.fromkeys(("Id", *request.fields)))
        if request.ids is not None:
            yield from self._by_ids(obj, ctx, request, fields)
            return
        terms = _search_terms(obj, request)
        if terms is not None:
            yield from self._searched(obj, ctx, request, fields, terms)
            return
        source, params = _list_read(obj, request)
        after = request.after
        strictly_after = (after[0], id_key(after[1])) if after and not request.lookback else None

        def kept(raws: list[Raw]) -> list[CrmRecord]:
            found = records_of(obj, raws, ctx, fields, lambda values: meets(request.conditions, values))
            if strictly_after is not None:
                found = [r for r in found if ((r.modstamp or ""), id_key(r.id)) > strictly_after]
            found.sort(key=lambda r: ((r.modstamp or ""), id_key(r.id)))
            return found

        if source.orders_by_modified:
            for raws, total in self.lists.pages(source, params):
                records = kept(raws)
                if records:
                    yield Page(records, total)
            return
        # Lists that cannot order by modification are read whole, then ordered.
        everything: list[Raw] = []
        total = 0
        for raws, filtered in self.lists.pages(source, params):
            everything.extend(raws)
            total = filtered
        records = kept(everything)
        for start in range(0, len(records), PAGE):
            yield Page(records[start : start + PAGE], total)
        if not records:
            yield Page([], total)

    def prefetch(self, requests: Sequence[ReadRequest]) -> None:
        """Start fetching, in the background and in this order, the lists these reads will page through."""
        reads = []
        for request in requests:
            obj = self._object(request.object)
            if request.ids is None and _search_terms(obj, request) is None:
                reads.append(_list_read(obj, request))
        self.lists.prefetch(reads)

    def read_batch(self, requests: Sequence[ReadRequest]) -> list[Iterator[Page]]:
        """Bloomerang has no batch call: each read on its own (sharing lists where they coincide)."""
        return [self.read(request) for request in requests]

    def write(self, records: Sequence[WriteRecord]) -> list[WriteResult]:
        """Create or update each record, parents first; one result per record, in order."""
        return self._writer.write(records)

    def delete(self, targets: Sequence[tuple[str, str, str]]) -> list[WriteResult]:
        """Delete (key, object, id) triples; a record already gone counts as deleted."""
        return self._writer.delete(targets)

    # -- helpers ----------------------------------------------------------------------------

    def _object(self, object_name: str) -> VirtualObject:
        obj = OBJECTS.get(object_name.casefold())
        if obj is None:
            known = ", ".join(o.name for o in self._catalog.objects.values())
            raise SchemaError(f"Bloomerang has no object {object_name} (crmsync reads {known})")
        return obj

    def _context(self, obj: VirtualObject) -> Context:
        ids = {kind: self._platform_id_field(kind) for kind in ("Constituent", "Transaction")}
        interests: tuple[tuple[int, str], ...] = ()
        if obj is OBJECTS["emailinterestsubscription"]:
            interests = self._email_interests()
        return Context({k: v for k, v in ids.items() if v is not None}, interests)

    def _platform_id_field(self, kind: str) -> int | None:
        """The id of the "Platform Id" freeform custom field of constituents or transactions."""
        with self._lock:
            if kind not in self._field_ids:
                fields = self.client.get(f"/customFields/{kind}/")
                found = next(
                    (f for f in fields if isinstance(f, dict) and f.get("Name") == PLATFORM_ID_FIELD_NAME),
                    None,
                )
                self._field_ids[kind] = int(found["Id"]) if found else None
            return self._field_ids[kind]

    def _email_interests(self) -> tuple[tuple[int, str], ...]:
        with self._lock:
            if self._interests is None:
                body = self.client.get("/emailInterests", {"isActive": "true", "take": TAKE})
                self._interests = tuple((int(i["Id"]), str(i["Name"])) for i in body.get("Results") or [])
            return self._interests

    def _by_ids(
        self, obj: VirtualObject, ctx: Context, request: ReadRequest, fields: tuple[str, ...]
    ) -> Iterator[Page]:
        wanted = list(dict.fromkeys(request.ids or ()))
        source = SOURCES[obj.source]
        if obj is OBJECTS["designation"]:
            parents = self._designation_parents(wanted)
        elif obj is OBJECTS["emailinterestsubscription"]:
            parents = list(dict.fromkeys(w.split("-")[0] for w in wanted))
        else:
            parents = wanted
        want = set(wanted)
        for start in range(0, len(parents), TAKE):
            chunk = [p for p in parents[start : start + TAKE] if p.isdigit()]
            if not chunk:
                continue
            body = self.client.get(source.path, {"id": "|".join(chunk), "take": TAKE})
            records = [
                r
                for r in records_of(
                    obj, body.get("Results") or [], ctx, fields, lambda v: meets(request.conditions, v)
                )
                if r.id in want
            ]
            yield Page(records, len(wanted))

    def _searched(
        self,
        obj: VirtualObject,
        ctx: Context,
        request: ReadRequest,
        fields: tuple[str, ...],
        terms: list[str],
    ) -> Iterator[Page]:
        """Constituents found by Bloomerang's search, one search per term (matching before a create)."""
        seen: set[str] = set()
        for term in terms:
            for raws, _total in self.lists.pages(SEARCH, {"search": term}):
                people = [r for r in raws if r.get("Type") in ("Individual", "Organization")]
                records = [
                    r
                    for r in records_of(obj, people, ctx, fields, lambda v: meets(request.conditions, v))
                    if r.id not in seen
                ]
                seen.update(r.id for r in records)
                if records:
                    yield Page(records, None)

    def _designation_parents(self, designation_ids: list[str]) -> list[str]:
        parents: list[str] = []
        for start in range(0, len(designation_ids), TAKE):
            chunk = [d for d in designation_ids[start : start + TAKE] if d.isdigit()]
            if chunk:
                body = self.client.get("/transactions/designations", {"id": "|".join(chunk), "take": TAKE})
                parents.extend(str(d["TransactionId"]) for d in body.get("Results") or [])
        return list(dict.fromkeys(parents))


def _list_read(obj: VirtualObject, request: ReadRequest) -> tuple[Source, dict[str, str]]:
    """The list and its parameters that serve ``request``.

    Gifts are read by designation type where the mapping asks for some types only: the
    pledges and recurring donations are a few pages of their own, and the gifts' pages are
    shared by transactions and fund allocations (which ask for the same types).
    """
    source = SOURCES[obj.source]
    params: dict[str, str] = {}
    if source.orders_by_modified:
        params.update(orderBy="LastModifiedDate", orderDirection="Asc")
    after = request.after
    if after is not None and after[0] and source.modified_filter:
        since = _parse(after[0]) - request.lookback
        params["lastModified"] = since.strftime("%Y-%m-%dT%H:%M:%SZ")
    kind_field = {"transaction": "Kind", "designation": "Type"}.get(_name_of(obj))
    for cond in request.conditions:
        if kind_field and cond.field == kind_field and cond.op in ("=", "in") and cond.value is not None:
            values = cond.value if isinstance(cond.value, tuple) else (cond.value,)
            params["type"] = "|".join(sorted(str(v) for v in values))
    return source, params


def _name_of(obj: VirtualObject) -> str:
    return next(name for name, known in OBJECTS.items() if known is obj)


SEARCH = Source("/constituents/search", False, False)
# Fields whose values Bloomerang's search finds (names, emails), most selective first.
_SEARCHABLE = ("Email", "FullName", "LastName")
# More values than this and reading the whole list is cheaper than one search each.
_MAX_SEARCHES = 200


def _search_terms(obj: VirtualObject, request: ReadRequest) -> list[str] | None:
    """Values to search for when a constituent read is a lookup by email or name, else None."""
    if obj is not OBJECTS["constituent"] or request.after is not None:
        return None
    for name in _SEARCHABLE:
        for cond in request.conditions:
            if cond.field == name and cond.op in ("=", "in") and cond.value is not None:
                values = cond.value if isinstance(cond.value, tuple) else (cond.value,)
                terms = sorted({str(v) for v in values if str(v).strip()})
                return terms if len(terms) <= _MAX_SEARCHES else None
    return None


def _parse(stamp: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        raise QueryError(
            f"the stored cursor {stamp!r} is not a Bloomerang timestamp; run a Sync All"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
