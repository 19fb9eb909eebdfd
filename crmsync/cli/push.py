"""Commands that push: ``push``, ``sweep``, ``resync``, ``locks``, ``stamp-ids``; ``archived`` and
``restore`` (records whose CRM record was deleted, kept out of pushes until restored)."""

from __future__ import annotations

import signal
import threading
from typing import TYPE_CHECKING, Annotated, Any

import typer

from crmsync.cli.common import (
    EXIT_PARTIAL,
    ConnectionOption,
    JsonOption,
    app,
    err,
    fail,
    json_line,
    locks_app,
    open_workspace,
    out,
    shown,
)
from crmsync.errors import CrmsyncError, FatalError

if TYPE_CHECKING:
    from crmsync.engine.pulse import Pulse
    from crmsync.engine.push import PushReport


@app.command()
def push(
    ctx: typer.Context,
    connection: ConnectionOption = None,
    watch: Annotated[
        bool, typer.Option("--watch", help="keep pushing changes as they happen (Ctrl-C stops)")
    ] = False,
    sweep_minutes: Annotated[
        int, typer.Option("--sweep-minutes", min=1, help="safety-net sweep interval")
    ] = 15,
    as_json: JsonOption = False,
) -> None:
    """Push the platform's user changes to the CRM now (or continuously with --watch)."""
    from datetime import timedelta

    from crmsync.engine.commands import run_push, run_watch
    from crmsync.runner.supervisor import Supervisor

    workspace = open_workspace(ctx, configured=True)
    try:
        if not watch:
            _report(run_push(workspace, connection), as_json=as_json, title="push")
            return
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        out.print("pushing changes as they happen; Ctrl-C stops")
        row = workspace.connection(connection)
        # Supervised as in `crmsync run`: restarted if it dies, and shown by `crmsync status`.
        supervisor = Supervisor(workspace.engine, workspace.organization_id, stop, on_event=err.print)
        fatal: list[CrmsyncError] = []

        def pushing(pulse: Pulse) -> None:
            try:
                run_watch(
                    workspace,
                    connection,
                    stop,
                    sweep_every=timedelta(minutes=sweep_minutes),
                    on_report=lambda r: _report(
                        r.report, as_json=as_json, title="push", exit_on_partial=False
                    ),
                    pulse=pulse,
                )
            except FatalError as exc:
                # Credentials or configuration: a person must act; retrying would not help.
                fatal.append(exc)
                stop.set()

        supervisor.add(row.id, row.name, "pusher", pushing)
        supervisor.start()
        while not stop.wait(1.0):
            pass
        supervisor.join(timeout=30.0)
        if fatal:
            raise fatal[0]
    except CrmsyncError as exc:
        raise fail(exc) from None
    finally:
        workspace.close()


@app.command()
def sweep(ctx: typer.Context, connection: ConnectionOption = None, as_json: JsonOption = False) -> None:
    """Push every push-enabled record that has no CRM id yet and is not locked."""
    from crmsync.console import wait_lines
    from crmsync.engine.commands import run_sweep

    workspace = open_workspace(ctx, configured=True)
    try:
        _report(run_sweep(workspace, connection, observer=wait_lines(err)), as_json=as_json, title="sweep")
    except CrmsyncError as exc:
        raise fail(exc) from None
    finally:
        workspace.close()


@app.command()
def resync(
    ctx: typer.Context,
    platform_type: Annotated[str, typer.Argument(help="platform type, e.g. supporters")],
    ids: Annotated[list[int] | None, typer.Argument(help="platform ids")] = None,
    where: Annotated[
        list[str] | None,
        typer.Option("--where", help="COLUMN=VALUE: every record of this table view (repeatable)"),
    ] = None,
    connection: ConnectionOption = None,
    as_json: JsonOption = False,
) -> None:
    """Push records now, bypassing locks; a success clears the lock."""
    from crmsync.engine.commands import run_resync

    filters = {}
    for item in where or []:
        column, sep, value = item.partition("=")
        if not sep or not column:
            raise fail(f"--where {item!r} is not COLUMN=VALUE")
        filters[column.strip()] = value
    workspace = open_workspace(ctx, configured=True)
    try:
        report = run_resync(workspace, connection, platform_type, ids=ids or [], where=filters)
        _report(report, as_json=as_json, title="resync")
    except CrmsyncError as exc:
        raise fail(exc) from None
    finally:
        workspace.close()


@locks_app.callback()
def locks(ctx: typer.Context, connection: ConnectionOption = None, as_json: JsonOption = False) -> None:
    """List locked records with their last error (``locks archive TYPE:ID...`` clears them)."""
    if ctx.invoked_subcommand is not None:
        return
    from crmsync.engine.locks import list_locks

    workspace = open_workspace(ctx, configured=False)
    try:
        found = list_locks(workspace, connection)
    except CrmsyncError as exc:
        raise fail(exc) from None
    finally:
        workspace.close()
    if as_json:
        for lock in found:
            print(json_line({**lock.__dict__, "key": lock.key}))
        return
    for lock in found:
        out.print(
            f"{lock.key:<28} {lock.failures} failures, "
            f"last {lock.last_failed_at:%Y-%m-%d %H:%M:%S}: {shown(lock.last_error)}",
            highlight=False,
            soft_wrap=True,
        )
    if not found:
        out.print("no locked records")


