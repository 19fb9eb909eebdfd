"""Writing to Salesforce in few calls: sObject Collections for single records, Composite
Graph for dependency chains (a donation with its new supporter and household is one call).

Every write is an update by id or an upsert by the platform-id external field, so repeating
a request whose response was lost never duplicates a record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote

from crmsync.connectors.salesforce.client import SalesforceClient
from crmsync.connectors.stamps import parse_crm_datetime
from crmsync.connectors.writes import CHANGED_SINCE_READ, Ref, WriteRecord, WriteResult
from crmsync.errors import ProtocolError, RecordError

COLLECTION_LIMIT = 200
GRAPH_NODES = 500
GRAPHS_PER_CALL = 75
# Errors that say "another transaction held the row": worth one more try, alone.
RETRY_ALONE = {"UNABLE_TO_LOCK_ROW"}
ALREADY_GONE = {"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY", "NOT_FOUND"}


class SalesforceWriter:
    """Writes and deletes records for one connection."""

    def __init__(self, client: SalesforceClient) -> None:
        self.client = client

    def write(self, records: Sequence[WriteRecord]) -> list[WriteResult]:
        """Write ``records``; results in input order, one per record."""
        results: dict[str, WriteResult] = {}
        singles, chains = _components(records)
        results.update(self._collections(singles))
        small = [c for c in chains if len(c) <= GRAPH_NODES]
        for payload in _pack(small):
            results.update(self._graphs(payload))
        for chain in (c for c in chains if len(c) > GRAPH_NODES):
            results.update(self._levels(chain))
        lonely = [r for r in records if results[r.key].code in RETRY_ALONE]
        for record in lonely:
            results.update(self._collections([record]))
        return [results[r.key] for r in records]

    def delete(self, targets: Sequence[tuple[str, str]]) -> list[WriteResult]:
        """Delete (key, crm_id) pairs; a record that is already gone counts as deleted."""
        results: list[WriteResult] = []
        for start in range(0, len(targets), COLLECTION_LIMIT):
            chunk = targets[start : start + COLLECTION_LIMIT]
            body = self.client.request(
                "DELETE",
                "composite/sobjects",
                params={"ids": ",".join(crm_id for _, crm_id in chunk), "allOrNone": "false"},
                what="delete records",
            )
            for (key, crm_id), item in zip(chunk, _list(body, len(chunk)), strict=True):
                result = _collection_result(key, item)
                if not result.ok and result.code in ALREADY_GONE:
                    result = WriteResult(key, True, crm_id, message="already deleted in Salesforce")
                result.crm_id = result.crm_id or crm_id
                results.append(result)
        return results

    # -- sObject Collections -------------------------------------------------------------

    def _collections(self, records: Sequence[WriteRecord]) -> dict[str, WriteResult]:
        results: dict[str, WriteResult] = {}
        updates = [r for r in records if r.crm_id]
        if len(updates) == 1 and updates[0].unmodified_since:
            # One record: sObject Rows can refuse the update if the record changed since it
            # was read (a collection cannot, and a call per record would cost too much).
            results[updates[0].key] = self._conditional(updates[0])
            updates = []
        for chunk in _chunks(updates, COLLECTION_LIMIT):
            payload = [{"attributes": {"type": r.object}, "id": r.crm_id, **_plain(r.body)} for r in chunk]
            body = self.client.request(
                "PATCH",
                "composite/sobjects",
                json={"allOrNone": False, "records": payload},
                what="update records",
            )
            for record, item in zip(chunk, _list(body, len(chunk)), strict=True):
                results[record.key] = _collection_result(record.key, item, crm_id=record.crm_id)
        upserts: dict[tuple[str, str], list[WriteRecord]] = {}
        for record in records:
            if not record.crm_id:
                upserts.setdefault((record.object, record.external_field or "Id"), []).append(record)
        for (object_name, field), group in upserts.items():
            for chunk in _chunks(group, COLLECTION_LIMIT):
                payload = [
                    {"attributes": {"type": object_name}, field: r.external_id, **_plain(r.body)}
                    for r in chunk
                ]
                body = self.client.request(
                    "PATCH",
                    f"composite/sobjects/{object_name}/{field}",
                    json={"allOrNone": False, "records": payload},
                    what=f"upsert {object_name}",
                )
                for record, item in zip(chunk, _list(body, len(chunk)), strict=True):
                    results[record.key] = _collection_result(record.key, item)
        return results

    def _conditional(self, record: WriteRecord) -> WriteResult:
        assert record.crm_id is not None
        assert record.unmodified_since is not None
        try:
            self.client.request(
                "PATCH",
                f"sobjects/{record.object}/{record.crm_id}",
                json=_plain(record.body),
                headers={"If-Unmodified-Since": http_date(record.unmodified_since)},
                what=f"update {record.object} {record.crm_id}",
            )
        except RecordError as exc:
            if exc.details.get("status") == 412:
                return WriteResult(
                    record.key, False, record.crm_id, code=CHANGED_SINCE_READ, message=exc.message
                )
            return WriteResult(
                record.key, False, record.crm_id, code=exc.code, message=exc.message, fields=exc.fields
            )
        return WriteResult(record.key, True, record.crm_id)

    # -- Composite Graph -----------------------------------------------------------------

    def _graphs(self, chains: Sequence[Sequence[WriteRecord]]) -> dict[str, WriteResult]:
        graphs = []
        for number, chain in enumerate(chains):
            nodes = [self._node(record) for record in _ordered(chain)]
            graphs.append({"graphId": f"g{number}", "compositeRequest": nodes})
        body = self.client.request(
            "POST", "composite/graph", json={"graphs": graphs}, what="write dependency chains"
        )
        if not isinstance(body, dict) or len(body.get("graphs", [])) != len(chains):
            raise ProtocolError("Salesforce answered a composite graph request without one result per graph")
        results: dict[str, WriteResult] = {}
        for chain, graph in zip(chains, body["graphs"], strict=True):
            results.update(_graph_results(chain, graph))
        return results

    def _node(self, record: WriteRecord) -> dict[str, Any]:
        base = f"{self.client.data_path}/sobjects/{record.object}"
        if record.crm_id:
            url = f"{base}/{record.crm_id}"
        else:
            url = f"{base}/{record.external_field}/{quote(str(record.external_id), safe='')}"
        return {
            "method": "PATCH",
            "url": url,
            "referenceId": reference_id(record.key),
            "body": _graph_body(record.body),
        }

    # -- a chain too big for one graph: level by level, ids resolved between levels --------

    def _levels(self, chain: Sequence[WriteRecord]) -> dict[str, WriteResult]:
        results: dict[str, WriteResult] = {}
        remaining = list(chain)
        while remaining:
            ready = [r for r in remaining if all(d in results for d in r.depends_on)]
            blocked = [r for r in ready if any(not results[d].ok for d in r.depends_on)]
            for record in blocked:
                failed = next(d for d in record.depends_on if not results[d].ok)
                results[record.key] = WriteResult(
                    record.key, False, halted=True, message=f"not written: {failed} failed first"
                )
            writable = [r for r in ready if r not in blocked]
            resolved = [_resolve(r, results) for r in writable]
            results.update(self._collections(resolved))
            remaining = [r for r in remaining if r.key not in results]
        return results


def http_date(stamp: str) -> str:
    """A Salesforce time (``2024-01-31T12:00:00.000+0000``) as conditional headers take it."""
    return format_datetime(parse_crm_datetime(stamp), usegmt=True)


def reference_id(key: str) -> str:
    """A Composite referenceId for a caller key (letters, digits and underscores only)."""
    return "r_" + re.sub(r"[^A-Za-z0-9_]", "_", key)


def _plain(body: dict[str, Any]) -> dict[str, Any]:
    if any(isinstance(v, Ref) for v in body.values()):
        raise ValueError("a record with references must be written in a graph or by levels")
    return body


def _graph_body(body: dict[str, Any]) -> dict[str, Any]:
    return {k: f"@{{{reference_id(v.key)}.id}}" if isinstance(v, Ref) else v for k, v in body.items()}


def _resolve(record: WriteRecord, results: dict[str, WriteResult]) -> WriteRecord:
    body = {k: results[v.key].crm_id if isinstance(v, Ref) else v for k, v in record.body.items()}
    return WriteRecord(
        record.key, record.object, body, record.crm_id, record.external_field, record.external_id
    )


def _components(records: Sequence[WriteRecord]) -> tuple[list[WriteRecord], list[list[WriteRecord]]]:
    """Records without links to others, and the connected groups (chains) of the rest."""
    parent = {r.key: r.key for r in records}

    def find(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for record in records:
        for dep in record.depends_on:
            if dep in parent:
                parent[find(dep)] = find(record.key)
    groups: dict[str, list[WriteRecord]] = {}
    for record in records:
        groups.setdefault(find(record.key), []).append(record)
    singles = [g[0] for g in groups.values() if len(g) == 1]
    chains = [g for g in groups.values() if len(g) > 1]
    return singles, chains


def _pack(chains: Sequence[Sequence[WriteRecord]]) -> Iterable[list[Sequence[WriteRecord]]]:
    """Chains grouped into graph requests within Salesforce's per-request limits."""
    payload: list[Sequence[WriteRecord]] = []
    nodes = 0
    for chain in chains:
        if payload and (len(payload) == GRAPHS_PER_CALL or nodes + len(chain) > GRAPH_NODES):
            yield payload
            payload, nodes = [], 0
        payload.append(chain)
        nodes += len(chain)
    if payload:
        yield payload


