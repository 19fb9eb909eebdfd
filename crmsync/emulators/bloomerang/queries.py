"""List endpoints: ``skip``/``take`` paging, the documented filters and orders, and the
``{"Total","TotalFiltered","Start","ResultCount","Results"}`` page.

Query parameter names match in any case (as ASP.NET binds them); multi-value filters are
pipe-separated (``id=1|2|3``), repeated parameters are accepted too. ``lastModified`` keeps
records modified at or after the given instant (a date alone means its midnight UTC).
Orders break ties by ``Id`` in the same direction, so pages are stable. The ordered ids of
a query are cached until the next write, so walking its pages costs one sort.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .clock import parse_timestamp
from .errors import bad_request
from .records import custom_value_text
from .store import Record, Store
from .values import CONSTITUENT_TYPES, DESIGNATION_TYPES
from .views import render

DEFAULT_MAX_TAKE = 50
Predicate = Callable[[Record], bool]


@dataclass(frozen=True)
class ListSpec:
    """What one list endpoint accepts."""

    kind: str
    filters: tuple[str, ...] = ()
    orders: tuple[str, ...] = ()
    default_order: str = "Id"
    default_desc: bool = False


@dataclass
class Query:
    """A parsed list request."""

    skip: int = 0
    take: int = DEFAULT_MAX_TAKE
    order: str = "Id"
    desc: bool = False
    ids: tuple[int, ...] | None = None
    narrow: tuple[str, tuple[int, ...]] | None = None  # (index name, keys)
    predicates: list[Predicate] = field(default_factory=list)
    signature: list[Any] = field(default_factory=list)


def _params(raw: Iterable[tuple[str, str]]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for key, value in raw:
        name = key.casefold()
        merged[name] = f"{merged[name]}|{value}" if name in merged else value
    return merged


def _integer(name: str, text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise bad_request(f"The value '{text}' is not valid for {name}.") from None


def _integers(name: str, text: str) -> tuple[int, ...]:
    return tuple(_integer(name, part) for part in text.split("|") if part.strip())


def _number(name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise bad_request(f"The value '{text}' is not valid for {name}.") from None


def _boolean(name: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered not in ("true", "false"):
        raise bad_request(f"The value '{text}' is not valid for {name}.")
    return lowered == "true"


def _enum(name: str, text: str, allowed: Iterable[str]) -> str:
    for option in allowed:
        if option.lower() == text.strip().lower():
            return option
    raise bad_request(f"The value '{text}' is not valid for {name}; expected one of {', '.join(allowed)}.")


def parse(spec: ListSpec, raw: Iterable[tuple[str, str]], store: Store, max_take: int) -> Query:
    """A ``Query`` from the request's query parameters, or 400."""
    params = _params(raw)
    query = Query(order=spec.default_order, desc=spec.default_desc)
    if "skip" in params:
        query.skip = _integer("skip", params["skip"])
        if query.skip < 0:
            raise bad_request("The skip parameter must be 0 or more.")
    query.take = max_take
    if "take" in params:
        query.take = _integer("take", params["take"])
        if not 1 <= query.take <= max_take:
            raise bad_request(f"The take parameter must be between 1 and {max_take}.")
    if spec.orders and "orderby" in params:
        query.order = _enum("orderBy", params["orderby"], spec.orders)
    if spec.orders and "orderdirection" in params:
        query.desc = _enum("orderDirection", params["orderdirection"], ("Asc", "Desc")) == "Desc"
    for name in spec.filters:
        text = params.get(name.casefold())
        if text is not None and text.strip():
            _filter(spec, query, name, text.strip(), params, store)
    return query


def _filter(
    spec: ListSpec, query: Query, name: str, text: str, params: Mapping[str, str], store: Store
) -> None:
    query.signature.append((name, text))
    if name == "lastModified":
        try:
            since = parse_timestamp(text)
        except ValueError:
            raise bad_request(
                f"The value '{text}' is not valid for lastModified; use an ISO 8601 date-time."
            ) from None
        query.predicates.append(lambda r: r["Modified"] >= since)
    elif name == "id":
        query.ids = _integers(name, text)
    elif name == "accountId":
        query.narrow = ("account_transactions", _integers(name, text))
    elif name == "constituent":
        query.narrow = ("account_softcredits", _integers(name, text))
    elif name == "transactionIds":
        query.narrow = ("transaction_designations", _integers(name, text))
    elif name in ("transactionNumber", "designationNumbers"):
        wanted = set(_integers(name, text))
        number = "TransactionNumber" if name == "transactionNumber" else "DesignationNumber"
        query.predicates.append(lambda r: r[number] in wanted)
    elif name == "type" and spec.kind == "Constituent":
        constituent_type = _enum("type", text, CONSTITUENT_TYPES)
        query.predicates.append(lambda r: r["Type"] == constituent_type)
    elif name == "type":
        types = {_enum("type", part, DESIGNATION_TYPES) for part in text.split("|") if part.strip()}
        query.predicates.append(
            lambda r: any(_designation_type(store, d) in types for d in r["DesignationIds"])
        )
    elif name in ("minAmount", "maxAmount"):
        bound = _number(name, text)
        if name == "minAmount":
            query.predicates.append(lambda r: float(r["Amount"]) >= bound)
        else:
            query.predicates.append(lambda r: float(r["Amount"]) <= bound)
    elif name == "isActive":
        active = _boolean(name, text)
        query.predicates.append(lambda r: bool(r.get("IsActive", True)) == active)
    elif name == "isFavorite":
        # The API key's user has favourited nobody.
        favorite = _boolean(name, text)
        query.predicates.append(lambda r: not favorite)
    elif name == "hasGoal":
        goal = _boolean(name, text)
        query.predicates.append(lambda r: bool(r.get("Goal")) == goal)
    elif name == "search":
        needle = text.casefold()
        query.predicates.append(lambda r: needle in str(r.get("Name", "")).casefold())
    elif name == "customFieldId":
        _custom_field(query, text, params)


