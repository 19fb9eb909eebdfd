"""Writes: designation-aware transaction updates, split gifts, screen-only objects, lost answers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from bl_connector_testkit import Control, gift, person

from crmsync.connectors.bloomerang.connector import BloomerangConnector
from crmsync.connectors.writes import Ref, WriteRecord
from crmsync.emulators.bloomerang import DEFAULT_API_KEY, Emulator
from crmsync.errors import TransientError


@pytest.fixture
def basics(control: Control) -> dict[str, int]:
    """Two funds and the "Platform Id" custom fields."""
    general = control.create("Fund", {"Name": "General Fund", "IsDefault": True})
    building = control.create("Fund", {"Name": "Building Fund", "IsDefault": False})
    ids = {"general": general["Id"], "building": building["Id"]}
    for object_type in ("Constituent", "Transaction"):
        category = control.create("CustomFieldCategory", {"Name": "Integration", "ObjectType": object_type})
        ids[object_type] = control.create(
            "CustomField",
            {
                "Name": "Platform Id",
                "ObjectType": object_type,
                "CategoryId": category["Id"],
                "PickType": "Freeform",
            },
        )["Id"]
    return ids


def _api(emulator: Emulator, path: str, **params: Any) -> Any:
    response = httpx.get(f"{emulator.api_url}{path}", params=params, headers={"X-API-KEY": DEFAULT_API_KEY})
    response.raise_for_status()
    return response.json()


def _supporter(key: str = "supporters:1", **values: Any) -> WriteRecord:
    body = {
        "Type": "Individual",
        "FirstName": "Ada",
        "LastName": "Lovelace",
        "Email": "ada@example.org",
        **values,
    }
    return WriteRecord(key, "Constituent", body, external_field="Platform_Id__c", external_id=key)


def _gift(account: str | Ref, key: str = "transactions:1", amount: float = 25.0) -> WriteRecord:
    body = {"AccountId": account, "Date": "2025-04-01", "Amount": amount, "Method": "Check"}
    return WriteRecord(
        key,
        "Transaction",
        body,
        external_field="Platform_Id__c",
        external_id=key,
        depends_on=(account.key,) if isinstance(account, Ref) else (),
    )


def test_a_new_supporter_and_gift_are_created_parents_first_with_the_platform_id(
    connector: BloomerangConnector, control: Control, basics: dict[str, int]
) -> None:
    person_result, gift_result = connector.write([_supporter(), _gift(Ref("supporters:1"))])
    assert (person_result.ok, person_result.created) == (True, True), person_result
    assert (gift_result.ok, gift_result.created) == (True, True), gift_result
    created = control.get("Constituent", person_result.crm_id or "")
    assert created["PrimaryEmail"]["Value"] == "ada@example.org"
    assert created["CustomValues"] == [
        {
            "FieldId": basics["Constituent"],
            "Value": {"Id": created["CustomValues"][0]["Value"]["Id"], "Value": "supporters:1"},
        }
    ]
    transaction = control.get("Transaction", gift_result.crm_id or "")
    assert transaction["AccountId"] == int(person_result.crm_id or 0)
    (line,) = transaction["Designations"]
    # No fund from the platform: the database's default fund.
    assert (line["Type"], line["Amount"], line["Fund"]["Id"]) == ("Donation", 25.0, basics["general"])
    assert line["CustomValues"][0]["Value"]["Value"] == "transactions:1"


def test_a_transaction_update_keeps_its_designation(
    connector: BloomerangConnector, control: Control, basics: dict[str, int]
) -> None:
    donor = control.create("Constituent", person())
    made = control.create("Transaction", gift(donor["Id"], (25, basics["building"])))
    designation = made["Designations"][0]["Id"]
    update = WriteRecord(
        "transactions:1",
        "Transaction",
        {
            "AccountId": str(donor["Id"]),
            "Amount": 40.0,
            "Date": "2025-04-02",
            "Method": "Cash",
            "Platform_Id__c": "transactions:1",
        },
        crm_id=str(made["Id"]),
    )
    (result,) = connector.write([update])
    assert result.ok, result
    assert not result.created
    after = control.get("Transaction", made["Id"])
    (line,) = after["Designations"]
    assert line["Id"] == designation
    assert (after["Amount"], line["Amount"], after["Method"], after["Date"]) == (
        40.0,
        40.0,
        "Cash",
        "2025-04-02",
    )
    # The fund the platform did not name stays as Bloomerang had it.
    assert line["Fund"]["Id"] == basics["building"]


def test_a_split_gift_refuses_an_amount_change_and_accepts_the_rest(
    connector: BloomerangConnector, control: Control, basics: dict[str, int]
) -> None:
    donor = control.create("Constituent", person())
    made = control.create("Transaction", gift(donor["Id"], (30, basics["general"]), (20, basics["building"])))
    lines = [d["Id"] for d in made["Designations"]]
    body = {"AccountId": str(donor["Id"]), "Amount": 80.0, "Date": "2025-03-01", "Method": "Check"}
    (refused,) = connector.write([WriteRecord("transactions:9", "Transaction", body, crm_id=str(made["Id"]))])
    assert not refused.ok
    assert refused.code == "SPLIT_GIFT"
    assert "split over 2 designations" in refused.message
    assert control.get("Transaction", made["Id"])["Amount"] == 50.0
    same_amount = {**body, "Amount": 50.0, "Method": "Cash"}
    (result,) = connector.write(
        [WriteRecord("transactions:9", "Transaction", same_amount, crm_id=str(made["Id"]))]
    )
    assert result.ok, result
    after = control.get("Transaction", made["Id"])
    assert after["Method"] == "Cash"
    assert [(d["Id"], d["Amount"]) for d in after["Designations"]] == [(lines[0], 30.0), (lines[1], 20.0)]


@pytest.mark.parametrize(
    ("object_name", "segment"), [("Fund", "fund"), ("Campaign", "campaign"), ("Appeal", "appeal")]
)
def test_a_new_fund_campaign_or_appeal_is_created(
    connector: BloomerangConnector, control: Control, object_name: str, segment: str
) -> None:
    (result,) = connector.write([WriteRecord("funds:1", object_name, {"Name": "Capital Campaign 2027"})])
    assert result.ok, result
    assert result.created
    found = connector.client.get(f"/{segment}/{result.crm_id}")
    assert found["Name"] == "Capital Campaign 2027"


def test_a_new_household_answers_cannot_create_saying_where_to_make_it(
    connector: BloomerangConnector, control: Control
) -> None:
    (result,) = connector.write([WriteRecord("households:1", "Household", {"FullName": "The Lovelaces"})])
    assert not result.ok
    assert result.code == "CANNOT_CREATE"
    assert "Household section" in result.message
    assert control.stats()["api_calls"]["total"] == 0


def test_an_existing_fund_is_updated(
    connector: BloomerangConnector, control: Control, basics: dict[str, int]
) -> None:
    (result,) = connector.write(
        [
            WriteRecord(
                "funds:1", "Fund", {"Name": "Capital Fund", "IsActive": True}, crm_id=str(basics["building"])
            )
        ]
    )
    assert result.ok, result
    assert control.get("Fund", basics["building"])["Name"] == "Capital Fund"


def _platform_constituents(emulator: Emulator, field: int, value: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = _api(
        emulator, "/constituents", customFieldId=field, customFieldValue=value
    )["Results"]
    return found


def _platform_gifts(emulator: Emulator, account: str, value: str) -> list[dict[str, Any]]:
    gifts = _api(emulator, "/transactions", accountId=account, take=50)["Results"]
    return [
        g
        for g in gifts
        if any(v.get("Value", {}).get("Value") == value for v in g["Designations"][0].get("CustomValues", []))
    ]


def test_a_lost_answer_to_a_constituent_create_is_not_duplicated_on_retry(
    connector: BloomerangConnector, control: Control, emulator: Emulator, basics: dict[str, int]
) -> None:
    control.fault(kind="drop_after_write", method="POST", path_prefix="/v2/constituent", count=1)
    with pytest.raises(TransientError):
        connector.write([_supporter()])
    assert len(_platform_constituents(emulator, basics["Constituent"], "supporters:1")) == 1
    (again,) = connector.write([_supporter(Phone="555-0101")])
    assert again.ok, again
    assert not again.created
    (only,) = _platform_constituents(emulator, basics["Constituent"], "supporters:1")
    assert again.crm_id == str(only["Id"])
    assert only["PrimaryPhone"]["Number"] == "555-0101"


def test_a_lost_answer_to_a_gift_create_is_not_duplicated_on_retry(
    connector: BloomerangConnector, control: Control, emulator: Emulator, basics: dict[str, int]
) -> None:
    donor = str(control.create("Constituent", person())["Id"])
    control.fault(kind="drop_after_write", method="POST", path_prefix="/v2/transaction", count=1)
    with pytest.raises(TransientError):
        connector.write([_gift(donor)])
    assert len(_platform_gifts(emulator, donor, "transactions:1")) == 1
    (again,) = connector.write([_gift(donor, amount=30.0)])
    assert again.ok, again
    (only,) = _platform_gifts(emulator, donor, "transactions:1")
    assert again.crm_id == str(only["Id"])
    assert only["Amount"] == 30.0


def test_a_lost_answer_to_a_new_donors_gift_is_not_duplicated_when_both_are_sent_again(
    connector: BloomerangConnector, control: Control, emulator: Emulator, basics: dict[str, int]
) -> None:
    # The supporter is created, then the gift's answer is lost: the engine learns neither id
    # and sends both again, the gift still referring to its supporter of the same request.
    control.fault(kind="drop_after_write", method="POST", path_prefix="/v2/transaction", count=1)
    with pytest.raises(TransientError):
        connector.write([_supporter(), _gift(Ref("supporters:1"))])
    person_result, gift_result = connector.write([_supporter(), _gift(Ref("supporters:1"))])
    assert (person_result.ok, gift_result.ok) == (True, True), (person_result, gift_result)
    assert not person_result.created
    donor = person_result.crm_id or ""
    assert len(_platform_constituents(emulator, basics["Constituent"], "supporters:1")) == 1
    (only,) = _platform_gifts(emulator, donor, "transactions:1")
    assert gift_result.crm_id == str(only["Id"])
    assert not gift_result.created


def test_a_failed_parent_halts_its_children_and_carries_bloomerangs_message(
    connector: BloomerangConnector, control: Control, basics: dict[str, int]
) -> None:
    person_result, gift_result = connector.write([_supporter(LastName=""), _gift(Ref("supporters:1"))])
    assert not person_result.ok
    assert person_result.code == "INVALID_REQUEST"
    assert "FirstName and LastName are required" in person_result.message
    assert gift_result.halted
    assert control.stats()["api_calls"]["by_path"].get("POST /v2/transaction") is None


def test_deletes_treat_a_record_already_gone_as_deleted(
    connector: BloomerangConnector, control: Control, basics: dict[str, int]
) -> None:
    donor = control.create("Constituent", person())["Id"]
    gone = control.create("Constituent", person("Grace", "Hopper"))["Id"]
    control.delete("Constituent", gone)
    results = connector.delete(
        [
            ("supporters:1", "Constituent", str(donor)),
            ("supporters:2", "Constituent", str(gone)),
            ("funds:1", "Fund", str(basics["general"])),
        ]
    )
    assert [(r.ok, r.code) for r in results] == [(True, None), (True, None), (False, "CANNOT_DELETE")]
    assert not control.exists("Constituent", donor)
    assert "already deleted" in results[1].message
