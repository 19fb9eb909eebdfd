"""sObject Collections, ``/composite/sobjects``: up to 200 records in one call.

``POST`` creates (records of mixed types, each with ``attributes.type`` and no id),
``PATCH`` updates (each with its ``id``), ``DELETE ?ids=a,b&allOrNone=`` deletes,
``GET|POST /composite/sobjects/{Obj}`` retrieves, and ``PATCH /composite/sobjects/{Obj}/{ExtField}``
upserts by external id. Each record goes through the same write path as a single-record
call. A well-formed request answers 200 with one result per record, in input order; record
errors carry ``statusCode`` (not ``errorCode``). With ``allOrNone`` every change is rolled
back when any record fails, and the records that were fine report
ALL_OR_NONE_OPERATION_ROLLED_BACK. Limits are checked before anything is written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from crmsync.catalogs import ObjectDef

from .errors import ApiError, MultipleMatchesError, bad_request, not_found
from .ids import normalize_id
from .records import Row
from .responses import json_response, read_json
from .routes_sobjects import field_list, render_record

if TYPE_CHECKING:
    from .rest import Call

MAX_RECORDS = 200
MAX_RETRIEVE_IDS = {"GET": 800, "POST": 2000}
COLLECTIONS_SINCE = 42.0
UPSERT_SINCE = 46.0
ROLLED_BACK = (
    "Record rolled back because not all records were valid and the request was using AllOrNone header"
)
Result = dict[str, Any]


def _too_many(limit: int = MAX_RECORDS) -> ApiError:
    return bad_request(
        "EXCEEDED_ID_LIMIT", f"record limit reached. cannot submit more than {limit} records into this call"
    )


def _require_version(call: Call, since: float) -> None:
    if float(call.version) < since:
        raise not_found()


async def _records(call: Call) -> tuple[list[dict[str, Any]], bool]:
    body = await read_json(call.request)
    records = body.get("records") if isinstance(body, dict) else None
    if not isinstance(records, list) or not all(isinstance(record, dict) for record in records):
        raise bad_request(
            "JSON_PARSER_ERROR", 'The request body must be {"allOrNone":..,"records":[{..},..]}'
        )
    if len(records) > MAX_RECORDS:
        raise _too_many()
    return records, _flag(body.get("allOrNone", False))


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().casefold() == "true"
    return bool(value)


def _record_type(call: Call, record: dict[str, Any]) -> ObjectDef:
    attributes = record.get("attributes")
    name = attributes.get("type") if isinstance(attributes, dict) else None
    if not isinstance(name, str) or not name:
        raise bad_request("INVALID_TYPE", "Must send a concrete entity type.")
    obj = call.state.catalog.object(name)
    if obj is None:
        raise bad_request(
            "INVALID_TYPE",
            f"sObject type '{name}' is not supported. If you are attempting to use a custom object, be sure "
            "to append the '__c' after the entity name.",
        )
    return obj


def _fields(record: dict[str, Any], *drop: str) -> dict[str, Any]:
    dropped = {name.casefold() for name in ("attributes", *drop)}
    return {key: value for key, value in record.items() if key.casefold() not in dropped}


def _given_id(record: dict[str, Any]) -> Any:
    return next((value for key, value in record.items() if key.casefold() == "id"), None)


def _id_text(raw: Any) -> str | None:
    """The id a client gave, as results echo it (18 characters when it is a valid id)."""
    if raw is None:
        return None
    return normalize_id(str(raw)) or str(raw)


def _locate(call: Call, raw: Any, obj: ObjectDef | None = None) -> tuple[ObjectDef, Row]:
    """The live row ``raw`` names, with the per-record error Salesforce gives for each miss."""
    record_id = normalize_id(str(raw)) if isinstance(raw, str) else None
    target = call.state.org.by_prefix.get(record_id[:3]) if record_id else None
    if record_id is None or target is None:
        raise bad_request("MALFORMED_ID", f"malformed id {raw}")
    if obj is not None and target.name != obj.name:
        raise bad_request("MALFORMED_ID", f"{obj.label} ID: id value of incorrect type: {raw}")
    row = call.state.org.get(target.name, record_id)
    if row is None:
        raise bad_request("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
    if row["IsDeleted"]:
        raise bad_request("ENTITY_IS_DELETED", "entity is deleted")
    return target, row


RecordOperation = tuple[str | None, Callable[[], Result]]


def _run(call: Call, operations: Sequence[RecordOperation], all_or_none: bool) -> Response:
    """Run one operation per record, each atomic; roll everything back if all-or-none fails.

    Each operation comes with the id the client gave for its record (None for creates and
    upserts), which a failure of that record reports, as Salesforce does for updates and deletes.
    """
    org = call.state.org
    results: list[Result] = []
    with org.transaction() as whole:
        for given_id, operation in operations:
            try:
                with org.transaction():
                    results.append(operation())
            except ApiError as error:
                failed: Result = {"success": False, "errors": [error.record_error()]}
                results.append(({"id": given_id} if given_id is not None else {}) | failed)
        if all_or_none and not all(result["success"] for result in results):
            whole.rollback()
            results = [
                _rolled_back(given_id) if result["success"] else result
                for (given_id, _), result in zip(operations, results, strict=True)
            ]
    return json_response(results)


def _rolled_back(given_id: str | None) -> Result:
    error = {"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": ROLLED_BACK, "fields": []}
    return ({"id": given_id} if given_id is not None else {}) | {"success": False, "errors": [error]}


async def create(call: Call) -> Response:
    """``POST /composite/sobjects``: create records of any types."""
    _require_version(call, COLLECTIONS_SINCE)
    records, all_or_none = await _records(call)
    typed = [(_record_type(call, record), record) for record in records]
    context = call.write_context()

    def creating(obj: ObjectDef, record: dict[str, Any]) -> Callable[[], Result]:
        def run() -> Result:
            if _given_id(record) is not None:
                raise bad_request("INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
            record_id = call.state.org.insert(obj.name, _fields(record), context=context)
            return {"id": record_id, "success": True, "errors": []}

        return run

    return _run(call, [(None, creating(obj, record)) for obj, record in typed], all_or_none)


async def update(call: Call) -> Response:
    """``PATCH /composite/sobjects``: update records of any types by id."""
    _require_version(call, COLLECTIONS_SINCE)
    records, all_or_none = await _records(call)
    typed = [(_record_type(call, record), record) for record in records]
    context = call.write_context()

    def updating(obj: ObjectDef, record: dict[str, Any]) -> Callable[[], Result]:
        def run() -> Result:
            raw = _given_id(record)
            if raw is None:
                raise bad_request("MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])
            _, row = _locate(call, raw, obj)
            call.state.org.update(obj.name, row["Id"], _fields(record, "id"), context=context)
            return {"id": row["Id"], "success": True, "errors": []}

        return run

    operations = [(_id_text(_given_id(record)), updating(obj, record)) for obj, record in typed]
    return _run(call, operations, all_or_none)


async def delete(call: Call) -> Response:
    """``DELETE /composite/sobjects?ids=a,b&allOrNone=false``."""
    _require_version(call, COLLECTIONS_SINCE)
    params = call.request.query_params
    ids = [part.strip() for part in params.get("ids", "").split(",") if part.strip()]
    if not ids:
        raise bad_request("MISSING_ARGUMENT", "ids parameter is required: ?ids=id1,id2")
    if len(ids) > MAX_RECORDS:
        raise _too_many()
    deleted_here: set[str] = set()

    def deleting(raw: str) -> Callable[[], Result]:
        def run() -> Result:
            full = normalize_id(raw)
            if full is not None and full in deleted_here:
                # Already gone with the cascade of an earlier id of this call.
                return {"id": full, "success": True, "errors": []}
            obj, row = _locate(call, raw)
            deleted_here.update(call.state.org.delete(obj.name, row["Id"], context=call.write_context()))
            return {"id": row["Id"], "success": True, "errors": []}

        return run

    operations = [(_id_text(raw), deleting(raw)) for raw in ids]
    return _run(call, operations, _flag(params.get("allOrNone", "false")))


async def retrieve(call: Call) -> Response:
    """``GET ?ids=&fields=`` or ``POST {"ids","fields"}`` on ``/composite/sobjects/{Obj}``."""
    _require_version(call, COLLECTIONS_SINCE)
    obj = call.state.org.object_def(call.params["object"])
    if call.request.method == "POST":
        body = await read_json(call.request)
        ids = body.get("ids") if isinstance(body, dict) else None
        names = body.get("fields") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not isinstance(names, list):
            raise bad_request("JSON_PARSER_ERROR", 'The request body must be {"ids":[..],"fields":[..]}')
        ids, text = [str(item) for item in ids], ",".join(str(name) for name in names)
    else:
        params = call.request.query_params
        ids = [part.strip() for part in params.get("ids", "").split(",") if part.strip()]
        text = params.get("fields", "")
    if not ids or not text.strip():
        raise bad_request("MISSING_ARGUMENT", "Both ids and fields are required")
    if len(ids) > MAX_RETRIEVE_IDS[call.request.method]:
        raise _too_many(MAX_RETRIEVE_IDS[call.request.method])
    fields = field_list(obj, text)
    records: list[dict[str, Any] | None] = []
    with call.state.org.lock:
        for raw in ids:
            try:
                _, row = _locate(call, raw, obj)
            except ApiError:
                records.append(None)
                continue
            records.append(render_record(call, obj, row, fields))
    return json_response(records)


async def upsert(call: Call) -> Response:
    """``PATCH /composite/sobjects/{Obj}/{ExtField}``: create or update each record by external id."""
    _require_version(call, UPSERT_SINCE)
    obj = call.state.org.object_def(call.params["object"])
    fdef = obj.field(call.params["field"])
    if fdef is None or not (fdef.external_id or fdef.name == "Id"):
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist", bare=True)
    records, all_or_none = await _records(call)
    for record in records:
        if _record_type(call, record).name != obj.name:
            raise bad_request("INVALID_TYPE", f"Every record of this upsert must be a {obj.name}")
    values = [
        next((v for k, v in record.items() if k.casefold() == fdef.name.casefold()), None)
        for record in records
    ]
    repeated = Counter(str(value).casefold() for value in values if value is not None)
    context = call.write_context()

    def upserting(record: dict[str, Any], value: Any) -> Callable[[], Result]:
        def run() -> Result:
            if value is None or value == "":
                raise bad_request("MISSING_ARGUMENT", f"{fdef.name} not specified", [fdef.name])
            if repeated[str(value).casefold()] > 1:
                raise bad_request(
                    "DUPLICATE_EXTERNAL_ID", f"Duplicate external id specified: {value}", [fdef.name]
                )
            try:
                record_id, created = call.state.org.upsert(
                    obj.name, fdef.name, str(value), _fields(record), context=context
                )
            except MultipleMatchesError as error:
                raise bad_request(
                    "DUPLICATE_EXTERNAL_ID",
                    f"{fdef.name}: more than one record found for external id field: "
                    f"[{', '.join(error.ids)}]",
                    [fdef.name],
                ) from None
            return {"id": record_id, "success": True, "errors": [], "created": created}

        return run

    operations = [(None, upserting(record, value)) for record, value in zip(records, values, strict=True)]
    return _run(call, operations, all_or_none)
