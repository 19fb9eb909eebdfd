"""A page's parents come from the links (or from pages not written yet), the first target type
that has a parent wins, and a record whose parent is missing fails with a message that says
what to do."""

from __future__ import annotations

from typing import Any

import pytest
from engine_testkit import bare_connection

from crmsync.connectors.base import CrmRecord
from crmsync.engine.lookups import Lookups, parents
from crmsync.engine.workspace import Workspace
from crmsync.errors import RecordError
from crmsync.model.load import load_profile
from crmsync.store import links
from crmsync.store.db import reading
from crmsync.store.links import NewLink

NPSP = load_profile("npsp")
TRANSACTIONS = NPSP.mapping("transactions")
PAYMENTS = NPSP.mapping("transaction_payments")


def _gift(n: int, account: str | None, contact: str | None = None) -> CrmRecord:
    values: dict[str, Any] = {
        "Id": f"006G{n:014d}",
        "AccountId": account,
        "npsp__Primary_Contact__c": contact,
        "CampaignId": None,
        "npe03__Recurring_Donation__c": None,
    }
    return CrmRecord(id=values["Id"], modstamp="2026-12-01T10:00:00.000+0000", values=values)


def _linked(ws: Workspace, cid: int, *pairs: tuple[str, int, str]) -> None:
    """Links (platform type, platform id, CRM id), as a pull that created those rows leaves them."""
    with ws.engine.begin() as conn:
        made = [NewLink(kind, pid, "Account", crm_id, None, None) for kind, pid, crm_id in pairs]
        links.write(conn, ws.organization_id, cid, made)


def test_a_parent_is_taken_from_the_first_target_type_that_has_it(workspace: Workspace) -> None:
    cid = bare_connection(workspace)
    _linked(workspace, cid, ("households", 7, "001HOUSE"), ("organizations", 9, "001ORG"))
    page = [_gift(1, "001HOUSE"), _gift(2, "001ORG"), _gift(3, None)]
    assumed: dict[str, dict[str, int]] = {}
    with reading(workspace.engine) as conn:
        found = parents(conn, workspace.organization_id, cid, TRANSACTIONS, page, {}, assumed)
    assert found == {"households": {"001HOUSE": 7}, "organizations": {"001ORG": 9}}
    assert assumed == {}
    resolver = Lookups(TRANSACTIONS, found)
    resolved = []
    for record in page:
        values: dict[str, Any] = {}
        resolver.resolve(record, values)
        resolved.append((values["household_id"], values["donor_organization_id"], values["supporter_id"]))
    assert resolved == [(7, None, None), (None, 9, None), (None, None, None)]


def test_parents_of_pages_not_written_yet_are_used_and_noted(workspace: Workspace) -> None:
    cid = bare_connection(workspace)
    _linked(workspace, cid, ("households", 7, "001HOUSE"))
    coming = {"households": {"001LATER": 12, "001HOUSE": 99}, "organizations": {"001ORGLATER": 13}}
    assumed: dict[str, dict[str, int]] = {}
    page = [_gift(1, "001HOUSE"), _gift(2, "001LATER"), _gift(3, "001ORGLATER")]
    with reading(workspace.engine) as conn:
        found = parents(conn, workspace.organization_id, cid, TRANSACTIONS, page, coming, assumed)
    # What the database holds wins; only what it lacks is taken from the pages not written yet.
    assert found["households"] == {"001HOUSE": 7, "001LATER": 12}
    assert found["organizations"] == {"001ORGLATER": 13}
    assert assumed == {"households": {"001LATER": 12}, "organizations": {"001ORGLATER": 13}}


def test_a_missing_parent_fails_the_record_and_says_what_to_do() -> None:
    resolver = Lookups(TRANSACTIONS, {"households": {"001HOUSE": 7}})
    with pytest.raises(RecordError) as missing:
        resolver.resolve(_gift(1, "001GONE"), {})
    assert missing.value.code == "PARENT_MISSING"
    assert missing.value.fields == ("AccountId",)
    assert missing.value.details == {"parent_id": "001GONE", "parent_field": "AccountId"}
    assert "not in the platform as households or organizations" in missing.value.message
    assert "pull that record first" in missing.value.message


def test_a_required_lookup_left_empty_in_the_crm_fails_the_record() -> None:
    payment = CrmRecord(id="a01P1", modstamp=None, values={"Id": "a01P1", "npe01__Opportunity__c": None})
    with pytest.raises(RecordError) as empty:
        Lookups(PAYMENTS, {}).resolve(payment, {})
    assert empty.value.code == "PARENT_MISSING"
    assert "has no npe01__Opportunity__c" in empty.value.message
    assert "set it in the CRM" in empty.value.message
