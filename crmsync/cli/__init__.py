"""The ``crmsync`` command."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from crmsync import __version__
from crmsync.config import CONFIG_ENV, Config, load_config
from crmsync.errors import CrmsyncError
from crmsync.secrets import Vault, generate_key, vault_from_environment

# Exit codes: 0 done; 1 a fatal error (the message says what to fix); 3 the run finished
# but some records failed (each has an error log entry).
EXIT_FAILED = 1
EXIT_PARTIAL = 3
KEY_FILE = Path(".crmsync/secret.key")

app = typer.Typer(
    name="crmsync",
    help="Keep an application's database and its customers' CRMs in step, both ways.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
sync_app = typer.Typer(help="Pull CRM data into the platform.", no_args_is_help=True)
emulate_app = typer.Typer(help="Run a local, faithful CRM emulator.", no_args_is_help=True)
app.add_typer(sync_app, name="sync")
app.add_typer(emulate_app, name="emulate")

out = Console()
err = Console(stderr=True)


@dataclass
class Options:
    """Options shared by every command."""

    config_path: Path | None
    database: str | None

    def config(self, *, required: bool = True) -> Config:
        """The configuration, with --database applied."""
        path = self.config_path or Path(os.environ.get(CONFIG_ENV, "crmsync.toml"))
        config = Config() if not required and not path.exists() else load_config(path)
        if self.database:
            config = config.model_copy(update={"database_url": self.database})
        return config


def vault() -> Vault:
    """The vault for CRM credentials ($CRMSYNC_SECRET_KEY, else a local key file)."""
    return vault_from_environment(default_key_file=KEY_FILE)


def fail(exc: CrmsyncError | str) -> typer.Exit:
    """Print a one-line error and return the exit to raise."""
    err.print(f"[red]crmsync: error:[/red] {exc}", markup=True, highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_FAILED)


@app.callback()
def main_options(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", help=f"configuration file (default ${CONFIG_ENV} or ./crmsync.toml)"),
    ] = None,
    database: Annotated[
        str | None, typer.Option("--database", help="database URL, overriding the configuration")
    ] = None,
) -> None:
    """crmsync: two-way sync between your platform database and your customers' CRMs."""
    ctx.obj = Options(config, database)


@app.command()
def version() -> None:
    """Print crmsync's version."""
    out.print(__version__)


@app.command()
def keygen() -> None:
    """Print a new key for CRMSYNC_SECRET_KEY (encrypts CRM credentials at rest)."""
    out.print(generate_key())


@app.command()
def init(
    path: Annotated[Path, typer.Option("--path", help="where to write the file")] = Path("crmsync.toml"),
    force: Annotated[bool, typer.Option("--force", help="overwrite an existing file")] = False,
) -> None:
    """Write a commented crmsync.toml to start from."""
    from crmsync.templates import CONFIG_TEMPLATE

    if path.exists() and not force:
        raise fail(f"{path} already exists; pass --force to overwrite it")
    path.write_text(CONFIG_TEMPLATE, encoding="utf-8")
    out.print(f"wrote {path}; set the environment variables it names, then run `crmsync sync all`")


@sync_app.command("all")
def sync_all_command(
    ctx: typer.Context,
    connection: Annotated[str | None, typer.Option("--connection", help="connection name")] = None,
    object_: Annotated[
        list[str] | None, typer.Option("--object", help="only this platform type (repeatable)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON result, no progress bars")] = False,
) -> None:
    """Sync All: pull every pull-enabled object in dependency order."""
    from crmsync.console import progress_bars, result_json, summary_table
    from crmsync.engine.commands import run_sync_all
    from crmsync.engine.workspace import Workspace

    options: Options = ctx.obj
    try:
        config = options.config()
        name, _ = config.connection(connection)
        workspace = Workspace.from_config(config, vault=vault())
        try:
            if as_json or not out.is_terminal:
                result = run_sync_all(workspace, name, only=object_)
            else:
                with progress_bars(out) as observer:
                    result = run_sync_all(workspace, name, only=object_, observer=observer)
        finally:
            workspace.close()
    except CrmsyncError as exc:
        if as_json:
            print(json.dumps({"status": "failed", "message": exc.message}))
        raise fail(exc) from None
    if as_json:
        print(result_json(result, connection=name))
    else:
        out.print(summary_table(result, title=f"Sync All on {name}: {result.status}"))
        out.print(f"{result.message} ({result.api_calls} API calls)")
    if result.status == "partial":
        raise typer.Exit(EXIT_PARTIAL)


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

    workspace = _workspace(ctx)
    with workspace.engine.connect() as conn:
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
            print(
                json.dumps(
                    {**e.__dict__, "created_at": e.created_at.isoformat()}, default=str, sort_keys=True
                )
            )
        return
    for e in entries:
        colour = {"error": "red", "skipped": "yellow", "pending": "cyan"}.get(e.status, "green")
        out.print(
            f"[dim]{e.id:>7} {e.created_at:%Y-%m-%d %H:%M:%S}[/dim] {e.direction:<4} {e.data_type:<20} "
            f"{e.action:<6} [{colour}]{e.status:<9}[/{colour}] {e.message}",
            highlight=False,
            soft_wrap=True,
        )
    if not entries:
        out.print("no log entries match")


