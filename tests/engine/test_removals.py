"""CRM deletes and merges: archived by default (kept, out of pushes and exports), deleted or
unlinked when a section says so, children following their parent."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from bloomerang_testkit import BOTH_WAYS, CONNECTION, Control, connect, platform_id, sync
from engine_testkit import CONNECTION as SF
from engine_testkit import FAST, live
from engine_testkit import connect as connect_sf
from engine_testkit import sync as sync_sf

from crmsync.emulators.bloomerang import Emulator as BloomerangEmulator
from crmsync.emulators.salesforce.seed import seed_npsp
from crmsync.emulators.salesforce.server import Emulator
from crmsync.engine.commands import list_archived, opened, run_push, run_restore, run_sweep
from crmsync.engine.reconcile import reconcile
from crmsync.engine.workspace import Workspace
from crmsync.store import archive, records
from crmsync.store.db import reading
from crmsync.store.tables import links


def _reconcile(workspace: Workspace) -> Any:
    with opened(workspace, CONNECTION) as session:
        row = workspace.connection(CONNECTION)
        return reconcile(workspace.engine, session.scope, session.connector, filters=workspace.filters(row))


def _donor(emulator: BloomerangEmulator) -> tuple[int, list[int]]:
    """An individual constituent with several gifts, and the gifts."""
    with emulator.store.lock:
        tables = emulator.store.tables
        gifts: dict[int, list[int]] = {}
        for gift_id, gift in tables["Transaction"].items():
            gifts.setdefault(gift["AccountId"], []).append(gift_id)
        person = max(
            (c for c in tables["Constituent"].values() if c["Type"] == "Individual"),
            key=lambda c: len(gifts.get(c["Id"], [])),
        )
    return person["Id"], gifts[person["Id"]]


def _rows(workspace: Workspace, platform_type: str, ids: list[int]) -> dict[int, dict[str, Any]]:
    with reading(workspace.engine) as conn:
        return records.get_many(conn, workspace.organization_id, platform_type, ids)


def test_a_constituent_deleted_in_bloomerang_is_archived_with_its_gifts_not_deleted(
    workspace: Workspace, bl_emulator: BloomerangEmulator, bl_control: Control
) -> None:
    bl_control.seed(300, seed=51)
    connect(workspace, bl_emulator, toggles=BOTH_WAYS)
    assert sync(workspace).status == "succeeded"
    person, gifts = _donor(bl_emulator)
    supporter = platform_id(workspace, "supporters", person)
    gift_rows = [g for g in (platform_id(workspace, "transactions", gift) for gift in gifts) if g]
    assert supporter is not None
    assert len(gift_rows) >= 2
    bl_control.delete("Constituent", person)
    assert _reconcile(workspace).deleted.get("supporters") == 1
    # Every row kept, with its values.
    assert supporter in _rows(workspace, "supporters", [supporter])
    assert set(_rows(workspace, "transactions", gift_rows)) == set(gift_rows)
    kept = {(a.platform_type, a.platform_id): a for a in list_archived(workspace)}
    assert kept[("supporters", supporter)].reason == "deleted"
    assert kept[("supporters", supporter)].crm_id == str(person)
    for row in gift_rows:
        # The gifts went with their constituent (Bloomerang deletes them together), directly or
        # with the pledge or recurring donation they pay.
        entry = kept[("transactions", row)]
        assert entry.reason == "with_parent"
        while entry.parent_type != "supporters":
            assert entry.parent_type is not None
            assert entry.parent_id is not None
            entry = kept[(entry.parent_type, entry.parent_id)]
        assert entry.parent_id == supporter
    # Out of exports, and never pushed back: an edit on the platform is skipped, the sweep
    # does not make them again.
    with reading(workspace.engine) as conn:
        exported = {r["id"] for r in records.export(conn, workspace.organization_id, "supporters")}
    assert supporter not in exported
    with workspace.engine.begin() as conn:
        records.update_many(conn, workspace.organization_id, "supporters", [(supporter, {"city": "Oslo"})])
    report = run_push(workspace, CONNECTION, retry=FAST)
    outcome = report.outcomes[("supporters", supporter)]
    assert outcome.status == "skipped"
    assert f"crmsync restore supporters {supporter}" in outcome.message
    assert run_sweep(workspace, CONNECTION, retry=FAST).outcomes == {}
    assert not bl_control.exists("Constituent", person)


def test_restore_brings_back_a_record_and_those_archived_with_it(
    workspace: Workspace, bl_emulator: BloomerangEmulator, bl_control: Control
) -> None:
    bl_control.seed(300, seed=52)
    connect(workspace, bl_emulator, toggles={"default": {"pull": True, "push": False}})
    sync(workspace)
    person, gifts = _donor(bl_emulator)
    supporter = platform_id(workspace, "supporters", person)
    found = [platform_id(workspace, "transactions", gift) for gift in gifts]
    gift_rows = {f"transactions:{row}" for row in found if row is not None}
    assert supporter is not None
    bl_control.delete("Constituent", person)
    _reconcile(workspace)
    archived = {a.key for a in list_archived(workspace)}
    assert gift_rows < archived
    result = run_restore(workspace, CONNECTION, "supporters", supporter, retry=FAST)
    restored = {r.record.key: r for r in result.restored}
    # The supporter first, then everything archived with it: its gifts, their allocations...
    assert result.restored[0].record.key == f"supporters:{supporter}"
    assert set(restored) == archived
    # Not in Bloomerang any more: a record of the platform's own, no longer archived.
    assert all(r.linked_to is None for r in result.restored)
    assert "is not in the CRM" in restored[f"supporters:{supporter}"].message
    assert list_archived(workspace) == []
    with pytest.raises(Exception, match="not archived"):
        run_restore(workspace, CONNECTION, "supporters", supporter, retry=FAST)


@pytest.mark.parametrize("mode", ["delete", "unlink"])
def test_a_section_may_delete_or_unlink_instead_and_children_follow(
    workspace: Workspace, bl_emulator: BloomerangEmulator, bl_control: Control, mode: str
) -> None:
    bl_control.seed(300, seed=53)
    sections = {"supporters": {"on_crm_delete": mode}}
    connect(workspace, bl_emulator, toggles={"default": {"pull": True, "push": False}}, sections=sections)
    sync(workspace)
    person, gifts = _donor(bl_emulator)
    supporter = platform_id(workspace, "supporters", person)
    gift_rows = [g for g in (platform_id(workspace, "transactions", gift) for gift in gifts) if g]
    assert supporter is not None
    bl_control.delete("Constituent", person)
    _reconcile(workspace)
    assert list_archived(workspace) == []
    if mode == "delete":
        # The gifts deleted with their constituent follow its setting, not their own (archive).
        assert _rows(workspace, "supporters", [supporter]) == {}
        assert _rows(workspace, "transactions", gift_rows) == {}
    else:
        assert set(_rows(workspace, "transactions", gift_rows)) == set(gift_rows)
        assert platform_id(workspace, "supporters", person) is None
        assert supporter in _rows(workspace, "supporters", [supporter])


def test_a_contact_undeleted_in_salesforce_comes_back_to_its_archived_row(
    workspace: Workspace, emulator: Emulator
) -> None:
    seed_npsp(emulator.org, 200, seed=54)
    connect_sf(workspace, emulator)
    sync_sf(workspace)
    contact = live(emulator, "Contact")[0]["Id"]
    with reading(workspace.engine) as conn:
        supporter = conn.execute(sa.select(links.c.platform_id).where(links.c.crm_id == contact)).scalar_one()
    emulator.org.delete("Contact", contact)
    sync_sf(workspace)
    assert [a.platform_id for a in list_archived(workspace, platform_type="supporters")] == [supporter]
    emulator.org.undelete("Contact", contact)
    emulator.org.update("Contact", contact, {"Title": "Back again"})
    result = sync_sf(workspace)
    assert result.status == "succeeded", result.message
    with reading(workspace.engine) as conn:
        again = conn.execute(sa.select(links.c.platform_id).where(links.c.crm_id == contact)).scalar_one()
        assert not archive.any_archived(
            conn, workspace.organization_id, workspace.connection(SF).id, "supporters"
        )
    # The same platform row, linked again and up to date; no second supporter.
    assert again == supporter
    assert _rows(workspace, "supporters", [supporter])[supporter]["title"] == "Back again"