@locks_app.command("archive")
def archive(
    ctx: typer.Context,
    keys: Annotated[list[str], typer.Argument(help="locks as TYPE:ID, e.g. supporters:42")],
    connection: ConnectionOption = None,
) -> None:
    """Clear locks; the records are pushed again."""
    from crmsync.engine.locks import archive_locks

    workspace = open_workspace(ctx, configured=False)
    try:
        count = archive_locks(workspace, keys, connection)
    except CrmsyncError as exc:
        raise fail(exc) from None
    finally:
        workspace.close()
    out.print(f"archived {count} lock{'s' if count != 1 else ''}")


@app.command()
def archived(
    ctx: typer.Context,
    platform_type: Annotated[str | None, typer.Argument(help="only this platform type")] = None,
    connection: ConnectionOption = None,
    as_json: JsonOption = False,
) -> None:
    """Platform records kept when their CRM record was deleted or merged away (restore brings them back)."""
    from crmsync.engine.commands import list_archived

    workspace = open_workspace(ctx, configured=False)
    try:
        found = list_archived(workspace, connection, platform_type)
    except CrmsyncError as exc:
        raise fail(exc) from None
    finally:
        workspace.close()
    if as_json:
        for record in found:
            fields = {k: v for k, v in record.__dict__.items() if k != "synced_values"}
            print(json_line({**fields, "key": record.key}))
        return
    for record in found:
        why = {"deleted": "deleted", "merged": f"merged into {record.master_crm_id}"}.get(
            record.reason, f"with {record.parent_type}:{record.parent_id}"
        )
        when = f"{record.archived_at:%Y-%m-%d %H:%M:%S}" if record.archived_at else "?"
        out.print(
            f"{record.key:<28} {record.crm_object} {record.crm_id or '-'} {why} in the CRM; archived {when}",
            highlight=False,
            soft_wrap=True,
        )
    if not found:
        out.print("no archived records")


@app.command()
def restore(
    ctx: typer.Context,
    platform_type: Annotated[str, typer.Argument(help="platform type, e.g. supporters")],
    platform_id: Annotated[int, typer.Argument(help="platform id")],
    connection: ConnectionOption = None,
    as_json: JsonOption = False,
) -> None:
    """Bring back an archived record (and those archived with it); linked again if the CRM has it."""
    from crmsync.engine.commands import run_restore

    workspace = open_workspace(ctx, configured=True)
    try:
        result = run_restore(workspace, connection, platform_type, platform_id)
    except CrmsyncError as exc:
        raise fail(exc) from None
    finally:
        workspace.close()
    if as_json:
        records = [
            {"key": r.record.key, "linked_to": r.linked_to, "message": r.message} for r in result.restored
        ]
        print(json_line({"restored": records, "api_calls": result.api_calls}))
        return
    for done in result.restored:
        out.print(shown(done.message), highlight=False, soft_wrap=True)


@app.command("stamp-ids")
def stamp_ids(ctx: typer.Context, connection: ConnectionOption = None, as_json: JsonOption = False) -> None:
    """Write the platform id onto every linked CRM record that lacks it."""
    from crmsync.console import wait_lines
    from crmsync.engine.commands import run_stamp_ids

    workspace = open_workspace(ctx, configured=True)
    try:
        result = run_stamp_ids(workspace, connection, observer=wait_lines(err))
    except CrmsyncError as exc:
        raise fail(exc) from None
    finally:
        workspace.close()
    if as_json:
        print(json_line(result.__dict__))
    else:
        total = sum(result.stamped.values())
        out.print(f"stamped {total} records ({result.api_calls} API calls)")
        for platform_type, count in sorted(result.failed.items()):
            out.print(
                f"[red]{count} {platform_type} could not be stamped; see `crmsync logs --status error`[/red]"
            )
    if result.failed:
        raise typer.Exit(EXIT_PARTIAL)


def _report(report: PushReport, *, as_json: bool, title: str, exit_on_partial: bool = True) -> None:
    counts = {status: report.count(status) for status in ("pushed", "failed", "skipped")}
    if as_json:
        outcomes: dict[str, Any] = {
            f"{t}:{i}": {"status": o.status, "message": o.message, "crm_id": o.crm_id, "locked": o.locked}
            for (t, i), o in report.outcomes.items()
        }
        print(json_line({"counts": counts, "api_calls": report.api_calls, "records": outcomes}))
    else:
        out.print(
            f"{title}: {counts['pushed']} pushed, {counts['failed']} failed, {counts['skipped']} skipped "
            f"({report.api_calls} API calls)"
        )
        for (t, i), outcome in report.outcomes.items():
            if outcome.status == "failed":
                lock = " [locked]" if outcome.locked else ""
                out.print(f"  [red]{t}:{i}[/red]{lock} {outcome.message}", highlight=False)
    if exit_on_partial and counts["failed"]:
        raise typer.Exit(EXIT_PARTIAL)
