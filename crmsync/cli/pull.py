"""Commands that pull and show: ``sync all``, ``reconcile``, ``logs``, ``export``."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from crmsync.cli.common import (
    EXIT_PARTIAL,
    ConnectionOption,
    JsonOption,
    app,
    err,
    fail,
    json_line,
    open_workspace,
    out,
    shown,
    sync_app,
)
from crmsync.errors import CrmsyncError
from crmsync.store.db import reading


@sync_app.command("all")
def sync_all_command(
    ctx: typer.Context,
    connection: ConnectionOption = None,
    object_: Annotated[
        list[str] | None, typer.Option("--object", help="only this platform type (repeatable)")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Sync All: pull every pull-enabled object in dependency order."""
    from crmsync.console import progress_bars, result_json, summary_table, wait_lines
    from crmsync.engine.commands import run_sync_all

    workspace = None
    try:
        workspace = open_workspace(ctx, configured=True)
        name = workspace.connection(connection).name
        if as_json or not out.is_terminal:
            result = run_sync_all(workspace, name, only=object_, observer=wait_lines(err))
        else:
            with progress_bars(out) as observer:
                result = run_sync_all(workspace, name, only=object_, observer=observer)
    except CrmsyncError as exc:
        if as_json:
            print(json_line({"status": "failed", "message": exc.message}))
        raise fail(exc) from None
    finally:
        if workspace is not None:
            workspace.close()
    if as_json:
        print(result_json(result, connection=name))
    else:
        out.print(summary_table(result, title=f"Sync All on {name}: {result.status}"))
        out.print(f"{result.message} ({result.api_calls} API calls)")
    if result.status == "partial":
        raise typer.Exit(EXIT_PARTIAL)


@app.command()
def reconcile(ctx: typer.Context, connection: ConnectionOption = None, as_json: JsonOption = False) -> None:
    """List every CRM id: remove records deleted or merged away in the CRM, fetch records a pull missed.

    For CRMs without a deleted-records feed (Bloomerang); `crmsync run` does it every reconcile_hours.
    """
    from crmsync.console import wait_lines
    from crmsync.engine.commands import run_reconcile

    workspace = open_workspace(ctx, configured=True)
    try:
        found = run_reconcile(workspace, connection, observer=wait_lines(err))
    except CrmsyncError as exc:
        raise fail(exc) from None
    finally:
        workspace.close()
    if as_json:
        print(json_line({"deleted": found.deleted, "missed": found.missed, "api_calls": found.api_calls}))
        return
    deleted, missed = sum(found.deleted.values()), sum(found.missed.values())
    out.print(
        f"{deleted} records deleted in the CRM removed, {missed} missed records fetched "
        f"({found.api_calls} API calls)"
    )
    for platform_type in sorted({*found.deleted, *found.missed}):
        out.print(
            f"  {platform_type}: {found.deleted.get(platform_type, 0)} removed, "
            f"{found.missed.get(platform_type, 0)} fetched",
            highlight=False,
        )


@app.command()
def logs(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option("--status", help="processed, error, pending or skipped")
    ] = None,
    type_: Annotated[str | None, typer.Option("--type", help="platform type, e.g. supporters")] = None,
    direction: Annotated[str | None, typer.Option("--direction", help="pull or push")] = None,
    run: Annotated[int | None, typer.Option("--run", help="only entries of this run")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10000)] = 50,
    before: Annotated[
        int | None, typer.Option("--before", help="entries older than this id (paging)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
) -> None:
    """Show integration log entries, newest first."""
    from crmsync.store import logs as log_store

    workspace = open_workspace(ctx, configured=False)
    with reading(workspace.engine) as conn:
        entries = log_store.page(
            conn,
            workspace.organization_id,
            status=status,
            data_type=type_,
            direction=direction,
            run_id=run,
            before_id=before,
            limit=limit,
        )
    workspace.close()
    if as_json:
        for e in entries:
            print(json_line(e.__dict__))
        return
    for e in entries:
        colour = {"error": "red", "skipped": "yellow", "pending": "cyan"}.get(e.status, "green")
        out.print(
            f"[dim]{e.id:>7} {e.created_at:%Y-%m-%d %H:%M:%S}[/dim] {e.direction:<4} {e.data_type:<20} "
            f"{e.action:<6} [{colour}]{e.status:<9}[/{colour}] {shown(e.message)}",
            highlight=False,
            soft_wrap=True,
        )
    if not entries:
        out.print("no log entries match")


@app.command()
def export(
    ctx: typer.Context,
    platform_type: Annotated[str, typer.Argument(help="platform type, e.g. supporters")],
    connection: ConnectionOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="one JSON object per line (the only format)")
    ] = True,
) -> None:
    """Export platform records with their CRM ids, one JSON object per line."""
    from crmsync.store import records, tenancy
    from crmsync.store.platform import platform_tables

    if platform_type not in platform_tables():
        known = ", ".join(sorted(platform_tables()))
        raise fail(f"unknown platform type {platform_type!r}; known types: {known}")
    workspace = open_workspace(ctx, configured=False)
    with reading(workspace.engine) as conn:
        rows = tenancy.list_connections(conn, workspace.organization_id)
    connection_id = workspace.connection(connection).id if connection or len(rows) == 1 else None
    with reading(workspace.engine) as conn:
        for row in records.export(conn, workspace.organization_id, platform_type, connection_id):
            sys.stdout.write(json_line(row) + "\n")
    workspace.close()
