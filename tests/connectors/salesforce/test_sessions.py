"""Expired sessions: one refresh and a replay; never a loop; one login at a time per connection,
across threads and across processes sharing the platform database (DESIGN pitfall 8)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sf_connector_testkit import SECRETS, CountingTransport, MakeClient, RecordingSleep

from crmsync.connectors.base import ReadRequest
from crmsync.connectors.salesforce.client import SalesforceClient
from crmsync.connectors.salesforce.connector import SalesforceConnector
from crmsync.emulators.salesforce.server import Emulator
from crmsync.engine.tokens import DatabaseTokenStore
from crmsync.engine.workspace import Workspace
from crmsync.errors import AuthError
from crmsync.secrets import Vault
from crmsync.store import tenancy
from crmsync.store.db import create_db_engine
from crmsync.store.tables import connections

LIMITS = "/services/data/v61.0/limits"
TOKEN = "/services/oauth2/token"
THREADS = 12


def read_limits(client: SalesforceClient) -> Any:
    return client.request("GET", "limits", what="read limits")


def all_at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run ``calls`` on their own threads, released together; their results (errors re-raised)."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(run, call) for call in calls]
        return [future.result(timeout=60) for future in futures]


def slow_logins(emulator: Emulator) -> None:
    # Logins take a while, so the other threads really are waiting while one logs in.
    emulator.state.faults.add({"kind": "latency", "path_prefix": TOKEN, "latency_ms": 150, "count": None})


# -- one refresh, then the replay -----------------------------------------------------


def test_an_expired_session_is_refreshed_once_and_the_call_replayed(
    emulator: Emulator, client: SalesforceClient, transport: CountingTransport, sleeps: RecordingSleep
) -> None:
    read_limits(client)
    emulator.state.faults.add({"kind": "expire_session", "path_prefix": LIMITS, "count": 1})

    assert read_limits(client)["DailyApiRequests"]

    assert transport.logins == 2
    assert transport.count(LIMITS, 401) == 1
    assert sleeps.delays == []


def test_sessions_expired_through_the_control_api_are_refreshed(
    emulator: Emulator, client: SalesforceClient, transport: CountingTransport
) -> None:
    read_limits(client)
    first = client.token()
    answer = httpx.post(f"{emulator.base_url}/__emulator__/auth/expire-sessions")
    assert answer.json()["expired"] >= 1

    assert read_limits(client)
    assert client.token() != first
    assert transport.logins == 2


def test_a_session_that_times_out_on_the_org_clock_is_refreshed(
    emulator: Emulator, client: SalesforceClient, transport: CountingTransport
) -> None:
    emulator.state.auth.config.session_seconds = 60
    read_limits(client)
    emulator.org.clock.advance(61)

    assert read_limits(client)
    assert transport.logins == 2


def test_a_second_401_in_a_row_is_an_auth_error_not_a_loop(
    emulator: Emulator, client: SalesforceClient, transport: CountingTransport, sleeps: RecordingSleep
) -> None:
    emulator.state.faults.add({"kind": "expire_session", "path_prefix": LIMITS, "count": None})

    with pytest.raises(AuthError) as raised:
        read_limits(client)

    message = str(raised.value)
    assert "refused a session it had just issued (INVALID_SESSION_ID)" in message
    assert "check that the integration user is active" in message
    assert "\n" not in message
    assert all(secret not in message for secret in SECRETS)
    assert transport.logins == 2  # the first login and exactly one refresh
    assert transport.count(LIMITS) == 2
    assert sleeps.delays == []


def test_every_call_may_refresh_once(
    emulator: Emulator, client: SalesforceClient, transport: CountingTransport
) -> None:
    read_limits(client)
    for _ in range(3):
        emulator.state.auth.expire_all()
        assert read_limits(client)
    assert transport.logins == 4


def test_a_read_across_pages_survives_a_session_expiring_in_the_middle(
    emulator: Emulator, client: SalesforceClient, transport: CountingTransport
) -> None:
    account = emulator.org.insert("Account", {"Name": "Household"})
    for i in range(450):
        emulator.org.insert("Contact", {"LastName": f"Person {i}", "AccountId": account})
    connector = SalesforceConnector(client, page_size=200)
    pages = connector.read(ReadRequest(object="Contact", fields=("LastName",)))
    seen = [r.id for r in next(pages).records]
    emulator.state.auth.expire_all()
    seen += [r.id for page in pages for r in page.records]

    assert len(seen) == len(set(seen)) == 450
    assert transport.logins == 2


# -- races ------------------------------------------------------------------------------


def test_threads_that_find_no_token_log_in_once(
    emulator: Emulator, client: SalesforceClient, transport: CountingTransport
) -> None:
    slow_logins(emulator)

    results = all_at_once([lambda: read_limits(client)] * THREADS)

    assert all(r["DailyApiRequests"] for r in results)
    assert transport.logins == 1


def test_threads_that_hit_an_expired_session_at_once_refresh_once(
    emulator: Emulator, client: SalesforceClient, transport: CountingTransport
) -> None:
    read_limits(client)
    emulator.state.auth.expire_all()
    slow_logins(emulator)

    results = all_at_once([lambda: read_limits(client)] * THREADS)

    assert all(r["DailyApiRequests"] for r in results)
    assert transport.logins == 2
    assert transport.count(LIMITS, 200) == THREADS + 1


def _connection(workspace: Workspace) -> int:
    with workspace.engine.begin() as conn:
        connection_id, _ = tenancy.upsert_connection(
            conn,
            workspace.organization_id,
            name="salesforce",
            crm="salesforce",
            profile="npsp",
            settings_={},
            credentials=None,
            config_hash=None,
        )
    return connection_id


@pytest.mark.timeout(120)
def test_two_processes_sharing_the_database_token_store_log_in_once(
    emulator: Emulator,
    workspace: Workspace,
    database: Any,
    vault: Vault,
    make_client: MakeClient,
) -> None:
    connection_id = _connection(workspace)
    # Two engines and two stores: what two worker processes would each have.
    other_engine = create_db_engine(database.url, schema=database.schema)
    try:
        transports = [CountingTransport(), CountingTransport()]
        clients = [
            make_client(
                token_store=DatabaseTokenStore(engine, vault, workspace.organization_id, connection_id),
                transport=counting,
            )
            for engine, counting in zip((workspace.engine, other_engine), transports, strict=True)
        ]
        slow_logins(emulator)
        calls: list[Callable[[], Any]] = [
            functools.partial(read_limits, c) for c in clients for _ in range(THREADS // 2)
        ]

        # Neither process has a token yet.
        assert all(r["DailyApiRequests"] for r in all_at_once(calls))
        assert sum(t.logins for t in transports) == 1

        # Both hold the same token when Salesforce ends every session.
        emulator.state.auth.expire_all()
        assert all(r["DailyApiRequests"] for r in all_at_once(calls))
        assert sum(t.logins for t in transports) == 2

        # The token is stored encrypted.
        with workspace.engine.connect() as conn:
            stored = conn.execute(
                sa.select(connections.c.token).where(connections.c.id == connection_id)
            ).scalar()
        assert stored
        assert clients[0].token().access_token not in stored
        assert vault.decrypt(stored)["access_token"] == clients[0].token().access_token
    finally:
        other_engine.dispose()
