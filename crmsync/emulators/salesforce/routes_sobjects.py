"""sObject resources: describe, create/read/update/delete, upsert by external id, updated/deleted."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from crmsync.catalogs import ObjectDef

from . import describe as describing
from .clock import format_datetime, parse_datetime
from .conditional import check_unmodified_since, last_modified_header, not_modified_since, unmodified_since
from .errors import ApiError, MultipleMatchesError, bad_request, entity_is_deleted, not_found
from .ids import looks_like_id, normalize_id
from .records import Row
from .responses import empty_response, json_response, read_json

if TYPE_CHECKING:
    from .rest import Call

# API versions before 46.0 answer an upsert that updated with 204 and no body.
UPSERT_BODY_SINCE = 46.0


def _object(call: Call) -> ObjectDef:
    return call.state.org.object_def(call.params["object"])


def record_url(version: str, object_name: str, record_id: str) -> str:
    """The REST URL of a record."""
    return f"/services/data/v{version}/sobjects/{object_name}/{record_id}"


def render_record(call: Call, obj: ObjectDef, row: Row, fields: list[str] | None = None) -> dict[str, Any]:
    """A record as ``GET /sobjects/{Obj}/{id}`` returns it: attributes, then its fields."""
    body: dict[str, Any] = {
        "attributes": {"type": obj.name, "url": record_url(call.version, obj.name, row["Id"])}
    }
    names = fields if fields is not None else row.layout.names
    for name in names:
        body[name] = row[name]
    return body


async def describe_global(call: Call) -> Response:
    """``GET /sobjects``."""
    return json_response(describing.describe_global(call.state.catalog, call.version))


async def basic_info(call: Call) -> Response:
    """``GET /sobjects/{Obj}``."""
    obj = _object(call)
    with call.state.org.lock:
        return json_response(describing.basic_info(call.state.org, obj, call.version))


async def describe(call: Call) -> Response:
    """``GET /sobjects/{Obj}/describe``."""
    obj = _object(call)
    with call.state.org.lock:
        return json_response(describing.describe_object(call.state.org, obj, call.version))


async def create(call: Call) -> Response:
    """``POST /sobjects/{Obj}``: 201 with the new id."""
    obj = _object(call)
    record_id = call.state.org.insert(obj.name, await read_json(call.request), context=call.write_context())
    return json_response({"id": record_id, "success": True, "errors": []}, 201)


def _locate(call: Call, obj: ObjectDef, segment: str) -> Row:
    """The record a path segment names, with the error Salesforce gives for each kind of miss."""
    if not looks_like_id(segment):
        raise not_found(f"Provided external ID field does not exist or is not accessible: {segment}")
    record_id = normalize_id(segment)
    if record_id is None:
        raise bad_request("MALFORMED_ID", f"malformed id {segment}")
    if record_id[:3] != obj.key_prefix:
        raise bad_request("MALFORMED_ID", f"{obj.label} ID: id value of incorrect type: {segment}")
    row = call.state.org.get(obj.name, record_id)
    if row is None:
        raise not_found()
    if row["IsDeleted"]:
        raise entity_is_deleted()
    return row


def field_list(obj: ObjectDef, text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = []
    for raw in text.split(","):
        name = raw.strip()
        if not name:
            continue
        fdef = obj.field(name)
        if fdef is None:
            raise bad_request(
                "INVALID_FIELD",
                f"No such column '{name}' on entity '{obj.name}'. If you are attempting to use a custom "
                "field, be sure to append the '__c' after the custom field name. Please reference your "
                "WSDL or the describe call for the appropriate names.",
            )
        names.append(fdef.name)
    return names


async def read(call: Call) -> Response:
    """``GET /sobjects/{Obj}/{id}[?fields=A,B]``; 304 when ``If-Modified-Since`` holds."""
    obj = _object(call)
    fields = field_list(obj, call.request.query_params.get("fields"))
    with call.state.org.lock:
        row = _locate(call, obj, call.params["record"])
        headers = last_modified_header(row)
        if not_modified_since(call.request.headers, row):
            return empty_response(304, headers)
        return json_response(render_record(call, obj, row, fields), headers=headers)


async def update(call: Call) -> Response:
    """``PATCH /sobjects/{Obj}/{id}``: 204; 412 when ``If-Unmodified-Since`` fails."""
    obj = _object(call)
    body = await read_json(call.request)
    since = unmodified_since(call.request.headers)
    with call.state.org.lock:
        row = _locate(call, obj, call.params["record"])
        check_unmodified_since(since, row)
        call.state.org.update(obj.name, row["Id"], body, context=call.write_context())
    return empty_response()


async def delete(call: Call) -> Response:
    """``DELETE /sobjects/{Obj}/{id}``: 204."""
    obj = _object(call)
    with call.state.org.lock:
        row = _locate(call, obj, call.params["record"])
        call.state.org.delete(obj.name, row["Id"], context=call.write_context())
    return empty_response()


async def insert_by_upsert(call: Call) -> Response:
    """``POST /sobjects/{Obj}/Id``: create through the upsert resource (201, created true)."""
    obj = _object(call)
    if call.params["record"].casefold() != "id":
        raise ApiError(
            405, "METHOD_NOT_ALLOWED", "HTTP Method 'POST' not allowed. Allowed are DELETE,GET,HEAD,PATCH"
        )
    record_id, _ = call.state.org.upsert(
        obj.name, "Id", "", await read_json(call.request), context=call.write_context()
    )
    return json_response({"id": record_id, "success": True, "errors": [], "created": True}, 201)


def _matches(call: Call, obj: ObjectDef) -> list[Row]:
    field_name, value = call.params["field"], call.params["value"]
    fdef = obj.field(field_name)
    if fdef is None or not (fdef.external_id or fdef.unique or fdef.name == "Id"):
        raise not_found(f"Provided external ID field does not exist or is not accessible: {field_name}")
    org = call.state.org
    if fdef.name == "Id":
        found = org.get(obj.name, normalize_id(value) or value)
        return [found] if found is not None and not found["IsDeleted"] else []
    return [row for row_id in org.lookup(obj.name, fdef.name, value) if (row := org.get(obj.name, row_id))]


def _multiple(call: Call, obj: ObjectDef, ids: list[str]) -> Response:
    return json_response([record_url(call.version, obj.name, record_id) for record_id in ids], 300)


async def read_by_external_id(call: Call) -> Response:
    """``GET /sobjects/{Obj}/{ExtField}/{value}``: the record, 404, or 300 with the candidates."""
    obj = _object(call)
    fields = field_list(obj, call.request.query_params.get("fields"))
    with call.state.org.lock:
        rows = _matches(call, obj)
        if not rows:
            raise not_found()
        if len(rows) > 1:
            return _multiple(call, obj, [row["Id"] for row in rows])
        return json_response(render_record(call, obj, rows[0], fields))


async def delete_by_external_id(call: Call) -> Response:
    """``DELETE /sobjects/{Obj}/{ExtField}/{value}``."""
    obj = _object(call)
    with call.state.org.lock:
        rows = _matches(call, obj)
        if not rows:
            raise not_found()
        if len(rows) > 1:
            return _multiple(call, obj, [row["Id"] for row in rows])
        call.state.org.delete(obj.name, rows[0]["Id"], context=call.write_context())
    return empty_response()


async def upsert(call: Call) -> Response:
    """``PATCH /sobjects/{Obj}/{ExtField}/{value}``: 201 created, 200/204 updated, 300 ambiguous."""
    obj = _object(call)
    body = await read_json(call.request)
    try:
        record_id, created = call.state.org.upsert(
            obj.name, call.params["field"], call.params["value"], body, context=call.write_context()
        )
    except MultipleMatchesError as error:
        return _multiple(call, obj, error.ids)
    result: dict[str, Any] = {"id": record_id, "success": True, "errors": []}
    with_created = float(call.version) >= UPSERT_BODY_SINCE
    if created:
        return json_response(result | ({"created": True} if with_created else {}), 201)
    if not with_created:
        return empty_response()
    return json_response(result | {"created": False}, 200)


def _window(call: Call) -> tuple[datetime, datetime]:
    params = call.request.query_params
    bounds = []
    for name in ("start", "end"):
        text = params.get(name)
        if not text:
            raise bad_request("MISSING_ARGUMENT", f"Missing argument: {name} (an ISO 8601 dateTime in UTC)")
        try:
            moment = parse_datetime(text)
        except ValueError:
            raise bad_request(
                "INVALID_REPLICATION_DATE",
                f"{name} is not a valid dateTime: {text} (use YYYY-MM-DDThh:mm:ssZ)",
            ) from None
        # Salesforce ignores the seconds of both bounds.
        bounds.append(moment.replace(second=0, microsecond=0))
    start, end = bounds
    if start >= end:
        raise bad_request("INVALID_REPLICATION_DATE", "start date must chronologically precede end date")
    return start, end


def _covered(call: Call, end: datetime) -> datetime:
    now = call.state.org.clock.now().replace(second=0, microsecond=0)
    return min(end, now)


async def updated(call: Call) -> Response:
    """``GET /sobjects/{Obj}/updated/?start=&end=``: ids changed in the window."""
    obj = _object(call)
    start, end = _window(call)
    covered = _covered(call, end)
    with call.state.org.lock:
        rows = call.state.org.changed_between(
            obj.name, format_datetime(start), format_datetime(covered), deleted=False
        )
    return json_response({"ids": [row["Id"] for row in rows], "latestDateCovered": format_datetime(covered)})


async def deleted(call: Call) -> Response:
    """``GET /sobjects/{Obj}/deleted/?start=&end=``: records deleted (or merged away) in the window."""
    obj = _object(call)
    start, end = _window(call)
    covered = _covered(call, end)
    org = call.state.org
    with org.lock:
        rows = org.changed_between(obj.name, format_datetime(start), format_datetime(covered), deleted=True)
        every = org.changed_between(obj.name, "1970-01-01T00:00:00Z", "9999-12-31T00:00:00Z", deleted=True)
    earliest = min((row["SystemModstamp"] for row in every), default=None)
    # Nothing is ever purged from the emulator's recycle bin, so everything since the first
    # delete is available and a client never has to fall back to a full resync.
    earliest_date = parse_datetime(earliest).replace(second=0, microsecond=0) if earliest else start
    return json_response(
        {
            "deletedRecords": [{"id": row["Id"], "deletedDate": row["SystemModstamp"]} for row in rows],
            "earliestDateAvailable": format_datetime(min(earliest_date, start)),
            "latestDateCovered": format_datetime(covered),
        }
    )
