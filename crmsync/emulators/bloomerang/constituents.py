"""Constituents (individuals and organizations): create, update, delete, communication settings.

Updates are partial, as Bloomerang's PUT is: absent fields keep their values, ``null``
clears a text field. Derived names (FullName of an individual, and the informal, formal,
envelope and recognition names while nobody set them by hand) follow the name parts.
Deleting a constituent deletes its transactions and every soft credit given to it, and
takes it out of its household.
"""

from __future__ import annotations

from typing import Any

from . import credits, gifts, membership
from .errors import bad_request, not_found
from .records import apply_custom_values, existing, set_values, stamp_new
from .store import Record, Store
from .values import (
    ADDRESS_TYPES,
    CHANNELS,
    CONSTITUENT_TYPES,
    EMAIL_INTEREST_TYPES,
    EMAIL_TYPES,
    GENDERS,
    PHONE_TYPES,
    PROFILE_PICTURE_TYPES,
    RESTRICTIONS,
    STATUSES,
    Fields,
)

NAME_PARTS = ("FirstName", "LastName", "MiddleName", "Prefix", "Suffix")
DERIVED_NAMES = ("InformalName", "FormalName", "EnvelopeName", "RecognitionName")
PROFILE_FIELDS = ("JobTitle", "Employer", "Website", "FacebookId", "TwitterId", "LinkedInId")
_US = ("United States", "USA", "US")


def derived_names(record: Record) -> dict[str, str | None]:
    """FullName and the default informal, formal, envelope and recognition names."""
    if record.get("Type") == "Organization":
        name = record.get("FullName")
        return {"FullName": name, **dict.fromkeys(DERIVED_NAMES, name)}
    first, last = record.get("FirstName"), record.get("LastName")
    full = " ".join(p for p in (first, record.get("MiddleName"), last, record.get("Suffix")) if p)
    plain = " ".join(p for p in (first, last) if p)
    formal = " ".join(p for p in (record.get("Prefix"), first, last) if p)
    return {
        "FullName": full or None,
        "InformalName": first,
        "FormalName": formal or None,
        "EnvelopeName": formal or None,
        "RecognitionName": plain or None,
    }


def create_constituent(
    store: Store, body: Fields, actor: str, *, record_id: int | None = None, created: int | None = None
) -> Record:
    """A new constituent from a ``ConstituentCreateModel`` body."""
    kind = body.choice("Type", CONSTITUENT_TYPES, required=True)
    with store.transaction():
        constituent_id = record_id if record_id is not None else store.next_id("account")
        store.reserve("account", constituent_id)
        record: Record = {
            "Id": constituent_id,
            "AccountNumber": store.next_id("account_number"),
            "Type": kind,
            "Status": "Active",
            "HouseholdId": None,
            "EmailInterestType": "All",
            "CommunicationRestrictions": [],
            "EngagementScore": "Low",
            "Emails": [],
            "Phones": [],
            "Addresses": [],
            "CustomValues": [],
        }
        stamp_new(store, record, actor, created)
        _apply(store, record, body, creating=True)
        _apply_settings(store, record, body)
        household_id = body.integer("HouseholdId")
        store.put("Constituent", record)
        if household_id is not None:
            existing(store, "Household", household_id, "HouseholdId")
            membership.join(store, constituent_id, household_id, actor)
        return store.get("Constituent", constituent_id) or record


def update_constituent(store: Store, constituent_id: int, body: Fields, actor: str) -> Record:
    """Apply a ``ConstituentUpdateModel`` body."""
    with store.transaction():
        old = _require(store, constituent_id)
        kind = body.choice("Type", CONSTITUENT_TYPES)
        if kind is not None and kind != old["Type"]:
            raise bad_request(f"A constituent's Type cannot change from {old['Type']} to {kind}.")
        record = {**old, "Modified": store.clock.now(), "ModifiedName": actor}
        _apply(store, record, body, creating=False)
        return store.put("Constituent", record)


