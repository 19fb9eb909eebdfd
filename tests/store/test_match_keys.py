"""Stored match keys follow every write to the platform, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
import sqlalchemy as sa
from testkit import bare_connection

from crmsync import matchkey
from crmsync.engine.workspace import Workspace
from crmsync.store import capture, match_keys, records, tenancy
from crmsync.store.platform import platform_table
from crmsync.store.tables import changes, match_key_sets
from crmsync.store.tables import match_keys as keys_table
from crmsync.store.types import utcnow

RULE = (["email"], "casefold")


def _found(ws: Workspace, cid: int, *emails: str) -> dict[str, int]:
    """Email -> the unlinked supporter it matches, with the keys brought up to date first."""
    org = ws.organization_id
    with ws.engine.begin() as conn:
        match_keys.refresh(conn, org, "supporters", *RULE)
        found = records.find_unlinked_matches(conn, org, cid, "supporters", *RULE, [(e,) for e in emails])
    assert found is not None
    return {key[0]: platform_id for key, platform_id in found.items()}


def _insert(ws: Workspace, emails: Sequence[str]) -> list[int]:
    with ws.engine.begin() as conn:
        return records.insert_many(
            conn, ws.organization_id, "supporters", [{"last_name": "P", "email": e} for e in emails]
        )


def test_keys_follow_the_applications_inserts_updates_and_deletes(workspace: Workspace) -> None:
    cid = bare_connection(workspace, "c")
    ada, bob = _insert(workspace, ["ADA@example.org", "bob@example.org"])
    assert _found(workspace, cid, "ada@example.org") == {"ada@example.org": ada}
    table = platform_table("supporters")
    with workspace.engine.begin() as conn, capture.origin(conn, "system"):
        conn.execute(table.update().where(table.c.id == ada).values(email="\tAda.L@example.org"))
        conn.execute(table.delete().where(table.c.id == bob))
    (zoe,) = _insert(workspace, ["ZOË@example.org"])
    assert _found(
        workspace, cid, "ada@example.org", "bob@example.org", "ada.l@example.org", "zoë@example.org"
    ) == {
        "ada.l@example.org": ada,
        "zoë@example.org": zoe,
    }
    with workspace.engine.connect() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(keys_table)).scalar_one()
    assert stored == 2


def test_rows_written_while_capture_was_off_are_keyed_by_the_periodic_check(workspace: Workspace) -> None:
    cid = bare_connection(workspace, "c")
    _insert(workspace, ["first@example.org"])
    assert _found(workspace, cid, "first@example.org")
    (lost,) = _insert(workspace, ["lost@example.org"])
    with workspace.engine.begin() as conn:
        # As if the application had written with its triggers disabled, and deleted a row so.
        conn.execute(changes.delete().where(changes.c.platform_id == lost))
        set_id = conn.execute(sa.select(match_key_sets.c.id)).scalar_one()
        conn.execute(
            keys_table.insert().values(
                key_set_id=set_id, organization_id=workspace.organization_id, platform_id=999, match_key="x"
            )
        )
    assert _found(workspace, cid, "lost@example.org") == {}
    with workspace.engine.begin() as conn:
        checked = utcnow() - match_keys.CHECK_EVERY - timedelta(seconds=1)
        conn.execute(match_key_sets.update().values(checked_at=checked))
    assert _found(workspace, cid, "lost@example.org") == {"lost@example.org": lost}
    with workspace.engine.connect() as conn:
        ids = conn.execute(sa.select(keys_table.c.platform_id).order_by(keys_table.c.platform_id)).scalars()
        assert 999 not in list(ids)


def test_keys_made_by_another_version_are_built_again(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = bare_connection(workspace, "c")
    (ada,) = _insert(workspace, ["ada@example.org"])
    assert _found(workspace, cid, "ada@example.org") == {"ada@example.org": ada}
    monkeypatch.setattr(matchkey, "VERSION", "2/unicode-99.0.0")
    with workspace.engine.connect() as conn:
        # Not asked of keys another Python made: a pull applies its page inside and builds them.
        assert (
            records.find_unlinked_matches(conn, 1, cid, "supporters", *RULE, [("ada@example.org",)]) is None
        )
    assert _found(workspace, cid, "ada@example.org") == {"ada@example.org": ada}
    with workspace.engine.begin() as conn:
        assert match_keys.rebuild(conn, workspace.organization_id) == 1
    assert _found(workspace, cid, "ada@example.org") == {"ada@example.org": ada}


def test_keys_stay_within_their_organization(workspace: Workspace) -> None:
    cid = bare_connection(workspace, "c")
    with workspace.engine.begin() as conn:
        other = tenancy.ensure_organization(conn, "other")
        records.insert_many(conn, other, "supporters", [{"last_name": "O", "email": "ada@example.org"}])
    assert _found(workspace, cid, "ada@example.org") == {}


@pytest.mark.postgres
def test_a_transaction_that_commits_after_a_refresh_is_taken_by_the_next(workspace: Workspace) -> None:
    if workspace.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: no transaction commits around another")
    cid = bare_connection(workspace, "c")
    _insert(workspace, ["first@example.org"])
    assert _found(workspace, cid, "first@example.org")
    with workspace.engine.connect() as late:
        transaction = late.begin()
        (slow,) = records.insert_many(
            late, workspace.organization_id, "supporters", [{"last_name": "S", "email": "Slow@example.org"}]
        )
        # A refresh while the application's transaction is still open: its row is not visible.
        assert _found(workspace, cid, "slow@example.org") == {}
        transaction.commit()
    assert _found(workspace, cid, "slow@example.org") == {"slow@example.org": slow}


def test_what_a_transaction_writes_after_its_refresh_is_taken_by_the_next(workspace: Workspace) -> None:
    cid = bare_connection(workspace, "c")
    org = workspace.organization_id
    _insert(workspace, ["first@example.org"])
    table = platform_table("supporters")
    with workspace.engine.begin() as conn, capture.origin(conn, "sync"):
        match_keys.refresh(conn, org, "supporters", *RULE)
        (own,) = records.insert_many(
            conn, org, "supporters", [{"last_name": "O", "email": "own@example.org"}]
        )
        conn.execute(table.update().where(table.c.id == own).values(email="renamed@example.org"))
    assert _found(workspace, cid, "own@example.org", "renamed@example.org") == {"renamed@example.org": own}
