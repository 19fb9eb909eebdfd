"""Households: a named group of constituents with a head; members are constituents whose
``HouseholdId`` names it.

``Head`` and ``Members`` in a body are constituents: an item with an ``Id`` is an existing
constituent joining (leaving any other household), an item without one is created as a new
constituent. Given on update, ``Members`` is the whole new membership (with the head).
Deleting a household takes every member out of it; the constituents stay.
"""

from __future__ import annotations

from . import membership
from .constituents import create_constituent
from .errors import bad_request, not_found
from .records import set_values, stamp_new
from .store import Record, Store
from .values import RESTRICTIONS, STATUSES, Fields

NAMES = ("FullName", "SortName", "InformalName", "FormalName", "EnvelopeName", "RecognitionName")


def create_household(
    store: Store, body: Fields, actor: str, *, record_id: int | None = None, created: int | None = None
) -> Record:
    """A new household from a ``HouseholdCreateModel`` body."""
    with store.transaction():
        names = {name: body.text(name, required=True) for name in NAMES}
        head = body.nested("Head")
        if head is None:
            raise bad_request("The Head field is required.")
        household_id = record_id if record_id is not None else store.next_id("account")
        store.reserve("account", household_id)
        record: Record = {
            "Id": household_id,
            "AccountNumber": store.next_id("account_number"),
            "Status": body.choice("Status", STATUSES) or "Active",
            "HeadId": None,
            "CommunicationRestrictions": body.choices("CommunicationRestrictions", RESTRICTIONS) or [],
            "EngagementScore": "Low",
            **names,
        }
        stamp_new(store, record, actor, created)
        store.put("Household", record)
        _members(store, household_id, head, body.items("Members") or [], actor, replace=False)
        return store.get("Household", household_id) or record


def update_household(store: Store, household_id: int, body: Fields, actor: str) -> Record:
    """Apply a ``HouseholdUpdateModel`` body."""
    with store.transaction():
        old = _require(store, household_id)
        record = {**old, "Modified": store.clock.now(), "ModifiedName": actor}
        set_values(record, body, NAMES)
        for name in NAMES:
            if not record.get(name):
                raise bad_request(f"The {name} field cannot be empty.")
        if "Status" in body:
            record["Status"] = body.choice("Status", STATUSES, required=True)
        restrictions = body.choices("CommunicationRestrictions", RESTRICTIONS)
        if restrictions is not None:
            record["CommunicationRestrictions"] = restrictions
        store.put("Household", record)
        members = body.items("Members")
        head = body.nested("Head")
        if head is not None or members is not None:
            _members(store, household_id, head, members, actor, replace=members is not None)
        return store.get("Household", household_id) or record


def update_communication_settings(store: Store, household_id: int, body: Fields, actor: str) -> Record:
    """Apply a ``HouseholdCommunicationSettingsUpdateModel``: the household and all its members."""
    with store.transaction():
        record = {**_require(store, household_id), "Modified": store.clock.now(), "ModifiedName": actor}
        restrictions = body.nested("CommunicationRestrictions")
        if restrictions is None:
            raise bad_request("The CommunicationRestrictions field is required.")
        reason = restrictions.text("UpdateReason", required=True)
        values = restrictions.choices("CommunicationRestrictions", RESTRICTIONS)
        if values is None:
            raise bad_request("The CommunicationRestrictions.CommunicationRestrictions field is required.")
        record["CommunicationRestrictions"] = values
        for member_id in store.related("household_members", household_id):
            member = store.get("Constituent", member_id) or {}
            store.put(
                "Constituent",
                {
                    **member,
                    "CommunicationRestrictions": values,
                    "CommunicationRestrictionsUpdateReason": reason,
                    "Modified": record["Modified"],
                    "ModifiedName": actor,
                },
            )
        return store.put("Household", record)


def delete_household(store: Store, household_id: int, actor: str) -> None:
    """Dissolve a household; its members stay as constituents."""
    with store.transaction():
        _require(store, household_id)
        membership.dissolve(store, household_id, actor)


def _require(store: Store, household_id: int) -> Record:
    found = store.get("Household", household_id)
    if found is None:
        raise not_found("Household", household_id)
    return found


def _member_id(store: Store, item: Fields, actor: str) -> int:
    """An existing constituent named by ``Id``, or a new one made from the item."""
    constituent_id = item.integer("Id")
    if constituent_id is None:
        return int(create_constituent(store, item, actor)["Id"])
    if store.get("Constituent", constituent_id) is None:
        raise bad_request(f"The constituent {constituent_id} does not exist.")
    return constituent_id


def _members(
    store: Store,
    household_id: int,
    head: Fields | None,
    items: list[Fields] | None,
    actor: str,
    *,
    replace: bool,
) -> None:
    wanted: list[int] = []
    head_id = _member_id(store, head, actor) if head is not None else None
    for item in items or ():
        member_id = _member_id(store, item, actor)
        if member_id not in wanted and member_id != head_id:
            wanted.append(member_id)
    if head_id is not None:
        membership.join(store, head_id, household_id, actor, head=True)
    for member_id in wanted:
        membership.join(store, member_id, household_id, actor)
    if replace:
        keep = {*wanted, head_id or (store.get("Household", household_id) or {}).get("HeadId")}
        for member_id in store.related("household_members", household_id):
            if member_id not in keep:
                membership.leave(store, member_id, actor)
