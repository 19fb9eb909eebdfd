"""Flattening: each virtual object of the catalog, read from the emulator's own answers."""

from __future__ import annotations

from typing import Any

import pytest
from bl_connector_testkit import Control, gift, person

from crmsync.catalogs import load_catalog
from crmsync.connectors.base import CrmRecord, ReadRequest
from crmsync.connectors.bloomerang.connector import BloomerangConnector
from crmsync.emulators.bloomerang import Emulator
from crmsync.model.profile import Condition


def _read(connector: BloomerangConnector, object_name: str) -> dict[str, CrmRecord]:
    """Every record of the object with every catalog field."""
    fields = tuple(load_catalog("bloomerang").objects[object_name].fields)
    found: dict[str, CrmRecord] = {}
    for page in connector.read(ReadRequest(object=object_name, fields=fields)):
        for record in page.records:
            assert record.id not in found, f"{object_name} {record.id} read twice"
            assert set(record.values) == set(fields)
            found[record.id] = record
    return found


def _stamp(raw: dict[str, Any]) -> str:
    return str(raw["AuditTrail"]["LastModifiedDate"])


@pytest.fixture
def donors(emulator: Emulator, control: Control) -> dict[str, Any]:
    """A small database made in Bloomerang's screens, every kind of record once."""
    general = control.create("Fund", {"Name": "General Fund", "IsDefault": True})
    building = control.create("Fund", {"Name": "Building Fund", "IsDefault": False})
    campaign = control.create(
        "Campaign",
        {"Name": "2025 Annual Fund", "StartDate": "2025-01-01", "EndDate": "2025-12-31", "Goal": 5000},
    )
    appeal = control.create("Appeal", {"Name": "Spring Letter"})
    news = control.create("EmailInterest", {"Name": "Newsletter"})
    events = control.create("EmailInterest", {"Name": "Events"})
    retired = control.create("EmailInterest", {"Name": "Old List"})
    control.update("EmailInterest", retired["Id"], {"IsActive": False})
    fields = {}
    for object_type in ("Constituent", "Transaction"):
        category = control.create("CustomFieldCategory", {"Name": "Integration", "ObjectType": object_type})
        fields[object_type] = control.create(
            "CustomField",
            {
                "Name": "Platform Id",
                "ObjectType": object_type,
                "CategoryId": category["Id"],
                "PickType": "Freeform",
            },
        )["Id"]
    ada = control.create(
        "Constituent",
        person(
            "Ada",
            "Lovelace",
            "ada@example.org",
            MiddleName="King",
            JobTitle="Analyst",
            Birthdate="1815-12-10",
            PrimaryPhone={"Type": "Mobile", "Number": "555-0100"},
            PrimaryAddress={
                "Type": "Home",
                "Street": "12 St James's Sq",
                "City": "London",
                "State": "LN",
                "PostalCode": "SW1Y",
                "Country": "United Kingdom",
            },
            CommunicationRestrictions=["DoNotCall"],
            EmailInterestType="Custom",
            CustomEmailInterestIds=[news["Id"]],
            CustomValues=[{"FieldId": fields["Constituent"], "Value": "supporters:7"}],
        ),
    )
    grace = control.create("Constituent", person("Grace", "Hopper", EmailInterestType="OptedOut"))
    plain = control.create("Constituent", person("Alan", "Turing"))
    org = control.create(
        "Constituent",
        {"Type": "Organization", "FullName": "Analytical Engines Ltd", "Website": "https://ae.example"},
    )
    household = control.create(
        "Household",
        {
            "FullName": "The Lovelaces",
            "SortName": "Lovelace",
            "InformalName": "Lovelaces",
            "FormalName": "The Lovelace Family",
            "EnvelopeName": "The Lovelaces",
            "RecognitionName": "The Lovelace Family",
            "Head": {"Id": ada["Id"]},
            "Members": [{"Id": ada["Id"]}, {"Id": plain["Id"]}],
        },
    )
    split = control.create(
        "Transaction",
        {
            **gift(ada["Id"], (30, general["Id"]), (20, building["Id"]), CheckNumber="1001"),
            "Designations": [
                {
                    "Type": "Donation",
                    "Amount": 30,
                    "FundId": general["Id"],
                    "CampaignId": campaign["Id"],
                    "AppealId": appeal["Id"],
                    "Note": "in memory",
                    "AcknowledgementStatus": "Yes",
                    "CustomValues": [{"FieldId": fields["Transaction"], "Value": "transactions:3"}],
                },
                {"Type": "Donation", "Amount": 20, "FundId": building["Id"]},
            ],
        },
    )
    pledge = control.create(
        "Transaction",
        {
            "AccountId": org["Id"],
            "Date": "2025-02-01",
            "Amount": 400,
            "Method": "None",
            "Designations": [
                {
                    "Type": "Pledge",
                    "Amount": 400,
                    "FundId": general["Id"],
                    "CampaignId": campaign["Id"],
                    "PledgeFrequency": "Monthly",
                    "PledgeInstallments": [{"Date": f"2025-0{m}-01", "Amount": 100} for m in (3, 4, 5, 6)],
                }
            ],
        },
    )
    pledge_id = pledge["Designations"][0]["Id"]
    payment = control.create(
        "Transaction",
        {
            "AccountId": org["Id"],
            "Date": "2025-03-01",
            "Amount": 100,
            "Method": "Eft",
            "Designations": [{"Type": "PledgePayment", "Amount": 100, "PledgeId": pledge_id}],
        },
    )
    schedule = control.create(
        "Transaction",
        {
            "AccountId": grace["Id"],
            "Date": "2025-01-10",
            "Amount": 25,
            "Method": "None",
            "Designations": [
                {
                    "Type": "RecurringDonation",
                    "Amount": 25,
                    "FundId": building["Id"],
                    "RecurringDonationStartDate": "2025-01-10",
                    "RecurringDonationFrequency": "Monthly",
                }
            ],
        },
    )
    schedule_id = schedule["Designations"][0]["Id"]
    instalment = control.create(
        "Transaction",
        {
            "AccountId": grace["Id"],
            "Date": "2025-02-10",
            "Amount": 25,
            "Method": "CreditCard",
            "Designations": [
                {
                    "Type": "RecurringDonationPayment",
                    "Amount": 25,
                    "RecurringDonationId": schedule_id,
                    "IsExtraPayment": False,
                }
            ],
        },
    )
    credit = control.create(
        "SoftCredit",
        {"DesignationId": split["Designations"][0]["Id"], "AccountId": grace["Id"], "Amount": 10},
    )
    return {
        "funds": (general, building),
        "campaign": campaign,
        "appeal": appeal,
        "interests": (news, events),
        "people": {"ada": ada["Id"], "grace": grace["Id"], "plain": plain["Id"], "org": org["Id"]},
        "household": household["Id"],
        "gifts": {
            "split": split["Id"],
            "pledge": pledge["Id"],
            "payment": payment["Id"],
            "schedule": schedule["Id"],
            "instalment": instalment["Id"],
        },
        "credit": credit["Id"],
    }


