"""Commands of the admin console: ``serve``, ``admin create``, ``token create|list|revoke``."""

from __future__ import annotations

import sys
from typing import Annotated, Literal

import typer

from crmsync.cli.common import JsonOption, app, fail, json_line, open_workspace, out
from crmsync.errors import CrmsyncError

admin_app = typer.Typer(help="Administrators who sign in to the admin console.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for the JSON API, one organization each.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")
app.add_typer(token_app, name="token")

HostOption = Annotated[str, typer.Option("--host", help="address to listen on")]
PortOption = Annotated[int, typer.Option("--port", min=0, max=65535, help="TCP port (0: any free port)")]
SecureOption = Annotated[
    str,
    typer.Option(
        "--secure-cookies",
        help="auto (Secure when the request came over https), always or never",
    ),
]


def cookie_policy(value: str) -> Literal["auto", "always", "never"]:
    """The --secure-cookies value, checked."""
    if value == "always":
        return "always"
    if value == "never":
        return "never"
    if value == "auto":
        return "auto"
    raise fail(f"--secure-cookies must be auto, always or never, not {value!r}")


@app.command()
def serve(
    ctx: typer.Context,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    secure_cookies: SecureOption = "auto",
) -> None:
    """Serve the admin console and the JSON API (OpenAPI at /api/openapi.json)."""
    from crmsync.web.app import WebConfig
    from crmsync.web.server import serve as serve_app

    policy = cookie_policy(secure_cookies)
    workspace = open_workspace(ctx, configured=False)
    try:
        out.print(f"admin console on http://{host}:{port} (JSON API under /api/v1)")
        serve_app(workspace, host, port, WebConfig(cookie_secure=policy))
    finally:
        workspace.close()


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@admin_app.command("create")
def admin_create(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="the administrator's email; they sign in with it")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input")
    ] = False,
) -> None:
    """Create an administrator of this organization (asks for a password of 12+ characters)."""
    from crmsync.engine.accounts import create_admin

    workspace = open_workspace(ctx, configured=False)
    try:
        create_admin(workspace.engine, workspace.organization_id, email, _password(password_stdin))
    except CrmsyncError as exc:
        raise fail(exc) from None
    finally:
        workspace.close()
    out.print(f"created administrator {email.strip().casefold()}; sign in at /sign-in")


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="what uses the token, e.g. billing-service")],
    as_json: JsonOption = False,
) -> None:
    """Create an API token for this organization; it is printed once and stored only as a hash."""
    from crmsync.engine.accounts import create_token

    workspace = open_workspace(ctx, configured=False)
    try:
        listed, token = create_token(workspace.engine, workspace.organization_id, name)
    except CrmsyncError as exc:
        raise fail(exc) from None
    finally:
        workspace.close()
    if as_json:
        print(json_line({"id": listed.id, "name": listed.name, "token": token}))
        return
    out.print(f"token {listed.id} ({listed.name}); send it as Authorization: Bearer TOKEN")
    print(token)


@token_app.command("list")
def token_list(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List this organization's API tokens (never their values)."""
    from crmsync.engine.accounts import list_tokens

    workspace = open_workspace(ctx, configured=False)
    try:
        tokens = list_tokens(workspace.engine, workspace.organization_id)
    finally:
        workspace.close()
    for token in tokens:
        if as_json:
            print(json_line(token.__dict__))
            continue
        state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "live"
        used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
        out.print(
            f"{token.id:>4} {token.prefix}…  {token.name:<30} {state:<18} last used {used}", highlight=False
        )
    if not tokens and not as_json:
        out.print("no API tokens; create one with `crmsync token create NAME`")


@token_app.command("revoke")
def token_revoke(ctx: typer.Context, token_id: Annotated[int, typer.Argument(help="the token's id")]) -> None:
    """Revoke an API token at once."""
    from crmsync.engine.accounts import revoke_token

    workspace = open_workspace(ctx, configured=False)
    try:
        revoke_token(workspace.engine, workspace.organization_id, token_id)
    except CrmsyncError as exc:
        raise fail(exc) from None
    finally:
        workspace.close()
    out.print(f"revoked token {token_id}")
