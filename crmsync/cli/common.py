"""What every crmsync command shares: the app, options, output, errors, exit codes."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from crmsync.config import CONFIG_ENV, Config, load_config
from crmsync.errors import CrmsyncError
from crmsync.secrets import Vault, vault_from_environment

if TYPE_CHECKING:
    from crmsync.engine.workspace import Workspace

# Exit codes: 0 done; 1 a fatal error (the message says what to fix); 3 the work finished
# but some records failed or were skipped (each has an error log entry).
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
locks_app = typer.Typer(help="Records whose pushes failed 3 times in a row.", invoke_without_command=True)
app.add_typer(sync_app, name="sync")
app.add_typer(emulate_app, name="emulate")
app.add_typer(locks_app, name="locks")

out = Console()
err = Console(stderr=True)

ConnectionOption = Annotated[
    str | None, typer.Option("--connection", help="connection name (default: the only one)")
]
JsonOption = Annotated[bool, typer.Option("--json", help="machine-readable output, no progress bars")]


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


def vault() -> Vault:
    """The vault for CRM credentials ($CRMSYNC_SECRET_KEY, else a local key file)."""
    return vault_from_environment(default_key_file=KEY_FILE)


def fail(exc: CrmsyncError | str) -> typer.Exit:
    """Print a one-line error and return the exit to raise."""
    # The message may quote the CRM, whose brackets rich would read as markup.
    err.print(f"[red]crmsync: error:[/red] {shown(str(exc))}", markup=True, highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_FAILED)


def open_workspace(ctx: typer.Context, *, configured: bool) -> Workspace:
    """The workspace; ``configured`` needs crmsync.toml and registers its connections."""
    from crmsync.engine.workspace import Workspace

    options: Options = ctx.obj
    try:
        if configured:
            return Workspace.from_config(options.config(), vault=vault())
        config = options.config(required=False)
        return Workspace(config.database_url, vault=vault(), organization=config.organization)
    except CrmsyncError as exc:
        raise fail(exc) from None


def shown(text: str) -> str:
    """Stored text for a listing line: its line breaks as spaces, markup characters escaped."""
    # A CRM message may carry line breaks or brackets ("[/b]" would raise in rich's markup).
    return escape(" ".join(text.splitlines()))


def json_line(data: Any) -> str:
    """One JSON document on one line (datetimes as ISO 8601)."""
    return json.dumps(
        data, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v), sort_keys=True
    )