def test_funds_campaigns_and_appeals_flatten_as_plain_lists(
    connector: BloomerangConnector, donors: dict[str, Any]
) -> None:
    general, building = donors["funds"]
    funds = _read(connector, "Fund")
    assert {k: r.values for k, r in funds.items()} == {
        str(general["Id"]): {
            "Id": str(general["Id"]),
            "Name": "General Fund",
            "IsActive": True,
            "IsDefault": True,
        },
        str(building["Id"]): {
            "Id": str(building["Id"]),
            "Name": "Building Fund",
            "IsActive": True,
            "IsDefault": False,
        },
    }
    assert all(r.modstamp is None for r in funds.values())  # funds have no audit trail
    campaign = donors["campaign"]
    (read,) = _read(connector, "Campaign").values()
    assert read.values == {
        "Id": str(campaign["Id"]),
        "Name": "2025 Annual Fund",
        "IsActive": True,
        "StartDate": "2025-01-01",
        "EndDate": "2025-12-31",
        "Goal": 5000,
        "LastModifiedDate": _stamp(campaign),
    }
    assert read.modstamp == _stamp(campaign)
    (appeal,) = _read(connector, "Appeal").values()
    assert appeal.values["Name"] == "Spring Letter"
    assert appeal.values["IsActive"] is True


