"""``/composite`` (up to 25 subrequests with references) and ``/composite/graph`` (graphs of up
to 500 nodes, each all or nothing). Each counts as one API call, whatever it holds.

Composite: subrequests ``{method, url, referenceId, body?, httpHeaders?}`` run in order (a
valid collation, so ``collateSubrequests`` is accepted and changes nothing), on sObject
resources, ``query``/``queryAll`` and sObject Collections (at most 5 of the last three).
``@{ref.path}`` in a url or body takes a value from an earlier answer (``composite_refs``).
Answer: 200 ``{"compositeResponse":[{body, httpHeaders, httpStatusCode, referenceId}]}``;
``httpHeaders`` holds ``Location`` for a create.

- ``allOrNone`` false (default): each subrequest stands alone; one that refers to a failed
  (or unresolvable) one answers 400 PROCESSING_HALTED "Invalid reference specified...".
- ``allOrNone`` true: the first failure stops the run and rolls back everything already
  done; that subrequest keeps its own error, every other one answers 400 PROCESSING_HALTED
  "The transaction was rolled back...". Collections inside run as all-or-none, and a
  collection with a failed record counts as a failure.

Graph: ``{"graphs":[{"graphId","compositeRequest":[...]}]}``, nodes on sObject resources
only, references within one graph; each graph runs like an all-or-none composite. Answer:
``{"graphs":[{"graphId","graphResponse":{"compositeResponse":[...]},"isSuccessful"}]}``.
After 14 failed graphs the remaining ones are not run (PROCESSING_HALTED).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.responses import Response

from .composite_refs import REFERENCE_ID, UnresolvedReferenceError, resolve
from .errors import ApiError, bad_request
from .responses import json_response, read_json

if TYPE_CHECKING:
    from .rest import Call, SubResponse

MAX_SUBREQUESTS = 25
MAX_QUERIES_AND_COLLECTIONS = 5
MAX_GRAPHS = 75
MAX_GRAPH_NODES = 500
MAX_FAILED_GRAPHS = 14
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
FORBIDDEN_HEADERS = frozenset({"accept", "authorization", "content-type"})
COMPOSITE_RESOURCES = frozenset(
    {
        "sobjects",
        "describe",
        "describeGlobal",
        "updated",
        "deleted",
        "query",
        "queryAll",
        "composite/sobjects",
    }
)
GRAPH_RESOURCES = frozenset({"sobjects"})
ROLLED_BACK = "The transaction was rolled back since another operation in the same transaction failed."
GRAPHS_HALTED = f"Processing halted: more than {MAX_FAILED_GRAPHS} graphs of this request failed."


@dataclass
class Subrequest:
    """One subrequest as the client sent it (references unresolved)."""

    method: str
    url: str
    reference_id: str
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def tail(self) -> str:
        """The path after ``/services/data/vXX.X``."""
        path = urlsplit(self.url).path.removeprefix("/services/data/")
        return "/" + path.partition("/")[2]

    @property
    def is_collection(self) -> bool:
        """True for an sObject Collections subrequest."""
        return self.tail.startswith("/composite/sobjects")

    @property
    def is_heavy(self) -> bool:
        """True for the kinds of subrequest a composite may hold at most five of."""
        return self.is_collection or self.tail.rstrip("/") in ("/query", "/queryAll")


def _invalid(message: str) -> ApiError:
    return bad_request("INVALID_API_INPUT", message)


def _limit(message: str) -> ApiError:
    return bad_request("LIMIT_EXCEEDED", message)


def _flag(body: dict[str, Any], key: str, default: bool) -> bool:
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise bad_request("JSON_PARSER_ERROR", f"{key} must be true or false; got {value!r}")
    return value


def parse_subrequests(items: Any, *, limit: int, what: str) -> list[Subrequest]:
    """Validated subrequests; a malformed one fails the whole request (400), as in Salesforce."""
    if not isinstance(items, list) or not items:
        raise _invalid(f"{what} must be a non-empty array of subrequests")
    if len(items) > limit:
        raise _limit(f"A {what} can hold at most {limit} subrequests; this one has {len(items)}")
    parsed: list[Subrequest] = []
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, dict):
            raise _invalid("Every subrequest must be a JSON object")
        method, url, ref = item.get("method"), item.get("url"), item.get("referenceId")
        if method not in METHODS:
            raise _invalid(
                f"Subrequest method must be one of {', '.join(METHODS)} (case-sensitive): {method!r}"
            )
        if not isinstance(url, str) or not url.startswith("/services/data/v"):
            raise _invalid(f"Subrequest url must start with /services/data/vXX.X/: {url!r}")
        if not isinstance(ref, str) or not REFERENCE_ID.match(ref):
            raise _invalid(
                f"Provided referenceId ('{ref}') must start with a letter or a number, and it can "
                "contain only letters, numbers and underscores ('_')."
            )
        if ref in seen:
            raise _invalid(f"Duplicate referenceId provided in the request: {ref}")
        seen.add(ref)
        headers = item.get("httpHeaders") or {}
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise _invalid("httpHeaders must be an object of header names and string values")
        forbidden = sorted(name for name in headers if name.casefold() in FORBIDDEN_HEADERS)
        if forbidden:
            raise _invalid(f"httpHeaders may not set {', '.join(forbidden)}")
        parsed.append(Subrequest(method, url, ref, item.get("body"), dict(headers)))
    return parsed


def _entry(sub: Subrequest, answer: SubResponse) -> dict[str, Any]:
    return {
        "body": answer.body,
        "httpHeaders": answer.headers,
        "httpStatusCode": answer.status,
        "referenceId": sub.reference_id,
    }


def _halted(sub: Subrequest, message: str) -> dict[str, Any]:
    body = [{"errorCode": "PROCESSING_HALTED", "message": message}]
    return {"body": body, "httpHeaders": {}, "httpStatusCode": 400, "referenceId": sub.reference_id}


def _failed(sub: Subrequest, answer: SubResponse) -> bool:
    if not answer.ok:
        return True
    records = answer.body if sub.is_collection and isinstance(answer.body, list) else []
    return any(isinstance(record, dict) and record.get("success") is False for record in records)


def _all_or_none(sub: Subrequest, url: str, body: Any) -> tuple[str, Any]:
    """The collection subrequest as all-or-none, which an all-or-none composite imposes."""
    if not sub.is_collection:
        return url, body
    if isinstance(body, dict):
        return url, body | {"allOrNone": True}
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "allOrNone"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("allOrNone", "true")], safe=",@{}"))), body


async def run_group(
    call: Call, subrequests: list[Subrequest], *, all_or_none: bool, allowed: frozenset[str]
) -> tuple[list[dict[str, Any]], bool]:
    """Run subrequests in order; (their entries, whether every one succeeded).

    The org's lock is held throughout, so no other writer sees a group half done. No await
    in here ever suspends (subrequest bodies are in memory), so no other request on the
    event loop can interleave with the group either.
    """
    org = call.state.org
    answers: dict[str, Any] = {}
    entries: list[dict[str, Any]] = []
    failed_at: int | None = None
    with org.transaction() as group:
        for index, sub in enumerate(subrequests):
            try:
                url, body = str(resolve(sub.url, answers)), resolve(sub.body, answers)
            except UnresolvedReferenceError as error:
                entries.append(_halted(sub, error.message))
                failed_at = index if failed_at is None else failed_at
                if all_or_none:
                    break
                continue
            if all_or_none:
                url, body = _all_or_none(sub, url, body)
            with org.transaction() as one:
                answer = await call.subrequest(sub.method, url, body, sub.headers, allowed=allowed)
                if not answer.ok:
                    one.rollback()
            entries.append(_entry(sub, answer))
            if answer.ok:
                # A collection with some failed records still answered: later subrequests may use it.
                answers[sub.reference_id] = answer.body
            if _failed(sub, answer):
                failed_at = index if failed_at is None else failed_at
                if all_or_none:
                    break
        if all_or_none and failed_at is not None:
            group.rollback()
            own = entries[failed_at]
            entries = [
                own if i == failed_at else _halted(sub, ROLLED_BACK) for i, sub in enumerate(subrequests)
            ]
    return entries, failed_at is None


async def resources(call: Call) -> Response:
    """``GET /composite``: the composite resources of this version."""
    base = f"/services/data/v{call.version}/composite"
    names = ("tree", "batch", "sobjects", "graph")
    return json_response({name: f"{base}/{name}" for name in names})


async def composite(call: Call) -> Response:
    """``POST /composite``."""
    body = await read_json(call.request)
    if not isinstance(body, dict):
        raise bad_request("JSON_PARSER_ERROR", "The composite request body must be a JSON object")
    all_or_none = _flag(body, "allOrNone", False)
    _flag(body, "collateSubrequests", True)
    subrequests = parse_subrequests(
        body.get("compositeRequest"), limit=MAX_SUBREQUESTS, what="compositeRequest"
    )
    heavy = sum(1 for sub in subrequests if sub.is_heavy)
    if heavy > MAX_QUERIES_AND_COLLECTIONS:
        raise _limit(
            f"A composite request can hold at most {MAX_QUERIES_AND_COLLECTIONS} query, queryAll and "
            f"sObject Collections subrequests; this one has {heavy}"
        )
    entries, _ = await run_group(call, subrequests, all_or_none=all_or_none, allowed=COMPOSITE_RESOURCES)
    return json_response({"compositeResponse": entries})


async def graph(call: Call) -> Response:
    """``POST /composite/graph``."""
    body = await read_json(call.request)
    graphs = body.get("graphs") if isinstance(body, dict) else None
    if not isinstance(graphs, list) or not graphs:
        raise _invalid("graphs must be a non-empty array of {graphId, compositeRequest}")
    if len(graphs) > MAX_GRAPHS:
        raise _limit(
            f"A composite graph request can hold at most {MAX_GRAPHS} graphs; this one has {len(graphs)}"
        )
    parsed: list[tuple[str, list[Subrequest]]] = []
    for item in graphs:
        graph_id = item.get("graphId") if isinstance(item, dict) else None
        if not isinstance(graph_id, str) or not REFERENCE_ID.match(graph_id):
            raise _invalid(
                "graphId must start with a letter or a number and hold only letters, numbers and '_': "
                f"{graph_id!r}"
            )
        if any(graph_id == seen for seen, _ in parsed):
            raise _invalid(f"Duplicate graphId provided in the request: {graph_id}")
        nodes = parse_subrequests(item.get("compositeRequest"), limit=MAX_GRAPH_NODES, what="graph")
        parsed.append((graph_id, nodes))
    total = sum(len(nodes) for _, nodes in parsed)
    if total > MAX_GRAPH_NODES:
        raise _limit(
            f"A composite graph request can hold at most {MAX_GRAPH_NODES} nodes; this one has {total}"
        )
    results = []
    failures = 0
    for graph_id, nodes in parsed:
        if failures > MAX_FAILED_GRAPHS:
            entries, ok = [_halted(node, GRAPHS_HALTED) for node in nodes], False
        else:
            entries, ok = await run_group(call, nodes, all_or_none=True, allowed=GRAPH_RESOURCES)
        failures += not ok
        results.append(
            {"graphId": graph_id, "graphResponse": {"compositeResponse": entries}, "isSuccessful": ok}
        )
    return json_response({"graphs": results})
