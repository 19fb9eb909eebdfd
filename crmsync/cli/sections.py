"""Commands on sections: ``fetch``, ``sync company``, ``push-model``, ``daily-push``, ``users``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

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
    sync_app,
)
from crmsync.errors import CrmsyncError

if TYPE_CHECKING:
    from crmsync.engine.pull import RunResult


@app.command()
def fetch(
    ctx: typer.Context,
    section: Annotated[
        str | None, typer.Option("--section", help="only this section, e.g. companies or end-users")
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="all history (Full Fetch), not only what changed since last time")
    ] = False,
    connection: ConnectionOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fetch every receiving section (or one) from the CRM now; --full reads all history."""
    from crmsync.console import progress_bars, wait_lines
    from crmsync.engine.section_commands import run_fetch

    workspace = open_workspace(ctx, configured=True)
    try:
        if as_json or not out.is_terminal:
            result = run_fetch(workspace, connection, section=section, full=full, observer=wait_lines(err))
        else:
            with progress_bars(out) as observer:
                result = run_fetch(workspace, connection, section=section, full=full, observer=observer)
    except CrmsyncError as exc:
        if as_json:
            print(json_line({"status": "failed", "message": exc.message}))
        raise fail(exc) from None
    finally:
        workspace.close()
    title = "Full Fetch" if full and section is None else f"Fetch{' (all history)' if full else ''}"
    _show(result, as_json=as_json, title=f"{title}{f' of {section}' if section else ''}")


@sync_app.command("company")
def sync_company(
    ctx: typer.Context,
    record: Annotated[
        str, typer.Argument(help="the Salesforce Account id, or a linked company's platform id")
    ],
    connection: ConnectionOption = None,
    as_json: JsonOption = False,
) -> None:
    """Sync one company: its account and related records in every section, plus the team."""
    from crmsync.console import wait_lines
    from crmsync.engine.section_commands import run_sync_company

    workspace = open_workspace(ctx, configured=True)
    try:
        synced = run_sync_company(workspace, connection, record, observer=wait_lines(err))
    except CrmsyncError as exc:
        if as_json:
            print(json_line({"status": "failed", "message": exc.message}))
        raise fail(exc) from None
    finally:
        workspace.close()
    if synced.team is not None and not as_json:
        _show(synced.team, as_json=False, title="team", exit_on_partial=False)
    _show(synced.company, as_json=as_json, title=f"company {record}", extra={"related": synced.ids})


@app.command("push-model")
def push_model(
    ctx: typer.Context,
    section: Annotated[str, typer.Argument(help="the section (model) to push, e.g. companies")],
    connection: ConnectionOption = None,
    as_json: JsonOption = False,
) -> None:
    """Push every record of one section (model) to the CRM now."""
    from crmsync.cli.push import _report
    from crmsync.console import wait_lines
    from crmsync.engine.section_commands import run_push_model

    workspace = open_workspace(ctx, configured=True)
    try:
        report = run_push_model(workspace, connection, section, observer=wait_lines(err))
    except CrmsyncError as exc:
        raise fail(exc) from None
    finally:
        workspace.close()
    _report(report, as_json=as_json, title=f"push {section}")


@app.command("daily-push")
def daily_push(ctx: typer.Context, connection: ConnectionOption = None, as_json: JsonOption = False) -> None:
    """Run the daily push now (`crmsync run` runs it every day at daily_push_at)."""
    from crmsync.console import wait_lines
    from crmsync.engine.section_commands import run_daily_push

    workspace = open_workspace(ctx, configured=True)
    try:
        result = run_daily_push(workspace, connection, observer=wait_lines(err))
    except CrmsyncError as exc:
        raise fail(exc) from None
    finally:
        workspace.close()
    counts = {s: result.count(s) for s in ("pushed", "failed", "skipped")}
    if as_json:
        print(
            json_line(
                {
                    "status": result.status,
                    "message": result.message,
                    "counts": counts,
                    "skipped_sections": result.skipped,
                    "api_calls": result.api_calls,
                }
            )
        )
    else:
        out.print(f"daily push: {result.message} ({result.api_calls} API calls)")
        for platform_type, why in result.skipped.items():
            out.print(f"  {platform_type}: {why}", highlight=False)
    if counts["failed"]:
        raise typer.Exit(EXIT_PARTIAL)


@app.command()
def users(ctx: typer.Context, connection: ConnectionOption = None, as_json: JsonOption = False) -> None:
    """The connection's user list (its team), which resolves every record's owner."""
    from crmsync.engine.section_commands import list_users

    workspace = open_workspace(ctx, configured=True)
    try:
        found = list_users(workspace, connection)
    except CrmsyncError as exc:
        raise fail(exc) from None
    finally:
        workspace.close()
    for member in found:
        if as_json:
            print(json_line(member.__dict__))
        else:
            state = "" if member.active in (None, True) else " (inactive)"
            out.print(f"{member.crm_id}  {member.name:<30} {member.email or ''}{state}", highlight=False)
    if not found and not as_json:
        out.print("no users yet; fetch the team section first (crmsync fetch --section team)")


def _show(
    result: RunResult,
    *,
    as_json: bool,
    title: str,
    exit_on_partial: bool = True,
    extra: dict[str, object] | None = None,
) -> None:
    from crmsync.console import result_json, summary_table

    if as_json:
        print(result_json(result, **(extra or {})))
    else:
        out.print(summary_table(result, title=f"{title}: {result.status}"))
        out.print(f"{result.message} ({result.api_calls} API calls)")
    if exit_on_partial and result.status == "partial":
        raise typer.Exit(EXIT_PARTIAL)