def test_constituents_flatten_primary_contacts_settings_and_platform_id(
    connector: BloomerangConnector, control: Control, donors: dict[str, Any]
) -> None:
    people = donors["people"]
    read = _read(connector, "Constituent")
    assert set(read) == {str(i) for i in people.values()}
    ada = read[str(people["ada"])]
    raw = control.get("Constituent", people["ada"])
    assert ada.modstamp == _stamp(raw)
    assert ada.values == {
        "Id": str(people["ada"]),
        "Type": "Individual",
        "Status": "Active",
        "FirstName": "Ada",
        "MiddleName": "King",
        "LastName": "Lovelace",
        "FullName": raw["FullName"],
        "JobTitle": "Analyst",
        "Birthdate": "1815-12-10",
        "Website": None,
        "Email": "ada@example.org",
        "Phone": "555-0100",
        "Street": "12 St James's Sq",
        "City": "London",
        "State": "LN",
        "PostalCode": "SW1Y",
        "Country": "United Kingdom",
        "DoNotCall": True,
        "EmailOptOut": False,
        "HouseholdId": str(donors["household"]),
        "Platform_Id__c": "supporters:7",
        "LastModifiedDate": _stamp(raw),
    }
    grace = read[str(people["grace"])].values
    assert (grace["EmailOptOut"], grace["DoNotCall"], grace["Email"], grace["HouseholdId"]) == (
        True,
        False,
        None,
        None,
    )
    assert grace["Platform_Id__c"] is None
    org = read[str(people["org"])].values
    assert (org["Type"], org["FullName"], org["Website"], org["FirstName"]) == (
        "Organization",
        "Analytical Engines Ltd",
        "https://ae.example",
        None,
    )


def test_households_flatten_names_and_head(connector: BloomerangConnector, donors: dict[str, Any]) -> None:
    (household,) = _read(connector, "Household").values()
    assert household.id == str(donors["household"])
    assert household.values["FullName"] == "The Lovelaces"
    assert household.values["InformalName"] == "Lovelaces"
    assert household.values["HeadId"] == str(donors["people"]["ada"])
    assert household.modstamp == household.values["LastModifiedDate"] is not None


def test_subscriptions_are_one_per_individual_and_active_interest(
    connector: BloomerangConnector, donors: dict[str, Any]
) -> None:
    people = donors["people"]
    news, events = donors["interests"]
    read = _read(connector, "EmailInterestSubscription")
    status = {r.id: r.values["Status"] for r in read.values()}
    # Ada chose the newsletter only; Grace opted out of everything; Alan takes all (the default);
    # organizations have no subscriptions and the inactive list none at all.
    assert status == {
        f"{people['ada']}-{news['Id']}": "Subscribed",
        f"{people['ada']}-{events['Id']}": "Unsubscribed",
        f"{people['grace']}-{news['Id']}": "Unsubscribed",
        f"{people['grace']}-{events['Id']}": "Unsubscribed",
        f"{people['plain']}-{news['Id']}": "Subscribed",
        f"{people['plain']}-{events['Id']}": "Subscribed",
    }
    one = read[f"{people['ada']}-{events['Id']}"].values
    assert one == {
        "Id": f"{people['ada']}-{events['Id']}",
        "ConstituentId": str(people["ada"]),
        "EmailInterestId": events["Id"],
        "Name": "Events",
        "Channel": "Email",
        "Status": "Unsubscribed",
    }


def test_transactions_flatten_their_first_designation(
    connector: BloomerangConnector, control: Control, donors: dict[str, Any]
) -> None:
    gifts, people = donors["gifts"], donors["people"]
    general, _building = donors["funds"]
    read = _read(connector, "Transaction")
    assert set(read) == {str(i) for i in gifts.values()}
    raw = control.get("Transaction", gifts["split"])
    split = read[str(gifts["split"])]
    assert split.modstamp == _stamp(raw)
    assert split.values == {
        "Id": str(gifts["split"]),
        "TransactionNumber": raw["TransactionNumber"],
        "AccountId": str(people["ada"]),
        "Date": "2025-03-01",
        "Amount": 50,
        "Method": "Check",
        "CheckNumber": "1001",
        "Kind": "Donation",
        "FundId": str(general["Id"]),
        "CampaignId": str(donors["campaign"]["Id"]),
        "AppealId": str(donors["appeal"]["Id"]),
        "RecurringDonationId": None,
        "PledgeId": None,
        "AcknowledgementStatus": "Yes",
        "Note": "in memory",
        "Designations": 2,
        "Platform_Id__c": "transactions:3",
        "LastModifiedDate": _stamp(raw),
    }
    pledge_designation = control.get("Transaction", gifts["pledge"])["Designations"][0]["Id"]
    payment = read[str(gifts["payment"])].values
    assert (payment["Kind"], payment["PledgeId"], payment["FundId"]) == (
        "PledgePayment",
        str(pledge_designation),
        str(general["Id"]),
    )
    schedule = control.get("Transaction", gifts["schedule"])["Designations"][0]["Id"]
    instalment = read[str(gifts["instalment"])].values
    assert (instalment["Kind"], instalment["RecurringDonationId"]) == (
        "RecurringDonationPayment",
        str(schedule),
    )


