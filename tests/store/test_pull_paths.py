"""The store's fast paths for pulls: numbered bulk inserts, lean lookups, unlinked matches."""

from __future__ import annotations

from testkit import bare_connection

from crmsync.engine.workspace import Workspace
from crmsync.store import links, match_keys, records
from crmsync.store.links import NewLink


def test_bulk_insert_returns_ids_in_input_order_across_batches(workspace: Workspace) -> None:
    org = workspace.organization_id
    with workspace.engine.begin() as conn:
        (first,) = records.insert_many(conn, org, "funds", [{"name": "first"}])
        records.delete(conn, org, "funds", first)
        names = [f"fund {i}" for i in range(2500)]
        ids = records.insert_many(conn, org, "funds", [{"name": n} for n in names])
        rows = records.get_many(conn, org, "funds", ids)
    assert len(set(ids)) == len(names)
    assert [rows[i]["name"] for i in ids] == names


def test_platform_ids_and_the_unlinked_check(workspace: Workspace) -> None:
    org = workspace.organization_id
    cid = bare_connection(workspace, "c")
    other = bare_connection(workspace, "other")
    keys = [("a@example.org",), ("b@example.org",)]

    def waiting() -> set[tuple[str, ...]]:
        match_keys.refresh(conn, org, "supporters", ["email"], "casefold")
        return set(
            records.find_unlinked_matches(conn, org, cid, "supporters", ["email"], "casefold", keys) or {}
        )

    with workspace.engine.begin() as conn:
        assert waiting() == set()
        a, b = records.insert_many(
            conn,
            org,
            "supporters",
            [{"last_name": "A", "email": "a@example.org"}, {"last_name": "B", "email": "B@example.org "}],
        )
        assert waiting() == set(keys)
        links.write(conn, org, cid, [NewLink("supporters", a, "Contact", "003A", "t", "h")])
        assert waiting() == {("b@example.org",)}
        links.write(conn, org, cid, [NewLink("supporters", b, "Contact", "003B", "t", "h")], existing=set())
        assert waiting() == set()
        # Linked on this connection, the rows still wait on another.
        assert records.find_unlinked_matches(conn, org, other, "supporters", ["email"], "casefold", keys)
        assert links.platform_ids(conn, org, cid, "supporters", ["003A", "003B", "003X", "003A"]) == {
            "003A": a,
            "003B": b,
        }
        # A link the caller says exists is refreshed, not inserted again.
        links.write(
            conn, org, cid, [NewLink("supporters", a, "Contact", "003A", "t2", "h2")], existing={"003A"}
        )
        (link,) = links.by_crm_ids(conn, org, cid, "supporters", ["003A"]).values()
    assert (link.platform_id, link.crm_modstamp, link.values_hash) == (a, "t2", "h2")
