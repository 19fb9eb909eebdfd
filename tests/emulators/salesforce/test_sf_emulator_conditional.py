"""Conditional requests on sObject Rows: If-Unmodified-Since on PATCH, If-Modified-Since on GET."""

from __future__ import annotations

import httpx
import pytest
from sf_emulator_testkit import BASE, Control
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceGeneralError, SalesforceMalformedRequest

CREATED = "Wed, 01 May 2024 10:00:00 GMT"
EDITED = "Wed, 01 May 2024 10:01:00 GMT"


@pytest.fixture
def contact(sf: Salesforce, control: Control) -> str:
    """A contact saved at 10:00:00 and edited in the screen at 10:01:00, the clock frozen."""
    control.post("/clock", {"freeze": True, "set": "2024-05-01T10:00:00Z"})
    record_id: str = sf.Contact.create({"LastName": "Doe"})["id"]
    control.post("/clock", {"advance_seconds": 60})
    control.call("PATCH", f"/records/Contact/{record_id}", {"fields": {"Title": "Chair"}})
    return record_id


def _since(moment: str) -> dict[str, str]:
    return {"If-Unmodified-Since": moment}


def test_an_update_of_a_record_modified_since_is_refused(
    sf: Salesforce, control: Control, contact: str
) -> None:
    with pytest.raises(SalesforceGeneralError) as caught:
        sf.Contact.update(contact, {"Title": "Member"}, headers=_since("Wed, 01 May 2024 10:00:59 GMT"))
    assert caught.value.status == 412
    (error,) = caught.value.content
    assert error["errorCode"] == "PRECONDITION_FAILED"
    assert EDITED in error["message"]
    assert sf.Contact.get(contact)["Title"] == "Chair"
    # Not modified after the instant (to the second): the update is made.
    assert sf.Contact.update(contact, {"Title": "Member"}, headers=_since(EDITED)) == 204
    assert sf.Contact.get(contact)["Title"] == "Member"
    # A system change moves SystemModstamp only, so it does not fail a conditional update.
    control.post("/clock", {"advance_seconds": 60})
    control.call("PATCH", f"/records/Contact/{contact}", {"fields": {"Phone": "555"}, "system": True})
    assert sf.Contact.update(contact, {"Title": "Vice Chair"}, headers=_since(EDITED)) == 204
    with pytest.raises(SalesforceGeneralError):
        sf.Contact.update(contact, {"Title": "Vice Chair"}, headers=_since(EDITED))


def test_a_header_that_is_not_an_http_date_is_a_bad_request(sf: Salesforce, contact: str) -> None:
    for value in ("2024-05-01T10:00:00Z", "yesterday"):
        with pytest.raises(SalesforceMalformedRequest) as caught:
            sf.Contact.update(contact, {"Title": "Member"}, headers=_since(value))
        assert caught.value.content[0]["errorCode"] == "INVALID_HEADER_VALUE"
    assert sf.Contact.get(contact)["Title"] == "Chair"


def test_composite_subrequests_carry_their_own_conditions(sf: Salesforce, contact: str) -> None:
    url = f"{BASE}/sobjects/Contact/{contact}"

    def patch(reference: str, headers: dict[str, str]) -> dict[str, object]:
        body = {"Title": reference}
        return {"method": "PATCH", "url": url, "referenceId": reference, "body": body, "httpHeaders": headers}

    body = {"compositeRequest": [patch("stale", _since(CREATED)), patch("fresh", _since(EDITED))]}
    # A condition on the composite request itself is not one of its subrequests'.
    answer = sf.restful("composite", method="POST", json=body, headers=_since(CREATED))
    stale, fresh = answer["compositeResponse"]
    assert stale["httpStatusCode"] == 412
    assert stale["body"][0]["errorCode"] == "PRECONDITION_FAILED"
    assert fresh["httpStatusCode"] == 204
    assert sf.Contact.get(contact)["Title"] == "fresh"


def test_a_read_not_modified_since_answers_304(api: httpx.Client, contact: str) -> None:
    url = f"/sobjects/Contact/{contact}"
    read = api.get(url)
    assert read.status_code == 200
    assert read.headers["Last-Modified"] == EDITED
    for moment in (EDITED, "Thu, 02 May 2024 00:00:00 GMT"):
        unchanged = api.get(url, headers={"If-Modified-Since": moment})
        assert (unchanged.status_code, unchanged.content) == (304, b"")
        assert unchanged.headers["Last-Modified"] == EDITED
    # Modified after the instant, or a header that is no HTTP-date: the record, as without one.
    for moment in (CREATED, "not a date"):
        changed = api.get(url, headers={"If-Modified-Since": moment})
        assert changed.status_code == 200
        assert changed.json()["Title"] == "Chair"
