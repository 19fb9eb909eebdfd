"""Reading lists: concurrent skip/take pages, (modstamp, id) order, cursors, shared reads."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from bl_connector_testkit import Control, MakeConnector, person

from crmsync.connectors.base import CrmRecord, ReadRequest
from crmsync.connectors.bloomerang.connector import BloomerangConnector
from crmsync.connectors.bloomerang.records import id_key
from crmsync.emulators.bloomerang import Emulator

SEED = 1200


def _records(connector: BloomerangConnector, request: ReadRequest) -> list[CrmRecord]:
    return [r for page in connector.read(request) for r in page.records]


def _order(records: list[CrmRecord]) -> list[tuple[str, tuple[int, ...]]]:
    return [((r.modstamp or ""), id_key(r.id)) for r in records]


def _stored_ids(emulator: Emulator, kind: str) -> set[str]:
    with emulator.store.lock:
        return {str(i) for i in emulator.store.tables[kind]}


@pytest.mark.parametrize("concurrency", [1, 4])
@pytest.mark.parametrize(
    ("object_name", "kind"),
    [
        ("Constituent", "Constituent"),
        ("Household", "Household"),
        ("Transaction", "Transaction"),
        ("Designation", "Designation"),
        ("SoftCredit", "SoftCredit"),
    ],
)
def test_pages_return_every_record_once_in_modstamp_id_order(
    connect: MakeConnector,
    control: Control,
    emulator: Emulator,
    concurrency: int,
    object_name: str,
    kind: str,
) -> None:
    control.seed(SEED, seed=3)
    connector = connect(concurrency=concurrency)
    records = _records(connector, ReadRequest(object=object_name, fields=("LastModifiedDate",)))
    ids = [r.id for r in records]
    assert len(ids) == len(set(ids)), "a record was read twice"
    assert set(ids) == _stored_ids(emulator, kind)
    assert _order(records) == sorted(_order(records))
    assert all(r.modstamp == r.values["LastModifiedDate"] for r in records)


def test_many_records_sharing_one_second_page_without_loss(
    connect: MakeConnector, control: Control, emulator: Emulator
) -> None:
    # A data import: more than a page of constituents stamped with the same second.
    control.call("POST", "/clock", {"freeze": True, "set": "2025-05-01T12:00:00Z"})
    made = {str(control.create("Constituent", person("Ann", f"Import{i}"))["Id"]) for i in range(130)}
    records = _records(connect(concurrency=4), ReadRequest(object="Constituent", fields=()))
    assert [r.id for r in records] == sorted(made, key=int)
    assert {r.modstamp for r in records} == {"2025-05-01T12:00:00Z"}


def test_a_cursor_reads_strictly_after_it_and_a_lookback_reads_inclusively(
    connector: BloomerangConnector, control: Control
) -> None:
    control.call("POST", "/clock", {"freeze": True, "set": "2025-05-01T12:00:00Z"})
    first = [control.create("Constituent", person("Ann", f"Early{i}"))["Id"] for i in range(3)]
    control.call("POST", "/clock", {"advance_seconds": 60})
    later = [control.create("Constituent", person("Bob", f"Late{i}"))["Id"] for i in range(3)]
    cursor = ("2025-05-01T12:00:00Z", str(first[1]))
    after = _records(connector, ReadRequest(object="Constituent", fields=(), after=cursor))
    assert [r.id for r in after] == [str(i) for i in (first[2], *later)]
    overlap = _records(
        connector,
        ReadRequest(
            object="Constituent",
            fields=(),
            after=("2025-05-01T12:01:00Z", "0"),
            lookback=timedelta(seconds=30),
        ),
    )
    # Inclusive from 30 s before the cursor: the caller de-duplicates what it has applied.
    assert [r.id for r in overlap] == [str(i) for i in later]


def test_a_list_read_twice_inside_shared_reads_costs_its_pages_once(
    connector: BloomerangConnector, control: Control, emulator: Emulator
) -> None:
    counts = control.seed(SEED, seed=4)
    pages = math.ceil(counts["Constituent"] / 50)
    transaction_pages = math.ceil(counts["Transaction"] / 50)
    base = control.api_calls()
    with connector.shared_reads():
        people = _records(connector, ReadRequest(object="Constituent", fields=("Type",)))
        subscriptions = _records(
            connector, ReadRequest(object="EmailInterestSubscription", fields=("Status",))
        )
        gifts = _records(connector, ReadRequest(object="Transaction", fields=("Amount",)))
        lines = _records(connector, ReadRequest(object="Designation", fields=("Amount",)))
    by_path = control.stats()["api_calls"]["by_path"]
    assert by_path["GET /v2/constituents"] == pages
    assert by_path["GET /v2/transactions"] == transaction_pages
    # The few fixed calls: the two "Platform Id" custom fields and the email interests.
    assert control.api_calls() - base == pages + transaction_pages + 3
    assert connector.api_calls == control.api_calls() - base
    assert len(people) == counts["Constituent"]
    assert len(gifts) == counts["Transaction"]
    assert len(lines) == counts["Designation"]
    individuals = sum(1 for p in people if p.values["Type"] == "Individual")
    assert len(subscriptions) == individuals * 4
    # Outside the block, nothing is kept: a new read fetches again.
    _records(connector, ReadRequest(object="Constituent", fields=()))
    assert control.stats()["api_calls"]["by_path"]["GET /v2/constituents"] == 2 * pages


def test_an_incremental_read_filters_by_last_modified_on_the_server(
    connector: BloomerangConnector, control: Control
) -> None:
    control.seed(600, seed=5)
    control.call("POST", "/clock", {"freeze": True, "set": "2030-01-01T00:00:00Z"})
    changed = control.create("Constituent", person("New", "Comer"))
    base = control.api_calls()
    records = _records(
        connector, ReadRequest(object="Constituent", fields=(), after=("2029-12-31T23:59:00Z", "0"))
    )
    assert [r.id for r in records] == [str(changed["Id"])]
    by_path = control.stats()["api_calls"]["by_path"]
    assert by_path["GET /v2/constituents"] == 1
    assert control.api_calls() - base <= 3  # the page and the custom fields, once
