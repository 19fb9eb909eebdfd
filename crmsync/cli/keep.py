"""Commands that keep in step: ``orgsync``, ``run``, ``status``."""

from __future__ import annotations

import signal
from typing import Annotated, Any

import typer

from crmsync.cli.common import (
    ConnectionOption,
    JsonOption,
    app,
    fail,
    json_line,
    open_workspace,
    out,
    shown,
)
from crmsync.errors import CrmsyncError

orgsync_app = typer.Typer(help="Per CRM object: how (cdc or poll) and how often changes are pulled.")
app.add_typer(orgsync_app, name="orgsync")


def _sync_line(sync: Any) -> str:
    last = f"{sync.last_sync_at:%Y-%m-%d %H:%M}" if sync.last_sync_at else "never"
    state = "enabled" if sync.enabled else "disabled"
    error = f"; last error: {sync.last_error}" if sync.last_error else ""
    return (
        f"{sync.crm_object:<32} {sync.method:<4} every {sync.interval_minutes:>2} min  {state:<8} "
        f"{sync.status:<12} last sync {last}, {sync.error_total} errors{error}"
    )


def _sync_json(sync: Any) -> dict[str, Any]:
    return {**sync.__dict__, "status": sync.status}


@orgsync_app.command("list")
def orgsync_list(
    ctx: typer.Context, connection: ConnectionOption = None, as_json: JsonOption = False
) -> None:
    """List org syncs with their status, last sync and errors."""
    from crmsync.engine.orgsync import list_syncs

    workspace = open_workspace(ctx, configured=True)
    try:
        syncs = list_syncs(workspace, connection)
    except CrmsyncError as exc:
        raise fail(exc) from None
    finally:
        workspace.close()
    for sync in syncs:
        print(json_line(_sync_json(sync))) if as_json else out.print(_sync_line(sync), highlight=False)
    if not syncs and not as_json:
        out.print("no org syncs; add one with `crmsync orgsync add OBJECT`")


@orgsync_app.command("add")
def orgsync_add(ctx: typer.Context, crm_object: str, connection: ConnectionOption = None) -> None:
    """Add an org sync for a CRM object (starts disabled, method cdc, every 15 minutes)."""
    from crmsync.engine.orgsync import add_sync

    workspace = open_workspace(ctx, configured=True)
    try:
        out.print(_sync_line(add_sync(workspace, connection, crm_object)), highlight=False)
    except CrmsyncError as exc:
        raise fail(exc) from None
    finally:
        workspace.close()


@orgsync_app.command("set")
def orgsync_set(
    ctx: typer.Context,
    crm_object: str,
    method: Annotated[str | None, typer.Option("--method", help="cdc or poll")] = None,
    interval: Annotated[int | None, typer.Option("--interval", help="5, 10, 15 or 30 minutes")] = None,
    enable: Annotated[
        bool | None, typer.Option("--enable/--disable", help="switch the org sync on or off")
    ] = None,
    connection: ConnectionOption = None,
) -> None:
    """Change an org sync's method, interval or enabled state."""
    from crmsync.engine.orgsync import Change, set_sync

    workspace = open_workspace(ctx, configured=True)
    try:
        sync = set_sync(workspace, connection, crm_object, Change(method, interval, enable))
        out.print(_sync_line(sync), highlight=False)
    except CrmsyncError as exc:
        raise fail(exc) from None
    finally:
        workspace.close()


@orgsync_app.command("remove")
def orgsync_remove(ctx: typer.Context, crm_object: str, connection: ConnectionOption = None) -> None:
    """Remove an org sync (and any data sources linked to its object)."""
    from crmsync.engine.orgsync import remove_sync

    workspace = open_workspace(ctx, configured=True)
    try:
        sync = remove_sync(workspace, connection, crm_object)
    except CrmsyncError as exc:
        raise fail(exc) from None
    finally:
        workspace.close()
    out.print(f"removed the {sync.crm_object} org sync")