def delete_constituent(store: Store, constituent_id: int, actor: str) -> None:
    """Delete a constituent with its transactions and the soft credits given to it."""
    with store.transaction():
        _require(store, constituent_id)
        # Payments go before the pledges and recurring donations they pay.
        for transaction_id in sorted(
            store.related("account_transactions", constituent_id), key=lambda t: not _pays(store, t)
        ):
            gifts.delete_transaction(store, transaction_id, actor)
        for credit_id in store.related("account_softcredits", constituent_id):
            credits.delete_soft_credit(store, credit_id, actor)
        membership.leave(store, constituent_id, actor)
        store.delete("Constituent", constituent_id)


def update_communication_settings(store: Store, constituent_id: int, body: Fields, actor: str) -> Record:
    """Apply a ``ConstituentCommunicationSettingsUpdateModel`` body."""
    with store.transaction():
        record = {**_require(store, constituent_id), "Modified": store.clock.now(), "ModifiedName": actor}
        restrictions = body.nested("CommunicationRestrictions")
        if restrictions is not None:
            record["CommunicationRestrictionsUpdateReason"] = restrictions.text("UpdateReason", required=True)
            values = restrictions.choices("CommunicationRestrictions", RESTRICTIONS)
            if values is None:
                raise bad_request(
                    "The CommunicationRestrictions.CommunicationRestrictions field is required."
                )
            record["CommunicationRestrictions"] = values
        channel = body.nested("PreferredChannel")
        if channel is not None:
            record["PreferredCommunicationChannel"] = channel.choice(
                "PreferredCommunicationChannel", CHANNELS, required=True
            )
        interests = body.nested("EmailInterests")
        if interests is not None:
            record["EmailInterestsUpdateReason"] = interests.text("UpdateReason", required=True)
            _email_interests(store, record, interests, required=True)
        return store.put("Constituent", record)


def _pays(store: Store, transaction_id: int) -> bool:
    transaction = store.get("Transaction", transaction_id) or {}
    return any(
        (store.get("Designation", d) or {}).get("Type") in ("PledgePayment", "RecurringDonationPayment")
        for d in transaction.get("DesignationIds", ())
    )


def _require(store: Store, constituent_id: int) -> Record:
    found = store.get("Constituent", constituent_id)
    if found is None:
        raise not_found("Constituent", constituent_id)
    return found


def _apply(store: Store, record: Record, body: Fields, *, creating: bool) -> None:
    before = derived_names(record) if not creating else {}
    status = body.choice("Status", STATUSES)
    if status is not None:
        record["Status"] = status
    set_values(record, body, (*NAME_PARTS, "FullName", *DERIVED_NAMES, *PROFILE_FIELDS))
    for name, allowed in (("Gender", GENDERS), ("ProfilePictureType", PROFILE_PICTURE_TYPES)):
        if name in body:
            record[name] = body.choice(name, allowed)
    if "Birthdate" in body:
        record["Birthdate"] = body.date("Birthdate")
    if record["Type"] == "Individual" and not (record.get("FirstName") and record.get("LastName")):
        raise bad_request("FirstName and LastName are required for an Individual.")
    if record["Type"] == "Organization" and not record.get("FullName"):
        raise bad_request("FullName is required for an Organization.")
    for name, value in derived_names(record).items():
        if name in body and body.data.get(name) is not None:
            continue  # set by hand
        # A name still at its default follows the name parts; one set by hand stays.
        individual_full = name == "FullName" and record["Type"] == "Individual"
        if creating or individual_full or record.get(name) in (None, before.get(name)):
            record[name] = value
    _contacts(store, record, body)
    values = body.items("CustomValues")
    if values is not None:
        record["CustomValues"] = apply_custom_values(
            store, record.get("CustomValues") or [], values, "Constituent"
        )


