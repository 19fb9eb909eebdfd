"""Helpers for web tests: the Web bundle, signing in, waiting for a Sync All job."""

from __future__ import annotations

import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmsync.engine.workspace import Workspace
from crmsync.store import tenancy

with warnings.catch_warnings():
    # Starlette would like httpx2 for its test client; httpx works the same for these tests.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

_ENGINE_TESTS = str(Path(__file__).resolve().parent.parent / "engine")
if _ENGINE_TESTS not in sys.path:
    sys.path.insert(0, _ENGINE_TESTS)

from engine_testkit import FAST, connect  # noqa: E402

PASSWORD = "correct horse battery"
EMAIL = "admin@example.org"

__all__ = ["EMAIL", "FAST", "PASSWORD", "TestClient", "Web", "connect", "signed_in", "wait_job"]


@dataclass
class Web:
    """A workspace with connection ``sf``, an API client (bearer token) and its app."""

    workspace: Workspace
    client: TestClient
    token: str

    def org_workspace(self, name: str) -> Workspace:
        """The same database scoped to organization ``name`` (created on first use)."""
        with self.workspace.engine.begin() as conn:
            org = tenancy.ensure_organization(conn, name)
        return self.workspace.for_organization(org)


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    return html.split('name="csrf_token" value="')[1].split('"', maxsplit=1)[0]


def signed_in(client: TestClient, email: str = EMAIL, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the session's CSRF token (read from a page)."""
    token = csrf_of(client.get("/sign-in").text)
    answer = client.post(
        "/sign-in",
        data={"email": email, "password": password, "csrf_token": token, "next": "/integrations"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/integrations").text)


def wait_job(client: TestClient, job_id: str, timeout: float = 60) -> dict[str, Any]:
    """Poll a Sync All job until it is over."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["status"] != "running":
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still running after {timeout} s")
