"""Helpers shared by the test folders (each folder's own testkit builds on these)."""

from __future__ import annotations

import ast
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmsync.engine.workspace import Workspace
from crmsync.store import tenancy


@dataclass
class FakeTime:
    """A RetryPolicy's ``sleep`` and ``clock``: sleeping records the delay and moves the clock
    on at once, so minutes of patience pass in no time (from any thread)."""

    now: float = 0.0
    delays: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def sleep(self, seconds: float) -> None:
        """Record ``seconds`` and advance the clock by them."""
        with self._lock:
            self.delays.append(seconds)
            self.now += seconds

    def clock(self) -> float:
        """The fake monotonic time."""
        return self.now


def bare_connection(workspace: Workspace, name: str, organization_id: int | None = None) -> int:
    """A connection ``name`` with the npsp profile and no credentials (nothing is called); its id.

    ``organization_id``: the organization it belongs to (default: the workspace's).
    """
    with workspace.engine.begin() as conn:
        cid, _ = tenancy.upsert_connection(
            conn,
            workspace.organization_id if organization_id is None else organization_id,
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


def wait_for(check: Callable[[], Any], *, timeout: float = 60, what: str = "the condition") -> Any:
    """Poll ``check`` until it returns something true; that value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout} s")