def _apply_settings(store: Store, record: Record, body: Fields) -> None:
    """The communication settings a create body may carry."""
    if "PreferredCommunicationChannel" in body:
        record["PreferredCommunicationChannel"] = body.choice("PreferredCommunicationChannel", CHANNELS)
    restrictions = body.choices("CommunicationRestrictions", RESTRICTIONS)
    if restrictions is not None:
        record["CommunicationRestrictions"] = restrictions
    if "EmailInterestType" in body:
        _email_interests(store, record, body, required=False)


def _email_interests(store: Store, record: Record, body: Fields, *, required: bool) -> None:
    kind = body.choice("EmailInterestType", EMAIL_INTEREST_TYPES, required=required) or "All"
    ids = body.integers("CustomEmailInterestIds") or []
    if kind == "Custom":
        for interest_id in ids:
            existing(store, "EmailInterest", interest_id, "CustomEmailInterestIds")
    record["EmailInterestType"] = kind
    record["CustomEmailInterestIds"] = ids if kind == "Custom" else []


def _contacts(store: Store, record: Record, body: Fields) -> None:
    for list_name, primary, secondary, build in (
        ("Emails", "PrimaryEmail", "SecondaryEmails", _email),
        ("Phones", "PrimaryPhone", "SecondaryPhones", _phone),
        ("Addresses", "PrimaryAddress", "SecondaryAddresses", _address),
    ):
        items: list[dict[str, Any]] = [dict(item) for item in record.get(list_name) or ()]
        if primary in body:
            nested = body.nested(primary)
            current = next((item for item in items if item["IsPrimary"]), None)
            if nested is None:
                items = [item for item in items if not item["IsPrimary"]]
            elif current is not None:
                current.update(build(nested, current))
            else:
                items.insert(0, {"Id": store.next_id("contact"), "IsPrimary": True, **build(nested, {})})
        for nested in body.items(secondary) or ():
            item_id = nested.integer("Id")
            match = next((item for item in items if item["Id"] == item_id), None)
            if match is not None:
                match.update(build(nested, match))
            else:
                items.append({"Id": store.next_id("contact"), "IsPrimary": False, **build(nested, {})})
        if items and not any(item["IsPrimary"] for item in items):
            items[0]["IsPrimary"] = True
        record[list_name] = items


def _email(fields: Fields, current: dict[str, Any]) -> dict[str, Any]:
    value = fields.text("Value", required="Value" not in current)
    if value is not None and ("@" not in value or " " in value):
        raise bad_request(f"'{value}' is not a valid email address.")
    return {
        "Type": fields.choice("Type", EMAIL_TYPES) or current.get("Type", "Home"),
        "Value": value or current.get("Value"),
        "IsBad": fields.boolean("IsBad") if "IsBad" in fields else current.get("IsBad", False),
    }


def _phone(fields: Fields, current: dict[str, Any]) -> dict[str, Any]:
    return {
        "Type": fields.choice("Type", PHONE_TYPES) or current.get("Type", "Home"),
        "Number": fields.text("Number", required="Number" not in current) or current.get("Number"),
        "Extension": fields.text("Extension") if "Extension" in fields else current.get("Extension"),
    }


def _address(fields: Fields, current: dict[str, Any]) -> dict[str, Any]:
    merged = {
        name: (fields.text(name) if name in fields else current.get(name))
        for name in ("Street", "City", "State", "PostalCode", "Country")
    }
    country = merged["Country"] or "United States"
    state = merged["State"]
    return {
        **merged,
        "Country": country,
        "Type": fields.choice("Type", ADDRESS_TYPES) or current.get("Type", "Home"),
        "IsBad": fields.boolean("IsBad") if "IsBad" in fields else current.get("IsBad", False),
        "StateAbbreviation": state.upper() if state and len(state) <= 3 else current.get("StateAbbreviation"),
        "CountryCode": "US" if country in _US else None,
    }
