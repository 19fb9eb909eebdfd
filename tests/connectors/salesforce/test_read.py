"""SalesforceConnector.read against the emulator: pages in (SystemModstamp, Id) order, ties
across pages, strict resume, deleted and merged rows, reads by id, parent fields, and query
cursors that expire in the middle of a read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sf_connector_testkit import CountingTransport, records

from crmsync.connectors.base import CrmRecord, ReadRequest
from crmsync.connectors.salesforce.client import SalesforceClient
from crmsync.connectors.salesforce.connector import SalesforceConnector
from crmsync.emulators.salesforce.server import Emulator
from crmsync.errors import SchemaError
from crmsync.model.profile import Condition

QUERY = "/services/data/v61.0/query"
QUERY_ALL = "/services/data/v61.0/queryAll"
START = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def contacts(emulator: Emulator, count: int, *, prefix: str = "Person") -> list[str]:
    return [emulator.org.insert("Contact", {"LastName": f"{prefix} {i}"}) for i in range(count)]


def sort_key(record: CrmRecord) -> tuple[datetime, str]:
    assert record.modstamp is not None
    return datetime.strptime(record.modstamp, "%Y-%m-%dT%H:%M:%S.%f%z"), record.id


def read_all(connector: SalesforceConnector, **kwargs: object) -> list[CrmRecord]:
    request = ReadRequest(object="Contact", fields=("LastName",), **kwargs)  # type: ignore[arg-type]
    return records(connector.read(request))


@pytest.fixture
def frozen(emulator: Emulator) -> Emulator:
    """The emulator with its clock stopped at START (every write shares a second until advanced)."""
    emulator.org.clock.freeze()
    emulator.org.clock.set(START)
    return emulator


@pytest.fixture
def ties(frozen: Emulator) -> list[str]:
    """250 contacts at START, 500 one second later (2.5 pages on one timestamp), 30 after."""
    made = contacts(frozen, 250, prefix="First")
    frozen.org.clock.advance(1)
    made += contacts(frozen, 500, prefix="Tied")
    frozen.org.clock.advance(1)
    made += contacts(frozen, 30, prefix="Last")
    return made


# -- paging and order -------------------------------------------------------------------


def test_pages_of_200_in_modstamp_then_id_order(
    frozen: Emulator, connector: SalesforceConnector, transport: CountingTransport
) -> None:
    made = []
    for _ in range(5):
        made += contacts(frozen, 90)
        frozen.org.clock.advance(1)

    pages = list(connector.read(ReadRequest(object="Contact", fields=("LastName",))))

    assert [len(p.records) for p in pages] == [200, 200, 50]
    assert {p.total for p in pages} == {450}
    got = records(pages)
    assert [r.id for r in got] == [r.id for r in sorted(got, key=sort_key)]
    assert sorted(r.id for r in got) == sorted(made)
    assert transport.count(QUERY) == 3  # one query, two pages through its cursor


def test_more_than_a_page_sharing_one_timestamp_is_read_whole_in_order(
    ties: list[str], connector: SalesforceConnector
) -> None:
    got = read_all(connector)

    assert len(got) == len({r.id for r in got}) == 780
    assert got == sorted(got, key=sort_key)
    stamps = [r.modstamp for r in got]
    assert stamps.count(stamps[250]) == 500


@pytest.mark.parametrize("position", [250, 399, 400, 567, 749, 779], ids=lambda p: f"after-{p}")
def test_resuming_strictly_after_a_cursor_inside_a_tie_returns_exactly_the_rest(
    ties: list[str], connector: SalesforceConnector, position: int
) -> None:
    everything = read_all(connector)
    mark = everything[position]
    assert mark.modstamp is not None

    rest = read_all(connector, after=(mark.modstamp, mark.id))

    assert [r.id for r in rest] == [r.id for r in everything[position + 1 :]]


def test_a_lookback_starts_inclusively_before_the_cursor(
    ties: list[str], connector: SalesforceConnector
) -> None:
    everything = read_all(connector)
    mark = everything[600]
    assert mark.modstamp is not None

    again = read_all(connector, after=(mark.modstamp, mark.id), lookback=timedelta(milliseconds=500))
    assert [r.id for r in again] == [r.id for r in everything[250:]]

    wider = read_all(connector, after=(mark.modstamp, mark.id), lookback=timedelta(seconds=1))
    assert [r.id for r in wider] == [r.id for r in everything]


def test_conditions_and_the_cursor_combine(ties: list[str], connector: SalesforceConnector) -> None:
    everything = read_all(connector)
    mark = everything[300]
    assert mark.modstamp is not None
    tied = Condition(field="LastName", op="like", value="Tied%")

    got = read_all(connector, after=(mark.modstamp, mark.id), conditions=(tied,))

    assert [r.id for r in got] == [r.id for r in everything[301:750]]


# -- deleted and merged records --------------------------------------------------------


def test_include_deleted_returns_deleted_and_merged_rows_with_their_master(
    frozen: Emulator, connector: SalesforceConnector, transport: CountingTransport
) -> None:
    made = contacts(frozen, 300)
    frozen.org.clock.advance(1)
    deleted = made[10:13]
    for record_id in deleted:
        frozen.org.delete("Contact", record_id)
    master, losers = made[0], [made[1], made[2]]
    frozen.org.merge("Contact", master, losers)

    live = read_all(connector)
    everything = read_all(connector, include_deleted=True)

    assert {r.id for r in live} == set(made) - set(deleted) - set(losers)
    assert all(not r.deleted and r.master_id is None for r in live)
    assert {r.id for r in everything} == set(made)
    gone = {r.id: r for r in everything if r.deleted}
    assert set(gone) == set(deleted) | set(losers)
    assert all(gone[i].master_id is None for i in deleted)
    assert all(gone[i].master_id == master for i in losers)
    assert all(gone[i].values["IsDeleted"] is True for i in gone)
    assert everything == sorted(everything, key=sort_key)
    assert transport.count(QUERY_ALL) == 1  # the second page comes through the query cursor


# -- reading by id ----------------------------------------------------------------------


def test_ids_are_read_in_chunks_of_200(
    emulator: Emulator, connector: SalesforceConnector, transport: CountingTransport
) -> None:
    made = contacts(emulator, 450)
    unknown = ["003RO0000009999YAA", "003RO0000009998YAA"]
    connector.describe("Contact")
    before = transport.count(QUERY)

    got = read_all(connector, ids=tuple(made + unknown))

    assert sorted(r.id for r in got) == sorted(made)
    assert transport.count(QUERY) - before == 3  # 200 + 200 + 52 ids, one query each
    assert transport.longest_url < 16_000  # Salesforce's limit for a GET


def test_ids_find_deleted_records_with_include_deleted(
    emulator: Emulator, connector: SalesforceConnector
) -> None:
    made = contacts(emulator, 5)
    emulator.org.delete("Contact", made[0])

    assert {r.id for r in read_all(connector, ids=tuple(made))} == set(made[1:])
    with_deleted = {r.id: r for r in read_all(connector, ids=tuple(made), include_deleted=True)}
    assert set(with_deleted) == set(made)
    assert with_deleted[made[0]].deleted


def test_no_ids_means_no_request(connector: SalesforceConnector, transport: CountingTransport) -> None:
    assert list(connector.read(ReadRequest(object="Contact", fields=(), ids=()))) == []
    assert transport.count(QUERY) == 0


# -- fields -------------------------------------------------------------------------------


def test_parent_fields_are_flattened_and_a_missing_parent_gives_none(
    emulator: Emulator, connector: SalesforceConnector
) -> None:
    account = emulator.org.insert("Account", {"Name": "Doe Household"})
    with_parent = emulator.org.insert("Contact", {"LastName": "Doe", "AccountId": account})
    orphan = emulator.org.insert("Contact", {"LastName": "Roe"})
    fields = ("LastName", "AccountId", "Account.Name", "Account.Owner.Username")

    got = {r.id: r.values for r in records(connector.read(ReadRequest(object="Contact", fields=fields)))}

    assert got[with_parent]["Account.Name"] == "Doe Household"
    assert got[with_parent]["Account.Owner.Username"] == "admin@npsp.example.org"
    assert got[with_parent]["AccountId"] == account
    # The engine reads values with .get(): every asked-for field is a key, None when the
    # parent is not set, and no bare relationship key ("Account") is left over.
    assert got[orphan]["AccountId"] is None
    assert got[orphan]["Account.Name"] is None
    assert got[orphan]["Account.Owner.Username"] is None
    for values in got.values():
        assert "Account" not in values
        assert "attributes" not in values
        assert set(fields) | {"Id", "SystemModstamp"} <= set(values)


def test_fields_given_twice_or_in_another_case_are_selected_once(
    emulator: Emulator, connector: SalesforceConnector
) -> None:
    contacts(emulator, 2)
    request = ReadRequest(
        object="Contact", fields=("Id", "systemmodstamp", "LastName", "lastname", "LastName")
    )
    got = records(connector.read(request))
    assert len(got) == 2
    assert got[0].values["LastName"].startswith("Person")


def test_a_field_the_org_lacks_is_a_schema_error_on_one_line(
    emulator: Emulator, connector: SalesforceConnector
) -> None:
    contacts(emulator, 1)
    with pytest.raises(SchemaError) as raised:
        list(connector.read(ReadRequest(object="Contact", fields=("Shoe_Size__c",))))
    assert "Shoe_Size__c" in str(raised.value)
    assert "check the field names" in str(raised.value)
    assert "\n" not in str(raised.value)


# -- query cursors that expire mid-read -------------------------------------------------


def open_other_cursors(client: SalesforceClient, count: int) -> None:
    for _ in range(count):
        body = client.request(
            "GET",
            "queryAll",
            params={"q": "SELECT Id FROM Contact"},
            headers={"Sforce-Query-Options": "batchSize=200"},
            what="another query",
        )
        assert body["nextRecordsUrl"]


def test_a_cursor_dropped_as_the_oldest_of_too_many_is_resumed_without_loss_or_duplicates(
    frozen: Emulator, client: SalesforceClient, connector: SalesforceConnector, transport: CountingTransport
) -> None:
    contacts(frozen, 650)  # all on one timestamp: the resume lands inside a tie
    expected = read_all(connector)
    pages = connector.read(ReadRequest(object="Contact", fields=("LastName",)))
    first = next(pages)

    open_other_cursors(client, 10)  # Salesforce keeps 10 open per user; ours is dropped
    rest = list(pages)

    got = first.records + records(rest)
    assert [r.id for r in got] == [r.id for r in expected]
    assert transport.count(QUERY, 400) == 1
    assert {p.total for p in [first, *rest]} == {650}


def test_cursors_that_expire_while_idle_are_resumed_without_loss_or_duplicates(
    ties: list[str], emulator: Emulator, connector: SalesforceConnector, transport: CountingTransport
) -> None:
    expected = read_all(connector)
    # Every cursor is idle longer than allowed by the time its next page is asked for.
    emulator.state.cursors.idle_seconds = 0

    pages = list(connector.read(ReadRequest(object="Contact", fields=("LastName",))))

    assert [r.id for r in records(pages)] == [r.id for r in expected]
    assert [len(p.records) for p in pages] == [200, 200, 200, 180]
    assert transport.count(QUERY, 400) == 3
    assert [p.total for p in pages] == [780] * 4


def test_an_expired_cursor_of_a_deleted_rows_read_is_resumed(
    frozen: Emulator, client: SalesforceClient, connector: SalesforceConnector
) -> None:
    made = contacts(frozen, 450)
    for record_id in made[:300]:
        frozen.org.delete("Contact", record_id)
    expected = read_all(connector, include_deleted=True)
    pages = connector.read(ReadRequest(object="Contact", fields=("LastName",), include_deleted=True))
    first = next(pages)

    open_other_cursors(client, 10)
    got = first.records + records(pages)

    assert [r.id for r in got] == [r.id for r in expected]
    assert sum(r.deleted for r in got) == 300
