"""The API under ``/v2``: Bloomerang's paths (plural lists, singular records), answered as its
published document describes them.

Creates answer 200 with the record, updates are ``PUT`` (partial: absent fields stay),
deletes answer ``{"Id","Type","Deleted"}``. The transaction and designation lists answer
``text/json``, the media type the document declares for them; everything else is
``application/json``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import reference
from .constituents import (
    create_constituent,
    delete_constituent,
    update_communication_settings,
    update_constituent,
)
from .credits import create_soft_credit, delete_soft_credit, update_soft_credit
from .errors import ApiError, bad_request, not_found
from .gifts import create_transaction, delete_transaction, update_transaction
from .households import create_household, delete_household, update_household
from .households import update_communication_settings as update_household_settings
from .merge import merge_or_create
from .queries import ListSpec, page, parse
from .records import API_USER
from .search import duplicates, search
from .state import EmulatorState
from .store import Record, Store
from .values import CONSTITUENT_TYPES, CUSTOM_FIELD_OBJECTS, Fields, read_body
from .views import constituent, render

Endpoint = Callable[[Request], Awaitable[Response]]
Creator = Callable[..., Record]
Updater = Callable[[Store, int, Fields, str], Record]
Deleter = Callable[[Store, int, str], None]
JSON_TYPE = "application/json; charset=utf-8"
TEXT_JSON_TYPE = "text/json; charset=utf-8"
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)

LISTS: dict[str, ListSpec] = {
    "/v2/constituents": ListSpec(
        "Constituent",
        ("lastModified", "isFavorite", "type", "id", "customFieldId"),
        ("Id", "CreatedDate", "LastModifiedDate"),
    ),
    "/v2/households": ListSpec("Household", ("lastModified", "id")),
    "/v2/transactions": ListSpec(
        "Transaction",
        ("lastModified", "transactionNumber", "accountId", "id", "type", "minAmount", "maxAmount"),
        ("CreatedDate", "Date", "LastModifiedDate"),
        "Date",
        True,
    ),
    "/v2/transactions/designations": ListSpec(
        "Designation",
        ("designationNumbers", "transactionIds", "id"),
        ("CreatedDate", "Date", "LastModifiedDate"),
        "Date",
        True,
    ),
    "/v2/softcredits": ListSpec(
        "SoftCredit",
        ("lastModified", "constituent", "id"),
        ("AccountId", "CreatedDate", "LastModifiedDate"),
        "AccountId",
    ),
    "/v2/funds": ListSpec("Fund", ("id", "isActive", "search")),
    "/v2/campaigns": ListSpec("Campaign", ("lastModified", "id", "isActive", "search", "hasGoal")),
    "/v2/appeals": ListSpec("Appeal", ("lastModified", "id", "isActive", "search")),
    "/v2/emailInterests": ListSpec("EmailInterest", ("id", "isActive")),
}

# path segment -> (kind, create, update, delete)
RECORDS: dict[str, tuple[str, Creator | None, Updater | None, Deleter | None]] = {
    "constituent": ("Constituent", create_constituent, update_constituent, delete_constituent),
    "household": ("Household", create_household, update_household, delete_household),
    "transaction": ("Transaction", create_transaction, update_transaction, delete_transaction),
    "softcredit": ("SoftCredit", create_soft_credit, update_soft_credit, delete_soft_credit),
    "fund": ("Fund", None, None, None),
    "campaign": ("Campaign", None, None, None),
    "appeal": ("Appeal", None, None, None),
    "emailInterest": ("EmailInterest", None, None, None),
    "transactions/designation": ("Designation", None, None, None),
}
_LISTED = ("Fund", "Campaign", "Appeal")


def json_response(content: Any, status: int = 200, media_type: str = JSON_TYPE) -> Response:
    """A JSON answer serialised once."""
    return Response(_ENCODER.encode(content).encode("utf-8"), status_code=status, media_type=media_type)


def error_response(error: ApiError, headers: dict[str, str] | None = None) -> Response:
    """The ``{"Message"}`` body of ``error`` with its status."""
    response = json_response(error.body(), error.status)
    response.headers.update(headers or {})
    return response


def _state(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.emulator
    return state


def _guard(endpoint: Endpoint) -> Endpoint:
    async def wrapper(request: Request) -> Response:
        try:
            return await endpoint(request)
        except ApiError as error:
            return error_response(error)

    return wrapper


def list_endpoint(spec: ListSpec) -> Endpoint:
    """``GET`` of a list path."""
    media_type = TEXT_JSON_TYPE if spec.kind in ("Transaction", "Designation") else JSON_TYPE

    async def endpoint(request: Request) -> Response:
        state = _state(request)
        query = parse(spec, request.query_params.multi_items(), state.store, state.settings.max_take)
        return json_response(page(state.store, spec, query), media_type=media_type)

    return _guard(endpoint)


def record_endpoint(segment: str) -> Endpoint:
    """``GET``/``PUT``/``DELETE`` of one record."""
    kind, _create, update, delete = RECORDS[segment]

    async def endpoint(request: Request) -> Response:
        store = _state(request).store
        record_id = int(request.path_params["id"])
        if request.method == "GET":
            with store.lock:
                record = store.get(kind, record_id)
                if record is None:
                    raise not_found(kind, record_id)
                return json_response(render(store, kind, record))
        if request.method == "DELETE" and delete is not None:
            delete(store, record_id, API_USER)
            return json_response({"Id": record_id, "Type": kind, "Deleted": True})
        body = Fields(await read_body(request))
        if update is not None:
            record = update(store, record_id, body, API_USER)
        elif kind in _LISTED:
            record = reference.update_listed(store, kind, record_id, body, API_USER)
        else:
            raise ApiError(405, "The requested resource does not support this HTTP method.")
        with store.lock:
            return json_response(render(store, kind, record))

    return _guard(endpoint)


def create_endpoint(segment: str) -> Endpoint:
    """``POST`` of a singular path: a new record, answered 200."""
    kind, create, _update, _delete = RECORDS[segment]

    async def endpoint(request: Request) -> Response:
        store = _state(request).store
        body = Fields(await read_body(request))
        if create is not None:
            record = create(store, body, API_USER)
        else:
            record = reference.create_listed(store, kind, body, API_USER)
        with store.lock:
            return json_response(render(store, kind, record))

    return _guard(endpoint)


@_guard
async def communication_settings(request: Request) -> Response:
    """``PUT /constituent/{id}/updateCommunicationSettings``."""
    store = _state(request).store
    body = Fields(await read_body(request))
    record = update_communication_settings(store, int(request.path_params["id"]), body, API_USER)
    with store.lock:
        return json_response(constituent(store, record))


@_guard
async def household_settings(request: Request) -> Response:
    """``PUT /household/{id}/updateCommunicationSettings``: the household and all its members."""
    store = _state(request).store
    body = Fields(await read_body(request))
    record = update_household_settings(store, int(request.path_params["id"]), body, API_USER)
    with store.lock:
        return json_response(render(store, "Household", record))


@_guard
async def merge_endpoint(request: Request) -> Response:
    """``POST /constituent/merge``: merge into a possible duplicate, or create."""
    store = _state(request).store
    record = merge_or_create(store, Fields(await read_body(request)), API_USER)
    with store.lock:
        return json_response(constituent(store, record))


@_guard
async def search_endpoint(request: Request) -> Response:
    """``GET /constituents/search``: constituents and households."""
    state = _state(request)
    spec = ListSpec("Constituent")
    query = parse(spec, request.query_params.multi_items(), state.store, state.settings.max_take)
    params = {key.casefold(): value for key, value in request.query_params.items()}
    kind = params.get("type")
    if kind is not None:
        kind = next((k for k in (*CONSTITUENT_TYPES, "Household") if k.lower() == kind.strip().lower()), None)
        if kind is None:
            raise bad_request("The type parameter must be Individual, Organization or Household.")
    store = state.store
    with store.lock:
        found = search(store, params.get("search", ""), kind)
        chosen = found[query.skip : query.skip + query.take]
        results = [render(store, table, store.tables[table][record_id]) for table, record_id in chosen]
        total = store.count("Constituent") + store.count("Household")
    return json_response(
        {
            "Total": total,
            "TotalFiltered": len(found),
            "Start": query.skip,
            "ResultCount": len(results),
            "Results": results,
        }
    )


@_guard
async def duplicates_endpoint(request: Request) -> Response:
    """``GET|POST /constituent/duplicates``."""
    state = _state(request)
    if request.method == "POST":
        body = Fields(await read_body(request))
        given = {
            name: body.text(name)
            for name in ("FirstName", "LastName", "OrganizationName", "Street", "PhoneNumber", "EmailAddress")
        }
        kind = body.choice("Type", CONSTITUENT_TYPES)
    else:
        params = {key.casefold(): value for key, value in request.query_params.items()}
        given = {
            name: params.get(name.casefold())
            for name in ("FirstName", "LastName", "OrganizationName", "Street", "PhoneNumber", "EmailAddress")
        }
        kind = params.get("type")
        if kind is not None and kind not in CONSTITUENT_TYPES:
            raise bad_request("The type parameter must be Individual or Organization.")
    store = state.store
    with store.lock:
        found = duplicates(
            store,
            kind=kind,
            first=given["FirstName"],
            last=given["LastName"],
            organization=given["OrganizationName"],
            street=given["Street"],
            phone=given["PhoneNumber"],
            email=given["EmailAddress"],
        )[: state.settings.max_take]
        results = [constituent(store, record) for record in found]
        total = store.count("Constituent")
    return json_response(
        {
            "Total": total,
            "TotalFiltered": len(results),
            "Start": 0,
            "ResultCount": len(results),
            "Results": results,
        }
    )


def _object_type(request: Request) -> str:
    wanted = str(request.path_params["type"])
    for option in CUSTOM_FIELD_OBJECTS:
        if option.lower() == wanted.lower():
            return option
    raise bad_request(f"The type '{wanted}' is not valid; expected one of {', '.join(CUSTOM_FIELD_OBJECTS)}.")


@_guard
async def custom_settings(request: Request) -> Response:
    """``customFieldCategories``, ``customFields`` and ``customValues`` of an object type."""
    store = _state(request).store
    object_type = _object_type(request)
    what = request.url.path.split("/")[2]
    params = {key.casefold(): value for key, value in request.query_params.items()}
    active = params.get("isactive", "true").strip().lower() != "false"
    with store.lock:
        fields = {f["Id"]: f for f in store.tables["CustomField"].values() if f["ObjectType"] == object_type}
        if what == "customFieldCategories":
            kind = "CustomFieldCategory"
            rows = [c for c in store.tables[kind].values() if c["ObjectType"] == object_type]
        elif what == "customFields":
            kind, rows = (
                "CustomField",
                [f for f in fields.values() if bool(f.get("IsActive", True)) == active],
            )
        else:
            kind = "CustomValue"
            field_id = request.path_params.get("fieldId")
            rows = [
                v
                for v in store.tables[kind].values()
                if v["FieldId"] in fields
                and (field_id is None or v["FieldId"] == int(field_id))
                and bool(v.get("IsActive", True)) == active
            ]
        return json_response([render(store, kind, row) for row in sorted(rows, key=lambda r: r["Id"])])


async def current_user(request: Request) -> Response:
    """``GET /user/current``: the user who owns the API key."""
    return json_response(
        {
            "Id": 1,
            "Name": API_USER,
            "Email": "api@bloomerang.example.org",
            "IsActive": True,
            "UserName": "api-integration",
            "PermissionLevel": "Admin",
            "SendTaskEmails": False,
        }
    )


async def database(request: Request) -> Response:
    """``GET /database``: the emulated organization."""
    return json_response(
        {
            "Id": "emulator",
            "Name": "Emulated Nonprofit",
            "Flavor": "Demo",
            "BaseLicenseProvider": "Bloomerang",
            "AccountingIntegration": "None",
        }
    )


def api_routes() -> list[Route]:
    """Every API route."""
    routes = [Route(path, list_endpoint(spec), methods=["GET"]) for path, spec in LISTS.items()]
    routes += [
        Route("/v2/constituents/search", search_endpoint, methods=["GET"]),
        Route("/v2/constituent/duplicates", duplicates_endpoint, methods=["GET", "POST"]),
        Route("/v2/constituent/merge", merge_endpoint, methods=["POST"]),
        Route(
            "/v2/constituent/{id:int}/updateCommunicationSettings", communication_settings, methods=["PUT"]
        ),
        Route("/v2/household/{id:int}/updateCommunicationSettings", household_settings, methods=["PUT"]),
        Route("/v2/customFieldCategories/{type}/", custom_settings, methods=["GET"]),
        Route("/v2/customFields/{type}/", custom_settings, methods=["GET"]),
        Route("/v2/customValues/{type}", custom_settings, methods=["GET"]),
        Route("/v2/customValues/{type}/{fieldId:int}", custom_settings, methods=["GET"]),
        Route("/v2/user/current", current_user, methods=["GET"]),
        Route("/v2/database", database, methods=["GET"]),
    ]
    for segment, (kind, _create, update, delete) in RECORDS.items():
        methods = ["GET"]
        if update is not None or kind in _LISTED:
            methods.append("PUT")
        if delete is not None:
            methods.append("DELETE")
        routes.append(Route(f"/v2/{segment}/{{id:int}}", record_endpoint(segment), methods=methods))
        if kind not in ("EmailInterest", "Designation"):
            routes.append(Route(f"/v2/{segment}", create_endpoint(segment), methods=["POST"]))
    return routes
