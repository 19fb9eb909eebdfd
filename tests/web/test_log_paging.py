"""Log pages stay fast however deep: keyset paging on indexes, dates turned into id ranges."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from crmsync.engine import log_view
from crmsync.engine.workspace import Workspace
from crmsync.secrets import Vault, generate_key
from crmsync.store.tables import log_entries

ROWS = 200_000


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    path: Path = tmp_path_factory.mktemp("logs") / "logs.db"
    workspace = Workspace(f"sqlite:///{path}", vault=Vault(generate_key()))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    org = workspace.organization_id
    statuses = ("processed",) * 17 + ("error", "pending", "skipped")
    with workspace.engine.begin() as conn:
        conn.execute(
            log_entries.insert(),
            [
                {
                    "organization_id": org,
                    "data_type": ("supporters", "transactions", "funds")[i % 3],
                    "action": "update",
                    "direction": "push" if i % 7 == 0 else "pull",
                    "status": statuses[i % len(statuses)],
                    "message": f"entry {i}",
                    "created_at": start + timedelta(seconds=30 * i),
                }
                for i in range(ROWS)
            ],
        )
    return workspace


@pytest.mark.slow
@pytest.mark.parametrize(
    "wanted",
    [
        log_view.LogFilter(),
        log_view.LogFilter(tab="pull"),
        log_view.LogFilter(tab="push", status="error"),
        log_view.LogFilter(tab="errors"),
        log_view.LogFilter(data_type="funds"),
        log_view.LogFilter(tab="pull", since=date(2026, 2, 1), until=date(2026, 2, 3)),
    ],
    ids=["all", "pull", "push-errors", "errors", "type", "dates"],
)
def test_a_deep_page_costs_what_the_first_does(big_log: Workspace, wanted: log_view.LogFilter) -> None:
    org = big_log.organization_id
    with big_log.engine.connect() as conn:
        first = log_view.page(conn, org, wanted)
        assert len(first) == 50
        assert [e.id for e in first] == sorted((e.id for e in first), reverse=True)
        depth = 1_000 if wanted.since else 40_000
        deep = log_view.LogFilter(**{**wanted.__dict__, "before": first[-1].id - depth})
        started = time.perf_counter()
        for _ in range(20):
            page = log_view.page(conn, org, deep)
        elapsed = (time.perf_counter() - started) / 20
        assert page
        assert all(e.id < deep.before for e in page)
        if wanted.since:
            assert all(wanted.since <= e.created_at.date() <= wanted.until for e in first)  # type: ignore[operator]
        # Generous for a shared 2-core machine; a scan of 200,000 rows takes far longer.
        assert elapsed < 0.05, f"{elapsed * 1000:.1f} ms per page"


def test_the_plans_use_the_indexes(big_log: Workspace) -> None:
    t = log_entries
    org = big_log.organization_id
    queries = [
        sa.select(t.c.id).where(t.c.organization_id == org, t.c.direction == "pull", t.c.id < 1000),
        sa.select(t.c.id).where(t.c.organization_id == org, t.c.status == "error", t.c.id < 1000),
        sa.select(t.c.id).where(t.c.organization_id == org, t.c.data_type == "funds", t.c.id < 1000),
    ]
    with big_log.engine.connect() as conn:
        for query in queries:
            compiled = (
                query.order_by(t.c.id.desc()).limit(50).compile(conn, compile_kwargs={"literal_binds": True})
            )
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
            assert "USING" in plan, plan
            assert "INDEX" in plan, plan
            assert "TEMP B-TREE" not in plan, plan
