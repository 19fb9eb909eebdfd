"""Commands to get started: ``init``, ``keygen``, ``version``, ``demo``, ``emulate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crmsync import __version__
from crmsync.cli.common import app, emulate_app, fail, out
from crmsync.errors import CrmsyncError
from crmsync.secrets import generate_key


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


@emulate_app.command("salesforce")
def emulate_salesforce(
    port: Annotated[int, typer.Option("--port", help="TCP port on the loopback interface")] = 8080,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    seed: Annotated[
        str | None, typer.Option("--seed", help="PRESET:N, e.g. npsp:1000 or customer-success:1000")
    ] = None,
    load: Annotated[Path | None, typer.Option("--load", help="JSON file of records to load")] = None,
    state: Annotated[Path | None, typer.Option("--state", help="keep the org in this SQLite file")] = None,
) -> None:
    """Serve an emulated Salesforce org (OAuth, REST, control API under /__emulator__/)."""
    from crmsync.emulators.salesforce.server import serve

    out.print(
        f"Salesforce emulator on http://{host}:{port} (control API: http://{host}:{port}/__emulator__/)"
    )
    try:
        serve(host, port, seed=seed, load=load, state=state)
    except ValueError as exc:
        raise fail(str(exc)) from None


@emulate_app.command("bloomerang")
def emulate_bloomerang(
    port: Annotated[int, typer.Option("--port", help="TCP port on the loopback interface")] = 8766,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    seed: Annotated[str | None, typer.Option("--seed", help="PRESET:N, e.g. bloomerang:1000")] = None,
    load: Annotated[Path | None, typer.Option("--load", help="JSON file of records to load")] = None,
    state: Annotated[
        Path | None, typer.Option("--state", help="keep the database in this SQLite file")
    ] = None,
    max_take: Annotated[int, typer.Option("--max-take", help="largest page a list answers")] = 50,
    rate: Annotated[
        str | None, typer.Option("--rate", help="LIMIT/SECONDS, e.g. 100/10; over it answers 429")
    ] = None,
    latency_ms: Annotated[int, typer.Option("--latency", help="added to every answer, in ms")] = 0,
) -> None:
    """Serve an emulated Bloomerang database (REST API v2 under /v2, control API under /__emulator__/)."""
    from crmsync.emulators.bloomerang.server import serve

    out.print(
        f"Bloomerang emulator on http://{host}:{port}/v2 (control API: http://{host}:{port}/__emulator__/)"
    )
    try:
        serve(
            host,
            port,
            seed=seed,
            load=load,
            state=state,
            max_take=max_take,
            rate=rate,
            latency_ms=latency_ms,
        )
    except ValueError as exc:
        raise fail(str(exc)) from None


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
