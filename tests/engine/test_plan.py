"""Pages planned before their transaction write exactly what applying them inside it writes,
and whatever changed in between makes the page apply inside its transaction instead."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from engine_testkit import bare_connection

from crmsync.connectors.base import CrmRecord
from crmsync.engine import matching
from crmsync.engine import plan as planning
from crmsync.engine.apply import PageResult, Scope, apply_page
from crmsync.engine.workspace import Workspace
from crmsync.model.load import load_profile
from crmsync.secrets import Vault, generate_key
from crmsync.store import capture, links, logs, match_keys, records
from crmsync.store.db import reading
from crmsync.store.platform import platform_table
from crmsync.store.tables import links as links_table

NPSP = load_profile("npsp")
STAMP = "2026-12-01T10:00:00.000+0000"


def _scope(ws: Workspace) -> Scope:
    return Scope(ws.organization_id, bare_connection(ws), NPSP)


def _household(n: int, **values: Any) -> CrmRecord:
    fields = {"Name": f"Household {n}", "Phone": None, "BillingCity": "Leeds", **values}
    return CrmRecord(id=f"001H{n:014d}", modstamp=STAMP, values={"Id": f"001H{n:014d}", **fields})


def _supporter(n: int, household: int | None, **values: Any) -> CrmRecord:
    fields = {
        "FirstName": "Ada",
        "LastName": f"Person {n}",
        "Email": f"person{n}@example.org",
        "Birthdate": "1990-04-0" + str(1 + n % 9),
        "npsp__Do_Not_Contact__c": n % 2 == 0,
        "AccountId": f"001H{household:014d}" if household is not None else None,
        **values,
    }
    return CrmRecord(id=f"003C{n:014d}", modstamp=STAMP, values={"Id": f"003C{n:014d}", **fields})


def _plan(ws: Workspace, scope: Scope, platform_type: str, page: list[CrmRecord]) -> planning.PagePlan | None:
    with reading(ws.engine) as conn:
        return planning.plan_page(conn, scope, NPSP.mapping(platform_type), page, run_id=None)


def _write(
    ws: Workspace, scope: Scope, platform_type: str, page: list[CrmRecord], *, planned: bool
) -> PageResult:
    """One page's transaction, as a pull writes it: planned first, or applied inside."""
    made = _plan(ws, scope, platform_type, page) if planned else None
    assert (made is not None) == planned
    return _commit(ws, scope, platform_type, page, made)


def _commit(
    ws: Workspace, scope: Scope, platform_type: str, page: list[CrmRecord], made: planning.PagePlan | None
) -> PageResult:
    """The page's transaction with its log entries: ``made`` if there is a plan, else applied inside."""
    with ws.engine.begin() as conn, capture.origin(conn, "sync"):
        if made is not None:
            result = planning.apply_plan(conn, scope, made)
        else:
            result = apply_page(conn, scope, NPSP.mapping(platform_type), page)
        logs.write(conn, scope.organization_id, result.logs, connection_id=scope.connection_id, run_id=None)
    return result


def _state(ws: Workspace, platform_type: str) -> dict[str, Any]:
    """Rows (by CRM id, lookups as CRM ids), links and log messages, comparable across databases."""
    table = platform_table(platform_type)
    with ws.engine.connect() as conn:
        crm_of = {
            (r.platform_type, r.platform_id): r.crm_id
            for r in conn.execute(
                sa.select(links_table.c.platform_type, links_table.c.platform_id, links_table.c.crm_id)
            )
        }
        rows = {}
        for row in conn.execute(sa.select(table)):
            values = {
                k: v
                for k, v in row._mapping.items()
                if k not in ("organization_id", "created_at", "updated_at")
            }
            key = crm_of.get((platform_type, values.pop("id")), "<unlinked>")
            if "household_id" in values and values["household_id"] is not None:
                values["household_id"] = crm_of.get(("households", values["household_id"]), "<dangling>")
            rows.setdefault(key, []).append(values)
        stored = {
            r.crm_id: (r.crm_modstamp, r.values_hash, r.synced_values)
            for r in conn.execute(sa.select(links_table).where(links_table.c.platform_type == platform_type))
        }
        entries = sorted(
            (e.action, e.status, e.crm_id, e.message.split(" from ")[-1])
            for e in logs.page(conn, ws.organization_id, limit=10_000)
            if e.data_type == platform_type
        )
    return {"rows": rows, "links": stored, "entries": entries}


def _build_keys(ws: Workspace, scope: Scope) -> None:
    """The supporters' stored keys, as the first page of a large table builds them."""
    with ws.engine.begin() as conn:
        match_keys.refresh(conn, scope.organization_id, "supporters", ["email"], "casefold")