def _ordered(chain: Sequence[WriteRecord]) -> list[WriteRecord]:
    """Parents before children (a graph node may only reference earlier nodes)."""
    done: set[str] = set()
    keys = {r.key for r in chain}
    ordered: list[WriteRecord] = []
    pending = list(chain)
    while pending:
        ready = [r for r in pending if all(d in done or d not in keys for d in r.depends_on)]
        if not ready:
            raise ValueError("the records of a chain reference each other in a cycle")
        for record in ready:
            ordered.append(record)
            done.add(record.key)
        pending = [r for r in pending if r.key not in done]
    return ordered


def _chunks(items: Sequence[WriteRecord], size: int) -> Iterable[Sequence[WriteRecord]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _list(body: Any, expected: int) -> list[dict[str, Any]]:
    if not isinstance(body, list) or len(body) != expected:
        raise ProtocolError(
            "Salesforce answered an sObject Collections request without one result per record"
        )
    return body


def _collection_result(key: str, item: dict[str, Any], *, crm_id: str | None = None) -> WriteResult:
    if item.get("success"):
        return WriteResult(key, True, item.get("id") or crm_id, created=bool(item.get("created", False)))
    errors = item.get("errors") or [{}]
    first = errors[0]
    code = first.get("statusCode") or first.get("errorCode")
    return WriteResult(
        key,
        False,
        item.get("id") or crm_id,
        code=code,
        message=str(first.get("message", "")).strip(),
        fields=tuple(first.get("fields") or ()),
        halted=code in ("ALL_OR_NONE_OPERATION_ROLLED_BACK", "PROCESSING_HALTED"),
    )


def _graph_results(chain: Sequence[WriteRecord], graph: dict[str, Any]) -> dict[str, WriteResult]:
    responses = {
        item.get("referenceId"): item for item in graph.get("graphResponse", {}).get("compositeResponse", [])
    }
    results: dict[str, WriteResult] = {}
    culprit: str | None = None
    for record in chain:
        item = responses.get(reference_id(record.key), {})
        status = int(item.get("httpStatusCode", 0))
        body = item.get("body")
        if 200 <= status < 300:
            crm_id = body.get("id") if isinstance(body, dict) else None
            created = bool(body.get("created", status == 201)) if isinstance(body, dict) else False
            results[record.key] = WriteResult(record.key, True, crm_id or record.crm_id, created=created)
            continue
        error = body[0] if isinstance(body, list) and body else {}
        code = error.get("errorCode") or error.get("statusCode") or f"HTTP_{status}"
        halted = code == "PROCESSING_HALTED"
        if not halted:
            culprit = culprit or record.key
        results[record.key] = WriteResult(
            record.key,
            False,
            record.crm_id,
            code=code,
            message=str(error.get("message", "")).strip(),
            fields=tuple(error.get("fields") or ()),
            halted=halted,
        )
    if not graph.get("isSuccessful", False):
        # A graph is all or nothing: nodes that succeeded before the failure were rolled back.
        for key, result in results.items():
            if result.ok or result.halted:
                results[key] = WriteResult(
                    key,
                    False,
                    code="PROCESSING_HALTED",
                    message=f"rolled back because {culprit or 'another record of the chain'} failed",
                    halted=True,
                )
    return results
