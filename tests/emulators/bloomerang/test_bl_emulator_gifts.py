"""Transactions with designations: donations, pledges and recurring donations with their
payments, soft credits, the designation endpoints and the transaction filters."""

from __future__ import annotations

from typing import Any

import httpx
from bl_testkit import LENIENT, Control, donation, person


def constituent(api: httpx.Client, first: str = "Ada", email: str | None = None) -> int:
    created = api.post(
        "/constituent", json=person(first, "Donor", email or f"{first.lower()}@example.org")
    ).json()
    return int(created["Id"])


def post(api: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/transaction", json=body)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


def test_donation_with_fund_campaign_appeal_and_custom_value(
    api: httpx.Client, basics: dict[str, Any]
) -> None:
    donor = constituent(api)
    field = basics["gift_platform_field"]
    body = donation(
        donor,
        basics["fund"],
        125.5,
        CampaignId=basics["campaign"],
        AppealId=basics["appeal"],
        CustomValues=[{"FieldId": field, "Value": "don-77"}],
    )
    created = post(api, body)
    (designation,) = created["Designations"]
    assert designation["Type"] == "Donation"
    assert designation["Fund"] == {"Id": basics["fund"], "Name": "General Fund"}
    assert designation["Campaign"]["Id"] == basics["campaign"]
    assert designation["Appeal"]["Name"] == "Year-End Appeal"
    assert designation["TransactionId"] == created["Id"]
    assert designation["CustomValues"][0]["Value"]["Value"] == "don-77"
    assert (created["AccountId"], created["Amount"], created["Date"]) == (donor, 125.5, "2024-03-01")
    assert api.get(f"/transaction/{created['Id']}").json() == created
    assert api.get(f"/transactions/designation/{designation['Id']}").json() == designation
    assert api.get(f"/campaign/{basics['campaign']}").json()["Raised"] == 125.5


def test_transaction_validation(api: httpx.Client, basics: dict[str, Any]) -> None:
    donor = constituent(api)
    fund = basics["fund"]
    wrong_total = donation(donor, fund, 50)
    wrong_total["Amount"] = 60
    cases = [
        wrong_total,
        donation(424242, fund),
        donation(donor, 99999),
        {**donation(donor, fund), "Designations": []},
        {**donation(donor, fund), "Method": "Barter"},
    ]
    for body in cases:
        response = api.post("/transaction", json=body)
        assert response.status_code == 400, body
        assert response.json()["Message"]
    assert api.get("/transactions").json()["Total"] == 0


def test_split_designations_and_put_replaces_them(api: httpx.Client, basics: dict[str, Any]) -> None:
    donor = constituent(api)
    body = donation(donor, basics["fund"], 100)
    body["Designations"] = [
        {"Type": "Donation", "Amount": 60, "FundId": basics["fund"]},
        {"Type": "Donation", "Amount": 40, "FundId": basics["other_fund"]},
    ]
    created = post(api, body)
    first, second = created["Designations"]
    # The document's update alternatives for an existing designation ({Id, ...} per type, no
    # Type) all match one another, so no such request can satisfy its oneOf: not validated.
    changed = api.put(
        f"/transaction/{created['Id']}",
        json={"Amount": 70, "Designations": [{"Id": first["Id"], "Amount": 70}]},
        extensions=LENIENT,
    )
    assert changed.status_code == 200, changed.text
    assert [d["Id"] for d in changed.json()["Designations"]] == [first["Id"]]
    assert api.get(f"/transactions/designation/{second['Id']}").status_code == 404
    unbalanced = api.put(f"/transaction/{created['Id']}", json={"Amount": 80})
    assert unbalanced.status_code == 400
    assert api.get(f"/transaction/{created['Id']}").json()["Amount"] == 70


def test_pledge_and_its_payments(api: httpx.Client, basics: dict[str, Any], control: Control) -> None:
    control.post("/clock", {"freeze": True, "set": "2024-04-15T09:00:00Z"})
    donor = constituent(api)
    installments = [{"Date": f"2024-{month:02d}-01", "Amount": 100} for month in (3, 4, 5, 6)]
    pledge_body = {
        "AccountId": donor,
        "Date": "2024-02-15",
        "Amount": 400,
        "Method": "None",
        "Designations": [
            {
                "Type": "Pledge",
                "Amount": 400,
                "FundId": basics["fund"],
                "PledgeFrequency": "Monthly",
                "PledgeInstallments": installments,
                "CampaignId": basics["campaign"],
            }
        ],
    }
    pledge_transaction = post(api, pledge_body)
    pledge = pledge_transaction["Designations"][0]
    assert (pledge["PledgeBalance"], pledge["PledgeStatus"], pledge["PledgeAmountInArrears"]) == (
        400,
        "InArrears",
        200,
    )
    assert [i["Date"] for i in pledge["PledgeInstallments"]] == [
        "2024-03-01",
        "2024-04-01",
        "2024-05-01",
        "2024-06-01",
    ]
    assert pledge["PledgeNextInstallmentDate"] == "2024-05-01"
    control.post("/clock", {"advance_seconds": 60})
    payment_body = {
        "AccountId": donor,
        "Date": "2024-04-15",
        "Amount": 200,
        "Method": "Check",
        "Designations": [{"Type": "PledgePayment", "Amount": 200, "PledgeId": pledge["Id"]}],
    }
    payment_transaction = post(api, payment_body)
    payment = payment_transaction["Designations"][0]
    assert payment["PledgeId"] == pledge["Id"]
    assert payment["Fund"]["Id"] == basics["fund"]  # the pledge's fund unless the payment names one
    after = api.get(f"/transaction/{pledge_transaction['Id']}").json()
    pledge_now = after["Designations"][0]
    assert pledge_now["PledgePaymentIds"] == [payment["Id"]]
    assert (pledge_now["PledgeBalance"], pledge_now["PledgeStatus"]) == (200, "InGoodStanding")
    # Recording the payment changed the pledge: its transaction is modified too.
    assert after["AuditTrail"]["LastModifiedDate"] == "2024-04-15T09:01:00Z"
    other = constituent(api, "Grace")
    foreign = {**payment_body, "AccountId": other}
    assert api.post("/transaction", json=foreign).status_code == 400
    blocked = api.delete(f"/transaction/{pledge_transaction['Id']}")
    assert blocked.status_code == 400
    assert api.delete(f"/transaction/{payment_transaction['Id']}").json()["Deleted"] is True
    assert api.delete(f"/transaction/{pledge_transaction['Id']}").status_code == 200


def test_recurring_donation_and_payments(api: httpx.Client, basics: dict[str, Any], control: Control) -> None:
    control.post("/clock", {"freeze": True, "set": "2024-03-20T00:00:00Z"})
    donor = constituent(api)
    schedule_body = {
        "AccountId": donor,
        "Date": "2024-01-10",
        "Amount": 25,
        "Method": "None",
        "Designations": [
            {
                "Type": "RecurringDonation",
                "Amount": 25,
                "FundId": basics["fund"],
                "RecurringDonationStartDate": "2024-01-10",
                "RecurringDonationFrequency": "Monthly",
            }
        ],
    }
    schedule = post(api, schedule_body)["Designations"][0]
    assert schedule["RecurringDonationStatus"] == "Active"
    assert schedule["RecurringDonationNextInstallmentDate"] == "2024-04-10"
    assert schedule["RecurringDonationLastPaymentStatus"] == "NoPayment"
    payment_ids = []
    for month in ("01", "02", "03"):
        body = {
            "AccountId": donor,
            "Date": f"2024-{month}-10",
            "Amount": 25,
            "Method": "CreditCard",
            "Designations": [
                {
                    "Type": "RecurringDonationPayment",
                    "Amount": 25,
                    "RecurringDonationId": schedule["Id"],
                    "IsExtraPayment": False,
                }
            ],
        }
        payment_ids.append(post(api, body)["Designations"][0]["Id"])
    again = api.get(f"/transactions/designation/{schedule['Id']}").json()
    assert again["RecurringDonationPaymentIds"] == payment_ids
    assert again["RecurringDonationLastPaymentStatus"] == "Successful"
    closed = api.put(
        f"/transaction/{schedule['TransactionId']}",
        extensions=LENIENT,
        json={
            "Designations": [
                {
                    "Id": schedule["Id"],
                    "Type": "RecurringDonation",
                    "Amount": 25,
                    "RecurringDonationStatus": "Closed",
                    "RecurringDonationEndDate": "2024-03-31",
                }
            ]
        },
    ).json()
    assert closed["Designations"][0]["RecurringDonationStatus"] == "Closed"
    assert "RecurringDonationNextInstallmentDate" not in closed["Designations"][0]
    by_type = api.get("/transactions", params={"type": "RecurringDonationPayment"}).json()
    assert by_type["TotalFiltered"] == 3


def test_transaction_filters_and_orders(api: httpx.Client, basics: dict[str, Any], control: Control) -> None:
    control.post("/clock", {"freeze": True, "set": "2024-01-01T00:00:00Z"})
    ada, grace = constituent(api), constituent(api, "Grace")
    ids = []
    for donor, amount, day in ((ada, 10, "2024-01-05"), (grace, 20, "2024-01-03"), (ada, 30, "2024-01-04")):
        ids.append(post(api, {**donation(donor, basics["fund"], amount), "Date": day})["Id"])
        control.post("/clock", {"advance_seconds": 10})
    default = api.get("/transactions").json()  # the document's default: Date, descending
    assert [t["Id"] for t in default["Results"]] == [ids[0], ids[2], ids[1]]
    mine = api.get("/transactions", params={"accountId": str(ada)}).json()
    assert sorted(t["Id"] for t in mine["Results"]) == sorted([ids[0], ids[2]])
    # minAmount/maxAmount are numbers the document declares pipeDelimited, which no
    # validator can parse: this request is not validated (the answer still is).
    amounts: dict[str, str | int] = {"accountId": f"{ada}|{grace}", "minAmount": 15, "maxAmount": 30}
    both = api.get("/transactions", params=amounts, extensions=LENIENT).json()
    assert sorted(t["Id"] for t in both["Results"]) == [ids[1], ids[2]]
    modified = api.get(
        "/transactions",
        params={
            "orderBy": "LastModifiedDate",
            "orderDirection": "Asc",
            "lastModified": "2024-01-01T00:00:10Z",
        },
    ).json()
    assert [t["Id"] for t in modified["Results"]] == [ids[1], ids[2]]
    numbers = api.get(
        "/transactions", params={"transactionNumber": str(mine["Results"][0]["TransactionNumber"])}
    )
    assert numbers.json()["TotalFiltered"] == 1
    designations = api.get(
        "/transactions/designations", params={"transactionIds": f"{ids[0]}|{ids[1]}"}
    ).json()
    assert sorted(d["TransactionId"] for d in designations["Results"]) == sorted(ids[:2])
    assert api.get("/transactions", params={"type": "Pledge"}).json()["TotalFiltered"] == 0


def test_soft_credits(api: httpx.Client, basics: dict[str, Any], control: Control) -> None:
    control.post("/clock", {"freeze": True, "set": "2024-01-01T00:00:00Z"})
    ada, grace = constituent(api), constituent(api, "Grace")
    body = donation(ada, basics["fund"], 80, SoftCredits=[{"AccountId": grace, "Amount": 80}])
    created = post(api, body)
    designation = created["Designations"][0]
    (credit_id,) = designation["SoftCreditIds"]
    credit = api.get(f"/softcredit/{credit_id}").json()
    assert (credit["AccountId"], credit["Amount"], credit["TransactionId"]) == (grace, 80, created["Id"])
    control.post("/clock", {"advance_seconds": 30})
    extra = api.post(
        "/softcredit", json={"DesignationId": designation["Id"], "AccountId": grace, "Amount": 20}
    )
    assert extra.status_code == 200
    transaction = api.get(f"/transaction/{created['Id']}").json()
    assert transaction["AuditTrail"]["LastModifiedDate"] == "2024-01-01T00:00:30Z"
    assert len(transaction["Designations"][0]["SoftCreditIds"]) == 2
    listed = api.get("/softcredits", params={"constituent": str(grace)}).json()
    assert listed["TotalFiltered"] == 2
    changed = api.put(f"/softcredit/{credit_id}", json={"Id": credit_id, "Amount": 40}).json()
    assert changed["Amount"] == 40
    self_credit = {"DesignationId": designation["Id"], "AccountId": ada, "Amount": 10}
    assert api.post("/softcredit", json=self_credit).status_code == 400
    too_much = {"DesignationId": designation["Id"], "AccountId": grace, "Amount": 81}
    assert api.post("/softcredit", json=too_much).status_code == 400
    assert api.delete(f"/softcredit/{credit_id}").json() == {
        "Id": credit_id,
        "Type": "SoftCredit",
        "Deleted": True,
    }
    assert (
        api.get("/softcredits", params={"lastModified": "2024-01-01T00:00:30Z"}).json()["TotalFiltered"] == 1
    )


def test_deleting_a_constituent_deletes_its_transactions(api: httpx.Client, basics: dict[str, Any]) -> None:
    ada, grace = constituent(api), constituent(api, "Grace")
    gift = post(api, donation(ada, basics["fund"], 10))
    credited = post(api, donation(grace, basics["fund"], 10, SoftCredits=[{"AccountId": ada, "Amount": 10}]))
    assert api.delete(f"/constituent/{ada}").status_code == 200
    assert api.get(f"/transaction/{gift['Id']}").status_code == 404
    assert api.get(f"/transaction/{credited['Id']}").json()["Designations"][0]["SoftCreditIds"] == []