@pytest.fixture
def reference(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """A second platform, where the same pages are applied inside their transactions."""
    ws = Workspace(f"sqlite:///{tmp_path_factory.mktemp('ref') / 'ref.db'}", vault=Vault(generate_key()))
    yield ws
    ws.close()


def test_a_planned_page_writes_what_applying_it_inside_its_transaction_writes(
    workspace: Workspace, reference: Workspace
) -> None:
    households = [_household(n) for n in range(5)]
    supporters = [
        *(_supporter(n, n % 5) for n in range(20)),
        _supporter(20, 99),  # its household is not on the platform: skipped
        _supporter(21, None, LastName="x" * 81),  # too long for the column: failed
        _supporter(22, None, Birthdate="not a date"),
    ]
    outcomes = []
    for ws, planned in ((workspace, True), (reference, False)):
        scope = _scope(ws)
        _write(ws, scope, "households", households, planned=planned)
        outcomes.append(_write(ws, scope, "supporters", supporters, planned=planned).counts)
    assert outcomes[0] == outcomes[1]
    assert (outcomes[0].created, outcomes[0].skipped, outcomes[0].failed) == (20, 1, 2)
    for platform_type in ("households", "supporters"):
        assert _state(workspace, platform_type) == _state(reference, platform_type)
    assert all(len(rows) == 1 for rows in _state(workspace, "supporters")["rows"].values())


def test_ids_taken_by_another_writer_meanwhile_do_not_mix_up_rows(workspace: Workspace) -> None:
    scope = _scope(workspace)
    page = [_household(n) for n in range(10)]
    made = _plan(workspace, scope, "households", page)
    assert made is not None
    # The application creates a household between the plan and the page's transaction.
    with workspace.engine.begin() as conn:
        (own,) = records.insert_many(conn, scope.organization_id, "households", [{"name": "Made by the app"}])
    with workspace.engine.begin() as conn, capture.origin(conn, "sync"):
        result = planning.apply_plan(conn, scope, made)
    assert result.counts.created == 10
    state = _state(workspace, "households")
    assert {k: v[0]["name"] for k, v in state["rows"].items() if k != "<unlinked>"} == {
        r.id: r.values["Name"] for r in page
    }
    with workspace.engine.connect() as conn:
        assert (
            records.get_many(conn, scope.organization_id, "households", [own])[own]["name"]
            == "Made by the app"
        )


def test_a_record_linked_meanwhile_is_not_created_twice(workspace: Workspace) -> None:
    scope = _scope(workspace)
    first = [_household(n) for n in range(4)]
    # The next page repeats the last record of the one before (changed while it was read),
    # and is planned while that page is still being written.
    second = [_household(3, Phone="0113 496 0000"), _household(4)]
    made = _plan(workspace, scope, "households", second)
    assert made is not None
    _write(workspace, scope, "households", first, planned=False)
    with workspace.engine.begin() as conn, capture.origin(conn, "sync"):
        result = planning.apply_plan(conn, scope, made)
    assert (result.counts.created, result.counts.updated) == (1, 1)
    state = _state(workspace, "households")
    assert "<unlinked>" not in state["rows"]
    assert all(len(rows) == 1 for rows in state["rows"].values())
    assert state["rows"][_household(3).id][0]["phone"] == "0113 496 0000"


def test_a_page_planned_without_reading_links_is_applied_inside_if_a_record_was_linked(
    workspace: Workspace, reference: Workspace
) -> None:
    # A first pull plans its pages without reading links (none existed as it began); a
    # record linked meanwhile (pushed, or on a page written since) must still not be created
    # twice: the transaction's check of the page's links sends the page inside.
    first = [_household(n) for n in range(3)]
    second = [_household(2, Phone="0113 496 0000"), _household(3)]
    states = []
    for ws, unread in ((workspace, True), (reference, False)):
        scope = _scope(ws)
        _write(ws, scope, "households", first, planned=False)
        with reading(ws.engine) as conn:
            made = planning.plan_page(
                conn, scope, NPSP.mapping("households"), second, run_id=None, linked=not unread
            )
        if unread:
            assert made is not None
            assert made.versions == {}
        result = _commit(ws, scope, "households", second, made)
        assert (result.counts.created, result.counts.updated) == (1, 1)
        states.append(_state(ws, "households"))
    assert states[0] == states[1]
    assert all(len(rows) == 1 for rows in states[0]["rows"].values())
    assert states[0]["rows"][_household(2).id][0]["phone"] == "0113 496 0000"


def test_a_first_page_planned_without_reading_links_writes_the_same(
    workspace: Workspace, reference: Workspace
) -> None:
    page = [_household(n) for n in range(5)]
    for ws, linked in ((workspace, False), (reference, True)):
        scope = _scope(ws)
        with reading(ws.engine) as conn:
            made = planning.plan_page(
                conn, scope, NPSP.mapping("households"), page, run_id=None, linked=linked
            )
        assert made is not None
        _written_in_order(ws, scope, made)
    assert _state(workspace, "households") == _state(reference, "households")


@pytest.mark.parametrize("scanned_up_to", [matching.SCANNED_UP_TO, 0])
def test_a_platform_row_to_match_made_meanwhile_is_matched(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, scanned_up_to: int
) -> None:
    # Whether the table is scanned for any row without a link or asked for the page's keys.
    monkeypatch.setattr(matching, "SCANNED_UP_TO", scanned_up_to)
    scope = _scope(workspace)
    _build_keys(workspace, scope)
    page = [_supporter(1, None), _supporter(2, None)]
    made = _plan(workspace, scope, "supporters", page)
    assert made is not None
    with workspace.engine.begin() as conn:
        (own,) = records.insert_many(
            conn,
            scope.organization_id,
            "supporters",
            [{"first_name": "Ada", "last_name": "Person 1", "email": " PERSON1@example.org"}],
        )
    with workspace.engine.begin() as conn, capture.origin(conn, "sync"):
        result = planning.apply_plan(conn, scope, made)
        logs.write(conn, scope.organization_id, result.logs, connection_id=scope.connection_id, run_id=None)
    assert (result.counts.created, result.counts.updated) == (1, 1)
    with workspace.engine.connect() as conn:
        linked = links.by_crm_ids(
            conn, scope.organization_id, scope.connection_id, "supporters", [page[0].id]
        )
        assert linked[page[0].id].platform_id == own
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(platform_table("supporters"))).scalar() == 2
        )
        messages = [e.message for e in logs.page(conn, scope.organization_id, limit=10)]
    assert any("matched by email" in m for m in messages)


