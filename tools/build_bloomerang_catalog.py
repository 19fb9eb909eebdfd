"""Write crmsync/catalogs/bloomerang.json: Bloomerang's records as the connector presents them.

Bloomerang's API has no describe call and nests values (a constituent's ``PrimaryEmail``, a
transaction's ``Designations``). The connector flattens each kind of record into a virtual
object with flat fields; this catalog is their schema, read from the published OpenAPI
document (``../shared/reference/bloomerang-v2-openapi.json``). ``Platform_Id__c`` is the
"Platform Id" freeform custom field the integration writes its own id into (on constituents,
and on a transaction's first designation).

    .venv/bin/python tools/build_bloomerang_catalog.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "crmsync" / "catalogs" / "bloomerang.json"

DESIGNATION_TYPES = ["Donation", "Pledge", "PledgePayment", "RecurringDonation", "RecurringDonationPayment"]
METHODS = ["None", "Cash", "Check", "CreditCard", "Eft", "InKind", "ApplePay", "GooglePay", "PayPal", "Venmo"]
READ_ONLY = {"createable": False, "updateable": False}

# object -> (label, key prefix, description, fields: name -> (type, extra))
OBJECTS: dict[str, tuple[str, str, str, dict[str, tuple[str, dict[str, Any]]]]] = {
    "Fund": (
        "Fund",
        "blf",
        "GET /funds (no lastModified filter: read whole); POST /fund, PUT /fund/{id}",
        {
            "Name": ("string", {"nillable": False, "length": 255}),
            "IsActive": ("boolean", {}),
            "IsDefault": ("boolean", READ_ONLY),
        },
    ),
    "Campaign": (
        "Campaign",
        "blc",
        "GET /campaigns",
        {
            "Name": ("string", {"nillable": False, "length": 255}),
            "IsActive": ("boolean", {}),
            "StartDate": ("date", {}),
            "EndDate": ("date", {}),
            "Goal": ("currency", {}),
        },
    ),
    "Appeal": (
        "Appeal",
        "bla",
        "GET /appeals",
        {"Name": ("string", {"nillable": False, "length": 255}), "IsActive": ("boolean", {})},
    ),
    "Household": (
        "Household",
        "blh",
        "GET /households; members join through a constituent's HouseholdId",
        {
            "FullName": ("string", {"nillable": False, "length": 255}),
            "InformalName": ("string", {"length": 255}),
            "HeadId": ("reference", {**READ_ONLY, "reference_to": ["Constituent"]}),
        },
    ),
    "Constituent": (
        "Constituent",
        "blk",
        "GET /constituents (type Individual or Organization); PrimaryEmail, PrimaryPhone and "
        "PrimaryAddress flattened; EmailOptOut is EmailInterestType OptedOut",
        {
            "Type": ("picklist", {"nillable": False, "picklist_values": ["Individual", "Organization"]}),
            "Status": ("picklist", {"picklist_values": ["Active", "Inactive", "Deceased"]}),
            "FirstName": ("string", {"length": 50}),
            "MiddleName": ("string", {"length": 50}),
            "LastName": ("string", {"length": 50}),
            "FullName": ("string", {"length": 255}),
            "JobTitle": ("string", {"length": 100}),
            "Birthdate": ("date", {}),
            "Website": ("url", {"length": 255}),
            "Email": ("email", {"length": 255}),
            "Phone": ("phone", {"length": 40}),
            "Street": ("textarea", {}),
            "City": ("string", {"length": 100}),
            "State": ("string", {"length": 100}),
            "PostalCode": ("string", {"length": 40}),
            "Country": ("string", {"length": 100}),
            "DoNotCall": ("boolean", {}),
            "EmailOptOut": ("boolean", {}),
            "HouseholdId": ("reference", {"reference_to": ["Household"], "updateable": False}),
            "Platform_Id__c": ("string", {"length": 255, "external_id": True, "custom": True}),
        },
    ),
    "Transaction": (
        "Transaction",
        "blt",
        "GET /transactions; a gift with its first designation flattened (Kind is its type)",
        {
            "TransactionNumber": ("int", READ_ONLY),
            "AccountId": ("reference", {"nillable": False, "reference_to": ["Constituent"]}),
            "Date": ("date", {"nillable": False}),
            "Amount": ("currency", {"nillable": False}),
            "Method": ("picklist", {"picklist_values": METHODS, "default_value": "None"}),
            "CheckNumber": ("string", {"length": 50}),
            "Kind": ("picklist", {"picklist_values": DESIGNATION_TYPES, "default_value": "Donation"}),
            "FundId": ("reference", {"reference_to": ["Fund"]}),
            "CampaignId": ("reference", {"reference_to": ["Campaign"]}),
            "AppealId": ("reference", {"reference_to": ["Appeal"]}),
            "RecurringDonationId": ("reference", {"reference_to": ["Designation"]}),
            "PledgeId": ("reference", {"reference_to": ["Designation"]}),
            "AcknowledgementStatus": ("picklist", {"picklist_values": ["Yes", "No", "DoNotAcknowledge"]}),
            "Note": ("textarea", {}),
            "Designations": ("int", {**READ_ONLY, "description": "how many designations it has"}),
            "Platform_Id__c": ("string", {"length": 255, "external_id": True, "custom": True}),
        },
    ),
    "Designation": (
        "Designation",
        "bld",
        "every designation of GET /transactions, with its transaction's account and date; "
        "modified when its transaction is",
        {
            "TransactionId": ("reference", {**READ_ONLY, "reference_to": ["Transaction"]}),
            "Type": ("picklist", {**READ_ONLY, "picklist_values": DESIGNATION_TYPES}),
            "Amount": ("currency", READ_ONLY),
            "AccountId": ("reference", {**READ_ONLY, "reference_to": ["Constituent"]}),
            "Date": ("date", READ_ONLY),
            "FundId": ("reference", {**READ_ONLY, "reference_to": ["Fund"]}),
            "CampaignId": ("reference", {**READ_ONLY, "reference_to": ["Campaign"]}),
            "AppealId": ("reference", {**READ_ONLY, "reference_to": ["Appeal"]}),
            "RecurringDonationId": ("reference", {**READ_ONLY, "reference_to": ["Designation"]}),
            "PledgeId": ("reference", {**READ_ONLY, "reference_to": ["Designation"]}),
            "Frequency": ("string", READ_ONLY),
            "StartDate": ("date", READ_ONLY),
            "EndDate": ("date", READ_ONLY),
            "Status": ("string", READ_ONLY),
            "NextDate": ("date", READ_ONLY),
            "Installments": ("int", READ_ONLY),
            "AcknowledgementStatus": ("string", READ_ONLY),
            "Note": ("textarea", READ_ONLY),
        },
    ),
    "SoftCredit": (
        "Soft Credit",
        "bls",
        "GET /softcredits",
        {
            "DesignationId": ("reference", {"nillable": False, "reference_to": ["Designation"]}),
            "TransactionId": ("reference", {**READ_ONLY, "reference_to": ["Transaction"]}),
            "AccountId": ("reference", {"nillable": False, "reference_to": ["Constituent"]}),
            "Amount": ("currency", {"nillable": False}),
        },
    ),
    "EmailInterestSubscription": (
        "Email Interest Subscription",
        "ble",
        "one per individual and active email interest (GET /emailInterests), from the "
        "constituent's EmailInterestType and CustomEmailInterests; id CONSTITUENT-INTEREST",
        {
            "ConstituentId": ("reference", {**READ_ONLY, "reference_to": ["Constituent"]}),
            "EmailInterestId": ("int", READ_ONLY),
            "Name": ("string", {**READ_ONLY, "length": 255}),
            "Channel": ("string", READ_ONLY),
            "Status": ("picklist", {**READ_ONLY, "picklist_values": ["Subscribed", "Unsubscribed"]}),
        },
    ),
}

NO_AUDIT = {"Fund", "EmailInterestSubscription"}


def _field(name: str, kind: str, extra: dict[str, Any]) -> dict[str, Any]:
    label = "".join(f" {c}" if c.isupper() else c for c in name.removesuffix("__c")).strip()
    return {"name": name, "label": label.replace("_", " ").replace("  ", " "), "type": kind, **extra}


def build() -> dict[str, Any]:
    """The catalog document."""
    objects: dict[str, Any] = {}
    for name, (label, prefix, description, fields) in OBJECTS.items():
        all_fields = {"Id": _field("Id", "id", {"nillable": False, **READ_ONLY})}
        all_fields.update({n: _field(n, kind, extra) for n, (kind, extra) in fields.items()})
        if name not in NO_AUDIT:
            all_fields["LastModifiedDate"] = _field("LastModifiedDate", "datetime", {**READ_ONLY})
        objects[name] = {
            "name": name,
            "label": label,
            "label_plural": f"{label}s",
            "key_prefix": prefix,
            # Households are made in a constituent's Household section (the API needs a head the
            # platform does not know); the connector answers CANNOT_CREATE, as for funds.
            "createable": name in ("Constituent", "Transaction", "SoftCredit", "Fund", "Campaign", "Appeal"),
            "deletable": name in ("Constituent", "Transaction", "Household", "SoftCredit"),
            "updateable": name not in ("Designation", "EmailInterestSubscription"),
            "fields": all_fields,
        }
        objects[name]["fields"]["Id"]["description"] = description
    return {
        "name": "bloomerang",
        "description": "Bloomerang REST API v2 records as crmsync's connector flattens them. "
        "Generated by tools/build_bloomerang_catalog.py; do not edit by hand.",
        "objects": objects,
    }


if __name__ == "__main__":
    OUT.write_text(json.dumps(build(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")
