"""Helpers shared by the test folders (each folder's own testkit builds on these)."""

from __future__ import annotations

import ast
from pathlib import Path

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


def foreign_imports(package_dir: Path, allowed: tuple[str, ...]) -> list[str]:
    """``file: module`` for every crmsync module the package's files import outside ``allowed``."""
    found = []
    for path in sorted(package_dir.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            found += [
                f"{path.relative_to(package_dir)}: {name}"
                for name in names
                if (name == "crmsync" or name.startswith("crmsync."))
                and not any(name == a or name.startswith(f"{a}.") for a in allowed)
            ]
    return found
