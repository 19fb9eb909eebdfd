"""Property-based run of every operation in the OpenAPI document: no input makes a server error.

In-process against the ASGI app (no server), authenticated with an API token, over a
workspace whose connection ``sf`` is synced from the emulator, so that generated requests
reach real handlers (the document's examples name ``sf``). Bounded to stay fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from web_testkit import FAST, connect

from crmsync.emulators.salesforce.server import Emulator
from crmsync.engine import accounts
from crmsync.engine.commands import run_sync_all
from crmsync.engine.workspace import Workspace
from crmsync.secrets import Vault, generate_key
from crmsync.web.app import create_app

TOKEN: dict[str, str] = {}
STATUSES: list[int] = []


@pytest.fixture(scope="module")
def api_schema(emulator_server: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    path: Path = tmp_path_factory.mktemp("schema") / "platform.db"
    workspace = Workspace(f"sqlite:///{path}", vault=Vault(generate_key()))
    connect(workspace, emulator_server)
    run_sync_all(workspace, "sf", retry=FAST)
    _, TOKEN["value"] = accounts.create_token(workspace.engine, workspace.organization_id, "schemathesis")
    app = create_app(workspace)
    yield schemathesis.openapi.from_asgi("/api/openapi.json", app)
    app.state.jobs.wait()
    workspace.close()


KNOWN = {"name": "sf", "type": "supporters", "object": "Contact"}


def _known_names(drawn: tuple[Any, bool]) -> Any:
    """Half the cases name things that exist, so that they reach the handlers' deeper paths."""
    case, known = drawn
    if known and case.path_parameters:
        for key, value in KNOWN.items():
            if key in case.path_parameters:
                case.path_parameters[key] = value
    return case


def test_no_input_makes_a_server_error(api_schema: Any) -> None:
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 30
    for operation in operations:

        @given(case=st.tuples(operation.as_strategy(), st.booleans()).map(_known_names))
        @settings(
            max_examples=12,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def call(case: Any) -> None:
            response = case.call(headers={"Authorization": f"Bearer {TOKEN['value']}"})
            STATUSES.append(response.status_code)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:200]}"
                )
            case.validate_response(response, checks=[not_a_server_error])

        try:
            call()
        except Exception as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n".join(failures[:20])
    # Enough requests reached real handlers and succeeded, not only 404s and 422s.
    assert STATUSES.count(200) > 30, sorted(set(STATUSES))