def test_a_parent_deleted_meanwhile_is_refused_by_the_database_and_the_page_applied_inside(
    workspace: Workspace, reference: Workspace
) -> None:
    households = [_household(1), _household(2)]
    supporters = [_supporter(1, 1), _supporter(2, 2)]
    states = []
    for ws, planned in ((workspace, True), (reference, False)):
        scope = _scope(ws)
        _write(ws, scope, "households", households, planned=False)
        made = _plan(ws, scope, "supporters", supporters) if planned else None
        with ws.engine.begin() as conn:
            linked = links.platform_ids(
                conn, scope.organization_id, scope.connection_id, "households", [households[0].id]
            )
            # The application deletes the household; its link stays until a push or pull notices.
            records.delete(conn, scope.organization_id, "households", linked[households[0].id])
        result = _commit(ws, scope, "supporters", supporters, made)
        assert (result.counts.created, result.counts.failed) == (1, 1)
        states.append(_state(ws, "supporters"))
    # The same rows, links and outcomes; the databases word their refusal differently.
    for state in states:
        state["entries"] = [(*entry[:3], entry[3].split(":")[0]) for entry in state["entries"]]
    assert states[0] == states[1]
    assert "<dangling>" not in str(states[0]["rows"])
    assert (
        "pull",
        "error",
        supporters[0].id,
        "the platform database rejected Contact 003C00000000000001",
    ) in (states[0]["entries"])


def test_pages_that_update_or_must_match_are_applied_inside_their_transaction(workspace: Workspace) -> None:
    scope = _scope(workspace)
    _write(workspace, scope, "households", [_household(1)], planned=True)
    # A record whose link holds another version is an update.
    assert _plan(workspace, scope, "households", [_household(1, Name="Renamed")]) is None
    changed = CrmRecord(
        id=_household(1).id, modstamp="2026-12-02T10:00:00.000+0000", values=_household(1).values
    )
    assert _plan(workspace, scope, "households", [changed]) is None
    # The same version again is only skipped: that can be planned.
    unchanged = _plan(workspace, scope, "households", [_household(1)])
    assert unchanged is not None
    assert unchanged.result.counts.unchanged == 1
    # A supporter with no link while the platform has supporters without one: matched inside.
    with workspace.engine.begin() as conn:
        records.insert_many(conn, scope.organization_id, "supporters", [{"last_name": "Someone"}])
    assert _plan(workspace, scope, "supporters", [_supporter(5, None)]) is None


