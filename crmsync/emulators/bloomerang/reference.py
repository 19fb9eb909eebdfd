"""Funds, campaigns and appeals (what designations are for), email interests and custom
fields: the lists an organization sets up once and gifts refer to.

The API creates and updates funds, campaigns and appeals (never deletes them: they are made
inactive); email interests and custom fields are only read through it, and are set up by
the seed, a data file or the control API, as an administrator does in the CRM's settings.
"""

from __future__ import annotations

from typing import Any

from .errors import bad_request, not_found
from .records import stamp_new
from .store import Record, Store
from .values import CUSTOM_FIELD_OBJECTS, Fields

# kind -> id sequence
SEQUENCES = {
    "Fund": "fund",
    "Campaign": "campaign",
    "Appeal": "appeal",
    "EmailInterest": "interest",
    "CustomFieldCategory": "category",
    "CustomField": "field",
    "CustomValue": "value",
}
DATA_TYPES = ("Currency", "Date", "Decimal", "Text", "Year")
PICK_TYPES = ("Freeform", "PickMultiple", "PickOne")


def create_listed(
    store: Store,
    kind: str,
    body: Fields,
    actor: str,
    *,
    record_id: int | None = None,
    created: int | None = None,
) -> Record:
    """A new fund, campaign, appeal, email interest or custom field setting."""
    with store.transaction():
        sequence = SEQUENCES[kind]
        new_id = record_id if record_id is not None else store.next_id(sequence)
        store.reserve(sequence, new_id)
        record: Record = {"Id": new_id, "IsActive": True}
        stamp_new(store, record, actor, created)
        _fields(store, kind, record, body, creating=True)
        return store.put(kind, record)


def update_listed(store: Store, kind: str, record_id: int, body: Fields, actor: str) -> Record:
    """Apply an update body to a fund, campaign or appeal."""
    with store.transaction():
        old = store.get(kind, record_id)
        if old is None:
            raise not_found(kind, record_id)
        record = {**old, "Modified": store.clock.now(), "ModifiedName": actor}
        _fields(store, kind, record, body, creating=False)
        return store.put(kind, record)


def _fields(store: Store, kind: str, record: Record, body: Fields, *, creating: bool) -> None:
    if kind == "CustomValue":
        field = store.get("CustomField", body.integer("FieldId", required=True) or 0)
        if field is None or field["PickType"] == "Freeform":
            raise bad_request("A custom value needs the FieldId of a pick-one or pick-multiple custom field.")
        record["FieldId"] = field["Id"]
        record["Value"] = body.text("Value", required=True)
    elif creating or "Name" in body:
        record["Name"] = body.text("Name", required=True)
    for name in ("IsActive", "IsDefault", "IsSurveyEmailInterest", "IsRequired"):
        if name in body:
            record[name] = bool(body.boolean(name))
    if "SortIndex" in body:
        record["SortIndex"] = body.integer("SortIndex")
    elif creating and kind != "CustomValue":
        record["SortIndex"] = store.count(kind) + 1
    if kind == "Fund" and "GeneralLedgerClass" in body:
        record["GeneralLedgerClass"] = body.text("GeneralLedgerClass")
    if kind == "Campaign":
        _campaign(record, body)
    if kind in ("CustomField", "CustomFieldCategory"):
        _custom_field(store, kind, record, body, creating=creating)


def _campaign(record: Record, body: Fields) -> None:
    for name in ("StartDate", "EndDate"):
        if name in body:
            record[name] = body.date(name)
    if "Goal" in body:
        record["Goal"] = body.amount("Goal")
    if record.get("StartDate") and record.get("EndDate") and record["EndDate"] < record["StartDate"]:
        raise bad_request("The campaign's EndDate is before its StartDate.")


def _custom_field(store: Store, kind: str, record: Record, body: Fields, *, creating: bool) -> None:
    if creating or "ObjectType" in body:
        record["ObjectType"] = body.choice("ObjectType", CUSTOM_FIELD_OBJECTS, required=True)
    if kind == "CustomFieldCategory":
        return
    if creating or "CategoryId" in body:
        category = store.get("CustomFieldCategory", body.integer("CategoryId", required=True) or 0)
        if category is None or category["ObjectType"] != record["ObjectType"]:
            raise bad_request(
                f"The CategoryId does not refer to a {record['ObjectType']} custom field category."
            )
        record["CategoryId"] = category["Id"]
    record["DataType"] = body.choice("DataType", DATA_TYPES) or record.get("DataType", "Text")
    record["PickType"] = body.choice("PickType", PICK_TYPES) or record.get("PickType", "Freeform")
    record.setdefault("IsRequired", False)


def campaign_raised(store: Store) -> dict[int, float]:
    """The amount raised per campaign (its designations' amounts), kept until the next write."""

    def compute() -> dict[int, float]:
        totals: dict[int, float] = {}
        for designation in store.tables["Designation"].values():
            campaign_id = designation.get("CampaignId")
            if campaign_id is not None and designation["Type"] != "Pledge":
                totals[campaign_id] = totals.get(campaign_id, 0.0) + float(designation["Amount"])
        return totals

    result: dict[int, float] = store.cached(("campaign_raised",), compute, ("Designation",))
    return result


def field_by_name(store: Store, object_type: str, name: str) -> dict[str, Any] | None:
    """The custom field of ``object_type`` called ``name`` (case-insensitive), if any."""
    wanted = name.casefold()
    for field in store.tables["CustomField"].values():
        if field["ObjectType"] == object_type and str(field["Name"]).casefold() == wanted:
            return field
    return None