@orgsync_app.command("test")
def orgsync_test(ctx: typer.Context, crm_object: str, connection: ConnectionOption = None) -> None:
    """Read one record of the object with the stored token; changes nothing (not even the circuit)."""
    from crmsync.engine.commands import opened

    workspace = open_workspace(ctx, configured=True)
    try:
        with opened(workspace, connection) as session:
            out.print(session.connector.probe(crm_object))
    except CrmsyncError as exc:
        raise fail(exc) from None
    finally:
        workspace.close()


@app.command()
def status(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Every connection and org sync: status, last sync, errors, locks, queue depth."""
    from crmsync.engine.status import status as read_status

    workspace = open_workspace(ctx, configured=False)
    try:
        picture = read_status(workspace)
    finally:
        workspace.close()
    if as_json:
        print(json_line(picture))
        return
    for connection in picture["connections"]:
        last = connection["last_run"]
        ran = (
            f"last run {last['kind']} {last['status']} at {last['started_at']:%Y-%m-%d %H:%M}"
            if last
            else "never run"
        )
        out.print(
            f"[bold]{connection['name']}[/bold] ({connection['crm']}, profile {connection['profile']}): "
            f"{connection['status']}; {ran}; {connection['locks']} locks; "
            f"{connection['queue_depth']} waiting to push; {connection['error_total']} errors",
            highlight=False,
        )
        for loop in connection["loops"]:
            out.print(f"  {_loop_line(loop)}", highlight=False, soft_wrap=True)
        for sync in connection["org_syncs"]:
            last_sync = f"{sync['last_sync']:%Y-%m-%d %H:%M}" if sync["last_sync"] else "never"
            out.print(
                f"  {sync['object']:<30} {sync['method']:<4} {sync['interval_minutes']:>2} min "
                f"{sync['status']:<12} last sync {last_sync}, {sync['error_total']} errors",
                highlight=False,
            )
    if not picture["connections"]:
        out.print("no connections; configure one in crmsync.toml")


def _loop_line(loop: dict[str, Any]) -> str:
    """One loop of `crmsync status`: alive or not, heartbeat, last error."""
    if loop["problem"]:
        return f"{loop['kind']:<10} [red]{shown(loop['problem'])}[/red]"
    process = loop["owner"].rpartition(":")[0]
    beat = f"{loop['heartbeat_at']:%H:%M:%S}" if loop["heartbeat_at"] else "none yet"
    line = f"{loop['kind']:<10} {loop['state']:<10} heartbeat {beat} UTC (process {process})"
    if loop["state"] == "stopped":
        line = f"{loop['kind']:<10} stopped    at {loop['seen_at']:%Y-%m-%d %H:%M:%S} UTC (process {process})"
    if loop["note"]:
        line += f"; {shown(loop['note'])}"
    if loop["restarts"]:
        line += f"; restarted {loop['restarts']} times"
    if loop["last_error"]:
        line += f"; last error at {loop['last_error_at']:%H:%M:%S}: {shown(loop['last_error'])}"
    return line


@app.command()
def run(
    ctx: typer.Context,
    tick: Annotated[float, typer.Option("--tick", min=0.5, help="seconds between looks for due work")] = 5.0,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="also serve the admin console")] = True,
    host: Annotated[str, typer.Option("--host", help="address the admin console listens on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="its port (0: any free port)")] = 8000,
    secure_cookies: Annotated[
        str, typer.Option("--secure-cookies", help="auto (when served over https), always or never")
    ] = "auto",
) -> None:
    """Run everything (polls and jobs, real-time and daily push, sweep, admin console) until SIGTERM."""
    import threading

    from crmsync.cli.web import cookie_policy
    from crmsync.runner.embedded import EmbeddedRunner, RunnerOptions

    policy = cookie_policy(secure_cookies)
    workspace = open_workspace(ctx, configured=True)
    runner = EmbeddedRunner(
        workspace,
        RunnerOptions(
            tick=tick,
            on_event=lambda text: out.print(text, highlight=False),
            serve=(host, port) if serve else None,
            cookie_secure=policy,
        ),
    )
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    try:
        runner.start()
        stopped.wait()
        out.print("stopping: finishing the work in hand")
    finally:
        runner.shutdown()
        workspace.close()
    out.print("stopped; nothing is lost (cursors, changes and the push queue are in the database)")