def _custom_field(query: Query, text: str, params: Mapping[str, str]) -> None:
    field_id = _integer("customFieldId", text)
    value = params.get("customfieldvalue")
    if value is None or not value.strip():
        raise bad_request("customFieldId and customFieldValue must be given together.")
    wanted = value.strip().casefold()
    query.signature.append(("customFieldValue", wanted))
    query.predicates.append(
        lambda r: any(v.strip().casefold() == wanted for v in custom_value_text(r, field_id))
    )


def _designation_type(store: Store, designation_id: int) -> str | None:
    found = store.get("Designation", designation_id)
    return None if found is None else str(found["Type"])


def _sort_key(store: Store, kind: str, order: str) -> Callable[[Record], int]:
    """One integer per record, (value << 32) | Id: ties go by Id, and ints sort fastest."""
    if order == "CreatedDate":
        return lambda r: (r["Created"] << 32) | r["Id"]
    if order == "LastModifiedDate":
        return lambda r: (r["Modified"] << 32) | r["Id"]
    if order == "AccountId":
        return lambda r: (r["AccountId"] << 32) | r["Id"]
    if order == "Date" and kind == "Designation":
        transactions = store.tables["Transaction"]
        return lambda r: (_day_number(transactions.get(r["TransactionId"], {}).get("Date")) << 32) | r["Id"]
    if order == "Date":
        return lambda r: (_day_number(r["Date"]) << 32) | r["Id"]
    return lambda r: int(r["Id"])


def _day_number(day: str | None) -> int:
    """``2024-03-01`` as 20240301 (0 when missing)."""
    return int(day.replace("-", "")) if day else 0


def ordered_ids(store: Store, spec: ListSpec, query: Query) -> list[int]:
    """Ids of every record the query matches, in its order (cached until the next write)."""
    if (query.ids is not None and not query.ids) or (query.narrow is not None and not query.narrow[1]):
        return []
    key = (spec.kind, query.order, query.desc, query.ids, query.narrow, tuple(query.signature))

    def compute() -> list[int]:
        table = store.tables[spec.kind]
        if query.ids is not None:
            candidates: Iterable[Record] = [table[i] for i in dict.fromkeys(query.ids) if i in table]
        elif query.narrow is not None:
            index = store.indexes[query.narrow[0]]
            found = {i for key in query.narrow[1] for i in index.get(key, ())}
            candidates = [table[i] for i in found if i in table]
        else:
            candidates = table.values()
        if query.narrow is not None and query.ids is not None:
            allowed = {i for key in query.narrow[1] for i in store.indexes[query.narrow[0]].get(key, ())}
            candidates = [r for r in candidates if r["Id"] in allowed]
        rows = list(candidates)
        for predicate in query.predicates:
            rows = [r for r in rows if predicate(r)]
        rows.sort(key=_sort_key(store, spec.kind, query.order), reverse=query.desc)
        return [r["Id"] for r in rows]

    # Transaction filters and designation orders read the other kind too.
    kinds = ("Transaction", "Designation") if spec.kind in ("Transaction", "Designation") else (spec.kind,)
    result: list[int] = store.cached(key, compute, kinds)
    return result


def page(store: Store, spec: ListSpec, query: Query) -> dict[str, Any]:
    """One page of a list endpoint."""
    with store.lock:
        ids = ordered_ids(store, spec, query)
        chosen = ids[query.skip : query.skip + query.take]
        results = [render(store, spec.kind, store.tables[spec.kind][i]) for i in chosen]
        return {
            "Total": store.count(spec.kind),
            "TotalFiltered": len(ids),
            "Start": query.skip,
            "ResultCount": len(results),
            "Results": results,
        }
