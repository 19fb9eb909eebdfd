"""Query rows -> CrmRecords: one RecordShape per query, the same record whatever the row's shape."""

from __future__ import annotations

from typing import Any

from crmsync.connectors.salesforce.records import RecordShape

SELECT = ["Id", "SystemModstamp", "IsDeleted", "LastName", "AccountId", "Account.Name", "Account.Owner.Name"]


def _row(**values: Any) -> dict[str, Any]:
    return {"attributes": {"type": "Contact", "url": "/services/data/v61.0/sobjects/Contact/x"}, **values}


def test_a_row_without_parents_is_taken_as_it_came() -> None:
    shape = RecordShape("SystemModstamp", ["Id", "SystemModstamp", "LastName", "MasterRecordId"])
    record = shape.record(_row(Id="003A", SystemModstamp="t1", LastName="Doe", MasterRecordId="003M"))
    assert record.values == {
        "Id": "003A",
        "SystemModstamp": "t1",
        "LastName": "Doe",
        "MasterRecordId": "003M",
    }
    assert list(record.values) == ["Id", "SystemModstamp", "LastName", "MasterRecordId"]
    assert (record.id, record.modstamp, record.deleted, record.master_id) == ("003A", "t1", False, "003M")


def test_a_set_parent_is_flattened_where_it_was() -> None:
    owner = {"attributes": {"type": "User"}, "Name": "Admin"}
    account = {"attributes": {"type": "Account"}, "Name": "Doe Household", "Owner": owner}
    row = _row(
        Id="003A", SystemModstamp="t", IsDeleted=True, LastName="Doe", AccountId="001A", Account=account
    )
    record = RecordShape("SystemModstamp", SELECT).record(row)
    assert list(record.values) == [
        "Id",
        "SystemModstamp",
        "IsDeleted",
        "LastName",
        "AccountId",
        "Account.Name",
        "Account.Owner.Name",
    ]
    assert record.values["Account.Owner.Name"] == "Admin"
    assert record.deleted


def test_a_null_parent_gives_none_for_its_fields_and_no_bare_key() -> None:
    row = _row(Id="003A", SystemModstamp="t", IsDeleted=False, LastName="Roe", AccountId=None, Account=None)
    record = RecordShape("SystemModstamp", SELECT).record(row)
    assert "Account" not in record.values
    assert record.values["Account.Name"] is None
    assert record.values["Account.Owner.Name"] is None
    assert record.values["AccountId"] is None


def test_a_field_selected_in_another_letter_case_is_not_added_twice() -> None:
    shape = RecordShape("SystemModstamp", ["Id", "SystemModstamp", "lastname", "Email"])
    record = shape.record(_row(Id="003A", SystemModstamp="t", LastName="Doe"))
    # Salesforce answers with the field's own spelling; a field it left out is None.
    assert record.values == {"Id": "003A", "SystemModstamp": "t", "LastName": "Doe", "Email": None}