def test_designations_are_every_line_with_their_transactions_account_date_and_stamp(
    connector: BloomerangConnector, control: Control, donors: dict[str, Any]
) -> None:
    gifts, people = donors["gifts"], donors["people"]
    general, building = donors["funds"]
    read = _read(connector, "Designation")
    raws = {name: control.get("Transaction", i) for name, i in gifts.items()}
    assert set(read) == {str(d["Id"]) for raw in raws.values() for d in raw["Designations"]}
    first, second = raws["split"]["Designations"]
    line = read[str(second["Id"])]
    assert line.modstamp == _stamp(raws["split"])
    assert line.values == {
        "Id": str(second["Id"]),
        "TransactionId": str(gifts["split"]),
        "Type": "Donation",
        "Amount": 20,
        "AccountId": str(people["ada"]),
        "Date": "2025-03-01",
        "FundId": str(building["Id"]),
        "CampaignId": None,
        "AppealId": None,
        "RecurringDonationId": None,
        "PledgeId": None,
        "Frequency": None,
        "StartDate": None,
        "EndDate": None,
        "Status": None,
        "NextDate": None,
        "Installments": None,
        "AcknowledgementStatus": "No",
        "Note": None,
        "LastModifiedDate": _stamp(raws["split"]),
    }
    assert read[str(first["Id"])].values["FundId"] == str(general["Id"])
    pledge_raw = raws["pledge"]["Designations"][0]
    pledge = read[str(pledge_raw["Id"])].values
    assert (
        pledge["Type"],
        pledge["Amount"],
        pledge["Installments"],
        pledge["Status"],
        pledge["AccountId"],
    ) == (
        "Pledge",
        400,
        4,
        pledge_raw["PledgeStatus"],
        str(people["org"]),
    )
    assert pledge["NextDate"] == pledge_raw.get("PledgeNextInstallmentDate")
    schedule_raw = raws["schedule"]["Designations"][0]
    schedule = read[str(schedule_raw["Id"])].values
    assert (schedule["Type"], schedule["Frequency"], schedule["StartDate"], schedule["Status"]) == (
        "RecurringDonation",
        "Monthly",
        "2025-01-10",
        schedule_raw["RecurringDonationStatus"],
    )
    assert schedule["NextDate"] == schedule_raw.get("RecurringDonationNextInstallmentDate")


def test_soft_credits_flatten_their_designation_transaction_and_account(
    connector: BloomerangConnector, control: Control, donors: dict[str, Any]
) -> None:
    (credit,) = _read(connector, "SoftCredit").values()
    split = control.get("Transaction", donors["gifts"]["split"])
    raw = control.get("SoftCredit", donors["credit"])
    assert credit.values == {
        "Id": str(donors["credit"]),
        "DesignationId": str(split["Designations"][0]["Id"]),
        "TransactionId": str(split["Id"]),
        "AccountId": str(donors["people"]["grace"]),
        "Amount": 10,
        "LastModifiedDate": _stamp(raw),
    }


def test_a_read_by_ids_finds_designations_and_subscriptions_through_their_parents(
    connector: BloomerangConnector, control: Control, donors: dict[str, Any]
) -> None:
    split = control.get("Transaction", donors["gifts"]["split"])
    second = str(split["Designations"][1]["Id"])
    pages = list(connector.read(ReadRequest(object="Designation", fields=("Amount",), ids=(second, "999"))))
    assert [r.id for p in pages for r in p.records] == [second]
    news, _events = donors["interests"]
    wanted = f"{donors['people']['ada']}-{news['Id']}"
    pages = list(
        connector.read(ReadRequest(object="EmailInterestSubscription", fields=("Status",), ids=(wanted,)))
    )
    assert [(r.id, r.values["Status"]) for p in pages for r in p.records] == [(wanted, "Subscribed")]


def test_a_condition_on_id_keeps_exactly_that_record(
    connector: BloomerangConnector, donors: dict[str, Any]
) -> None:
    # A manual sync of one record, and parents a filter keeps out, ask by Id.
    ada = str(donors["people"]["ada"])
    request = ReadRequest(
        object="Constituent",
        fields=("LastName",),
        conditions=(
            Condition(field="Type", op="=", value="Individual"),
            Condition(field="Id", op="=", value=ada),
        ),
    )
    found = [r for page in connector.read(request) for r in page.records]
    assert [(r.id, r.values["LastName"]) for r in found] == [(ada, "Lovelace")]