@app.command()
def export(
    ctx: typer.Context,
    platform_type: Annotated[str, typer.Argument(help="platform type, e.g. supporters")],
    connection: Annotated[str | None, typer.Option("--connection", help="whose CRM ids to include")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="one JSON object per line (the only format)")
    ] = True,
) -> None:
    """Export platform records with their CRM ids, one JSON object per line."""
    from crmsync.store import records
    from crmsync.store.platform import platform_tables

    if platform_type not in platform_tables():
        known = ", ".join(sorted(platform_tables()))
        raise fail(f"unknown platform type {platform_type!r}; known types: {known}")
    workspace = _workspace(ctx)
    connection_id = (
        workspace.connection(connection).id if connection or _has_one_connection(workspace) else None
    )
    with workspace.engine.connect() as conn:
        for row in records.export(conn, workspace.organization_id, platform_type, connection_id):
            sys.stdout.write(json.dumps(row, default=_json_default, sort_keys=True) + "\n")
    workspace.close()


@emulate_app.command("salesforce")
def emulate_salesforce(
    port: Annotated[int, typer.Option("--port", help="TCP port on the loopback interface")] = 8080,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    seed: Annotated[str | None, typer.Option("--seed", help="PRESET:N, e.g. npsp:1000")] = None,
    load: Annotated[Path | None, typer.Option("--load", help="JSON file of records to load")] = None,
    state: Annotated[Path | None, typer.Option("--state", help="keep the org in this SQLite file")] = None,
) -> None:
    """Serve an emulated Salesforce org (OAuth, REST, control API under /__emulator__/)."""
    from crmsync.emulators.salesforce.server import serve

    out.print(
        f"Salesforce emulator on http://{host}:{port} (control API: http://{host}:{port}/__emulator__/)"
    )
    serve(host, port, seed=seed, load=load, state=state)


@app.command()
def demo(
    records: Annotated[
        int, typer.Option("--records", min=100, max=200_000, help="size of the emulated org")
    ] = 3000,
    database: Annotated[
        str, typer.Option("--database", help="where the demo platform lives")
    ] = "sqlite:///crmsync-demo.db",
    as_json: Annotated[
        bool, typer.Option("--json", help="machine-readable output, no progress bars")
    ] = False,
) -> None:
    """Start an emulated NPSP org, seed it, and run Sync All into a local SQLite platform."""
    from crmsync.demo import run_demo

    try:
        code = run_demo(records=records, database=database, as_json=as_json, console=out)
    except CrmsyncError as exc:
        raise fail(exc) from None
    raise typer.Exit(code)


def _workspace(ctx: typer.Context) -> Any:
    from crmsync.engine.workspace import Workspace

    options: Options = ctx.obj
    try:
        config = options.config(required=False)
        return Workspace(config.database_url, vault=vault(), organization=config.organization)
    except CrmsyncError as exc:
        raise fail(exc) from None


def _has_one_connection(workspace: Any) -> bool:
    from crmsync.store import tenancy

    with workspace.engine.connect() as conn:
        return len(tenancy.list_connections(conn, workspace.organization_id)) == 1


def _json_default(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def main() -> None:
    """Entry point of the console script."""
    app()
