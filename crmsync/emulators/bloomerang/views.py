"""Records as the API shows them: Bloomerang's JSON shapes, with absent values left out.

Bloomerang leaves out what a record does not have (a constituent without a household has
no ``HouseholdId`` key), and the published document declares no property nullable, so no
answer carries ``null``. Derived values are computed here: household membership, primary
contact points, fund/campaign/appeal names, soft credit and payment ids, pledge balances and
statuses, the next installment of a recurring donation.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from .clock import format_timestamp
from .reference import campaign_raised
from .store import Record, Store

Json = dict[str, Any]


def _names(text: str) -> tuple[str, ...]:
    """The field names listed in ``text``."""
    return tuple(text.split())


_CONSTITUENT_FIELDS = _names(
    "Type Status FirstName LastName MiddleName Prefix Suffix FullName InformalName FormalName "
    "EnvelopeName RecognitionName JobTitle Employer Website FacebookId TwitterId LinkedInId Gender "
    "Birthdate ProfilePictureType HouseholdId PreferredCommunicationChannel CommunicationRestrictions "
    "CommunicationRestrictionsUpdateReason EmailInterestType EmailInterestsUpdateReason "
    "EngagementScore"
)
_HOUSEHOLD_FIELDS = _names(
    "FullName SortName InformalName FormalName EnvelopeName RecognitionName Status HeadId "
    "CommunicationRestrictions EngagementScore"
)
_TRANSACTION_FIELDS = _names(
    "AccountId Date Amount NonDeductibleAmount Method EntryMethod MethodOrigin CheckNumber CheckDate "
    "CreditCardType CreditCardLastFourDigits CreditCardExpMonth CreditCardExpYear EftAccountType "
    "EftLastFourDigits EftRoutingNumber InKindDescription InKindType InKindMarketValue IntegrationUrl"
)
_DESIGNATION_FIELDS = _names(
    "TransactionId Amount NonDeductibleAmount Note AcknowledgementStatus TributeType"
)
_RECURRING_FIELDS = _names(
    "RecurringDonationStartDate RecurringDonationEndDate RecurringDonationFrequency "
    "RecurringDonationDay1 RecurringDonationDay2 RecurringDonationStatus"
)
_STEP_DAYS = {"Weekly": 7, "EveryOtherWeekly": 14, "TwiceMonthly": 15}
_STEP_MONTHS = {"Monthly": 1, "EveryOtherMonthly": 2, "Quarterly": 3, "Yearly": 12}


def audit(record: Record) -> Json:
    """The ``AuditTrail`` object."""
    return {
        "CreatedDate": format_timestamp(record["Created"]),
        "CreatedName": record["CreatedName"],
        "LastModifiedDate": format_timestamp(record["Modified"]),
        "LastModifiedName": record["ModifiedName"],
    }


def _pick(record: Record, names: tuple[str, ...], into: Json) -> Json:
    for name in names:
        value = record.get(name)
        if value is not None:
            into[name] = value
    return into


def constituent(store: Store, record: Record) -> Json:
    """A ``Constituent`` (``ConstituentWithMembership`` without memberships)."""
    household = store.get("Household", record["HouseholdId"]) if record.get("HouseholdId") else None
    out: Json = {
        "Id": record["Id"],
        "AccountNumber": record["AccountNumber"],
        "IsInHousehold": household is not None,
        "IsHeadOfHousehold": household is not None and household.get("HeadId") == record["Id"],
        "IsFavorite": False,
    }
    _pick(record, _CONSTITUENT_FIELDS, out)
    out.setdefault("ProfilePictureType", "None")
    if record.get("EmailInterestType") == "Custom":
        out["CustomEmailInterests"] = [
            {"Id": interest_id, "Name": (store.get("EmailInterest", interest_id) or {}).get("Name", "")}
            for interest_id in record.get("CustomEmailInterestIds") or ()
        ]
    for list_name, key, id_key in (
        ("Emails", "PrimaryEmail", "EmailIds"),
        ("Phones", "PrimaryPhone", "PhoneIds"),
        ("Addresses", "PrimaryAddress", "AddressIds"),
    ):
        items = record.get(list_name) or []
        primary = next((item for item in items if item["IsPrimary"]), None)
        if primary is not None:
            out[key] = {k: v for k, v in primary.items() if v is not None} | {"AccountId": record["Id"]}
        out[id_key] = [item["Id"] for item in items]
    out["DonorSearchInfo"] = {"GenerosityScore": "NotScanned"}
    out["CustomValues"] = list(record.get("CustomValues") or ())
    out["AuditTrail"] = audit(record)
    return out


def household(store: Store, record: Record) -> Json:
    """A ``HouseholdOutputModel``."""
    out: Json = {"Id": record["Id"], "AccountNumber": record["AccountNumber"], "Type": "Household"}
    _pick(record, _HOUSEHOLD_FIELDS, out)
    out["MemberIds"] = store.related("household_members", record["Id"])
    out["IsFavorite"] = False
    out["AuditTrail"] = audit(record)
    return out


def transaction(store: Store, record: Record) -> Json:
    """A ``Transaction`` with its designations."""
    out: Json = {"Id": record["Id"], "TransactionNumber": record["TransactionNumber"]}
    _pick(record, _TRANSACTION_FIELDS, out)
    out["Designations"] = [
        designation(store, found)
        for found in (store.get("Designation", d) for d in record["DesignationIds"])
        if found is not None
    ]
    out["AttachmentIds"] = []
    out["IsRefunded"] = "No"
    out["RefundIds"] = []
    out["AuditTrail"] = audit(record)
    return out


def designation(store: Store, record: Record) -> Json:
    """One designation, in the shape of its ``Type``."""
    out: Json = {"Id": record["Id"], "DesignationNumber": record["DesignationNumber"]}
    _pick(record, _DESIGNATION_FIELDS, out)
    out["AcknowledgementInteractionIds"] = []
    for name in ("Fund", "Campaign", "Appeal"):
        target_id = record.get(f"{name}Id")
        target = store.get(name, target_id) if target_id is not None else None
        if target is not None:
            out[name] = {"Id": target["Id"], "Name": target["Name"]}
    out["SoftCreditIds"] = store.related("designation_softcredits", record["Id"])
    out["AttachmentIds"] = []
    out["CustomValues"] = list(record.get("CustomValues") or ())
    out["AuditTrail"] = audit(record)
    out["Type"] = kind = record["Type"]
    if kind == "Pledge":
        _pledge(store, record, out)
    elif kind == "RecurringDonation":
        _recurring(store, record, out)
    elif kind == "PledgePayment":
        out["PledgeId"] = record["PledgeId"]
    elif kind == "RecurringDonationPayment":
        out["RecurringDonationId"] = record["RecurringDonationId"]
    return out


def _pledge(store: Store, record: Record, out: Json) -> None:
    payment_ids = store.related("pledge_payments", record["Id"])
    paid = sum(float((store.get("Designation", p) or {}).get("Amount", 0)) for p in payment_ids)
    amount = float(record["Amount"])
    today = store.clock.today()
    installments = record.get("PledgeInstallments") or []
    due = sum(row["Amount"] for row in installments if row["Date"] <= today)
    balance = round(amount - paid, 2)
    arrears = round(max(0.0, due - paid), 2)
    out["PledgePaymentIds"] = payment_ids
    out["PledgeInstallments"] = [{**row, "PledgeId": record["Id"]} for row in installments]
    out["PledgeBalance"] = balance
    out["LastPaymentStatus"] = "Successful" if payment_ids else "NoPayment"
    if balance < 0:
        out["PledgeStatus"] = "Overpaid"
    elif balance == 0:
        out["PledgeStatus"] = "Fulfilled"
    else:
        out["PledgeStatus"] = "InArrears" if arrears > 0 else "InGoodStanding"
    if arrears > 0:
        out["PledgeAmountInArrears"] = arrears
    upcoming = next((row["Date"] for row in installments if row["Date"] > today), None)
    if upcoming is not None and balance > 0:
        out["PledgeNextInstallmentDate"] = upcoming
    out["PledgeWriteOffs"] = []
    out["PledgeFrequencyIsEditable"] = not payment_ids


def _recurring(store: Store, record: Record, out: Json) -> None:
    _pick(record, _RECURRING_FIELDS, out)
    payment_ids = store.related("recurring_payments", record["Id"])
    out["RecurringDonationPaymentIds"] = payment_ids
    out["RecurringDonationLastPaymentStatus"] = "Successful" if payment_ids else "NoPayment"
    if record.get("RecurringDonationStatus", "Active") == "Active":
        upcoming = next_installment(record, store.clock.today())
        if upcoming is not None:
            out["RecurringDonationNextInstallmentDate"] = upcoming


def next_installment(record: Record, today: str) -> str | None:
    """The first installment date of a recurring donation after ``today`` (before its end)."""
    start = date.fromisoformat(record["RecurringDonationStartDate"])
    frequency = record.get("RecurringDonationFrequency", "Monthly")
    end = record.get("RecurringDonationEndDate")
    limit = date.fromisoformat(today)
    current, step = start, 0
    while current <= limit:
        step += 1
        if frequency in _STEP_DAYS:
            current = start + timedelta(days=_STEP_DAYS[frequency] * step)
        else:
            months = start.month - 1 + _STEP_MONTHS.get(frequency, 1) * step
            year, month = start.year + months // 12, months % 12 + 1
            current = date(year, month, min(start.day, 28))
    text = current.isoformat()
    return None if end is not None and text > end else text


def soft_credit(store: Store, record: Record) -> Json:
    """A ``SoftCredit``."""
    out: Json = {}
    _pick(record, ("Id", "DesignationId", "TransactionId", "Amount", "AccountId"), out)
    out["AuditTrail"] = audit(record)
    return out


def listed(store: Store, kind: str, record: Record) -> Json:
    """A fund, campaign, appeal, email interest or custom field setting."""
    if kind == "Fund":
        return _pick(
            record, ("Id", "GeneralLedgerClass", "SortIndex", "Name", "IsDefault", "IsActive"), {}
        ) | {"QuickbooksAccountIds": []}
    if kind == "EmailInterest":
        names = ("Id", "IsSurveyEmailInterest", "SortIndex", "Name", "IsDefault", "IsActive")
        return _pick(record, names, {"IsSurveyEmailInterest": False, "IsDefault": False})
    if kind == "CustomFieldCategory":
        return _pick(record, ("Id", "Name", "SortIndex"), {})
    out = _pick(
        record,
        (
            "Id",
            "CategoryId",
            "FieldId",
            "Name",
            "Value",
            "IsRequired",
            "IsActive",
            "DataType",
            "PickType",
            "SortIndex",
            "StartDate",
            "EndDate",
            "Goal",
        ),
        {},
    )
    if kind == "Campaign":
        out["Raised"] = round(campaign_raised(store).get(record["Id"], 0.0), 2)
    out["AuditTrail"] = audit(record)
    return out


RENDERERS = {
    "Constituent": constituent,
    "Household": household,
    "Transaction": transaction,
    "Designation": designation,
    "SoftCredit": soft_credit,
}


def render(store: Store, kind: str, record: Record) -> Json:
    """Any record in its API shape."""
    renderer = RENDERERS.get(kind)
    return renderer(store, record) if renderer is not None else listed(store, kind, record)