def test_in_a_large_table_only_a_row_without_a_link_that_matches_sends_the_page_inside(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Beyond SCANNED_UP_TO rows, the page's keys are looked up instead of any row without a link.
    monkeypatch.setattr(matching, "SCANNED_UP_TO", 0)
    scope = _scope(workspace)
    with workspace.engine.begin() as conn:
        records.insert_many(
            conn,
            scope.organization_id,
            "supporters",
            [{"last_name": "Someone"}, {"last_name": "Other", "email": "other@example.org"}],
        )
    # Until the page's transaction has built the stored keys, a plan cannot know.
    assert _plan(workspace, scope, "supporters", [_supporter(5, None)]) is None
    _build_keys(workspace, scope)
    assert _plan(workspace, scope, "supporters", [_supporter(5, None)]) is not None
    with workspace.engine.begin() as conn:
        waiting = {"last_name": "Person 5", "email": " Person5@example.org"}
        (own,) = records.insert_many(conn, scope.organization_id, "supporters", [waiting])
    # A plan is made on the keys as stored; its transaction takes the changes since, finds
    # the row and applies the page inside.
    page = [_supporter(5, None)]
    result = _commit(workspace, scope, "supporters", page, _plan(workspace, scope, "supporters", page))
    assert (result.counts.created, result.counts.updated) == (0, 1)
    with workspace.engine.connect() as conn:
        linked = links.platform_ids(
            conn, scope.organization_id, scope.connection_id, "supporters", [page[0].id]
        )
    assert linked == {page[0].id: own}
    # Now stored, its key sends the next such page inside before any plan is made.
    with workspace.engine.begin() as conn:
        waiting = {"last_name": "Person 6", "email": "PERSON6@example.org"}
        records.insert_many(conn, scope.organization_id, "supporters", [waiting])
    _build_keys(workspace, scope)
    assert _plan(workspace, scope, "supporters", [_supporter(6, None)]) is None


@pytest.mark.parametrize("name", ["npsp", "bloomerang", "customer-success", "contact-center"])
def test_every_lookup_of_the_built_in_profiles_can_be_planned(name: str) -> None:
    # A lookup column without a foreign key would let a planned row point at a deleted parent.
    profile = load_profile(name)
    for mapping in profile.objects:
        own_type = any(t.type == mapping.type for lookup in mapping.lookups for t in lookup.targets)
        assert planning.plannable(mapping) is not own_type, mapping.type


HOUSEHOLDS = [_household(n) for n in range(3)]
SUPPORTERS = [_supporter(n, n % 3) for n in range(6)]


def _planned_in_a_row(ws: Workspace, scope: Scope) -> tuple[planning.PagePlan, planning.PagePlan]:
    """A page of households planned, then a page of their supporters planned while the
    households' page is still in the writer (its links taken from its plan)."""
    parent = _plan(ws, scope, "households", HOUSEHOLDS)
    assert parent is not None
    with reading(ws.engine) as conn:
        child = planning.plan_page(
            conn,
            scope,
            NPSP.mapping("supporters"),
            SUPPORTERS,
            run_id=None,
            unwritten={"households": parent.new_links()},
        )
    assert child is not None
    assert set(child.assumed["households"]) == {h.id for h in HOUSEHOLDS}
    return parent, child


def _written_in_order(ws: Workspace, scope: Scope, *plans: planning.PagePlan) -> None:
    for made in plans:
        with ws.engine.begin() as conn, capture.origin(conn, "sync"):
            planning.apply_plan(conn, scope, made)


def _households_of_supporters(ws: Workspace) -> list[str]:
    """The CRM ids of the households the supporters' platform rows point at, in order."""
    rows = _state(ws, "supporters")["rows"]
    return [rows[s.id][0]["household_id"] for s in SUPPORTERS]


def test_parents_from_a_plan_not_written_yet_are_used_when_it_holds(workspace: Workspace) -> None:
    scope = _scope(workspace)
    parent, child = _planned_in_a_row(workspace, scope)
    _written_in_order(workspace, scope, parent, child)
    with workspace.engine.connect() as conn:
        written = links.platform_ids(
            conn, scope.organization_id, scope.connection_id, "supporters", [s.id for s in SUPPORTERS]
        )
    # Written as planned: the supporters have the ids their plan took.
    assert sorted(written.values()) == child.ids
    assert _households_of_supporters(workspace) == [HOUSEHOLDS[n % 3].id for n in range(6)]


def test_parents_from_a_plan_that_did_not_hold_are_looked_up_again(workspace: Workspace) -> None:
    scope = _scope(workspace)
    parent, child = _planned_in_a_row(workspace, scope)
    # Another pull links the last household meanwhile: the households' plan no longer holds,
    # its page is applied inside its transaction and its records get other ids.
    _write(workspace, scope, "households", HOUSEHOLDS[2:], planned=False)
    _written_in_order(workspace, scope, parent, child)
    with workspace.engine.connect() as conn:
        ids = links.platform_ids(
            conn, scope.organization_id, scope.connection_id, "households", [h.id for h in HOUSEHOLDS]
        )
    assert ids != parent.new_links()
    # Each supporter points at its own household, by the ids the households really got.
    assert _households_of_supporters(workspace) == [HOUSEHOLDS[n % 3].id for n in range(6)]
