"""Helpers shared by the test folders (each folder's own testkit builds on these)."""

from __future__ import annotations

from crmsync.engine.workspace import Workspace
from crmsync.store import tenancy


def bare_connection(workspace: Workspace, name: str) -> int:
    """A connection ``name`` with the npsp profile and no credentials (nothing is called); its id."""
    with workspace.engine.begin() as conn:
        cid, _ = tenancy.upsert_connection(
            conn,
            workspace.organization_id,
            name=name,
            crm="salesforce",
            profile="npsp",
            settings_={},
            credentials=None,
            config_hash=None,
        )
    return cid
