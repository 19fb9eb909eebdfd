"""Pages: sign-in, Integrations (cards, Test, Sync All, Reset token, Disconnect, Set up), Sync settings."""

from __future__ import annotations

from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from crmsync.engine import accounts, connections, orgsync
from crmsync.engine import settings as sync_settings
from crmsync.errors import ConfigError
from crmsync.model.profile import Condition
from crmsync.store.tenancy import Toggle
from crmsync.web.api_connections import connection_row, settings_out
from crmsync.web.auth import (
    clear_session_cookie,
    same_token,
    set_session_cookie,
    set_sign_in_cookie,
    sign_in_token,
)
from crmsync.web.forms import parse_conditions
from crmsync.web.pages_kit import Page, page, templates


def _safe_next(target: str | None) -> str:
    """Only local paths: a sign-in link must not send anyone elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/integrations"


async def sign_in(request: Request) -> Response:
    """GET: the form; POST: check the password, start a session, go on."""
    token = sign_in_token(request)
    error: str | None = None
    status = 200
    next_path = _safe_next(request.query_params.get("next"))
    if request.method == "POST":
        form = await request.form()
        next_path = _safe_next(str(form.get("next") or ""))
        if not same_token(str(form.get("csrf_token") or ""), request.cookies.get("crmsync_signin")):
            error, status = "This form has expired; please sign in again.", 403
        else:
            engine = request.app.state.workspace.engine
            admin = await run_in_threadpool(
                accounts.authenticate, engine, str(form.get("email") or ""), str(form.get("password") or "")
            )
            if admin is not None:
                session = await run_in_threadpool(accounts.start_session, engine, admin)
                redirect = RedirectResponse(next_path, status_code=303)
                lifetime = int(accounts.SESSION_LIFETIME.total_seconds())
                set_session_cookie(request, redirect, session.token, lifetime)
                return redirect
            error, status = "The email or the password is wrong.", 401
    html = templates.get_template("sign_in.html").render(
        csrf_token=token, error=error, next=next_path, caller=None, notice=None, current="/sign-in"
    )
    response = HTMLResponse(html, status_code=status)
    set_sign_in_cookie(request, response, token)
    return response


@page
def sign_out(p: Page) -> Response:
    token = p.request.cookies.get("crmsync_session", "")
    accounts.end_session(p.workspace.engine, token)
    response = RedirectResponse("/sign-in", status_code=303)
    clear_session_cookie(p.request, response)
    return response


@page
def home(p: Page) -> Response:
    return RedirectResponse("/integrations", status_code=303)


@page
def integrations(p: Page) -> Response:
    return p.render("integrations.html", cards=connections.cards(p.workspace))


@page
def test(p: Page) -> Response:
    row = connection_row(p.workspace, p.path["name"])
    result = connections.test(p.workspace, row)
    if result.ok:
        return p.back("/integrations", notice=f"{row.name}: {result.message}")
    return p.back("/integrations", error=f"{row.name}: {result.message}")


@page
def reset_token(p: Page) -> Response:
    row = connection_row(p.workspace, p.path["name"])
    connections.reset_token(p.workspace, row)
    return p.back("/integrations", notice=f"{row.name}: the token was reset; the next call logs in again")


@page
def disconnect(p: Page) -> Response:
    row = connection_row(p.workspace, p.path["name"])
    connections.disconnect(p.workspace, row)
    return p.back("/integrations", notice=f"{row.name} is disconnected; its data, links and logs stay")


@page
def set_up(p: Page) -> Response:
    name = p.path["name"]
    row = connections.find(p.workspace, name)
    # A new connection's CRM comes from the link that led here; an existing one keeps its own.
    crm = (
        row.crm
        if row
        else ("bloomerang" if p.request.query_params.get("crm") == "bloomerang" else "salesforce")
    )
    if p.request.method == "GET":
        return p.render("set_up.html", name=name, crm=crm, settings=row.settings if row else {})
    keys = (
        ("api_url", "api_key", "rate_limit")
        if crm == "bloomerang"
        else ("login_url", "auth", "client_id", "client_secret", "username", "password", "security_token")
    )
    data = {k: p.field(k).strip() for k in keys if p.field(k).strip()}
    data["crm"] = crm
    try:
        connections.set_up(p.workspace, name, data)
    except ConfigError as exc:
        suffix = "?crm=bloomerang" if crm == "bloomerang" and row is None else ""
        return p.back(f"/integrations/{quote(name)}/set-up{suffix}", error=exc.message)
    return p.back("/integrations", notice=f"{name}: credentials saved (encrypted); press Test to check them")


@page
def sync_all(p: Page) -> Response:
    row = connection_row(p.workspace, p.path["name"])
    if not row.credentials:
        return p.back("/integrations", error=f"{row.name} is not connected: set up its credentials first")
    job = p.jobs.start_sync_all(p.workspace, row.name)
    return RedirectResponse(f"/integrations/{quote(row.name)}/sync/{job.id}", status_code=303)


@page
def sync_job(p: Page) -> Response:
    job = p.jobs.get(p.workspace.organization_id, p.path["job_id"])
    if job is None:
        return p.render("error.html", status=404, message="This Sync All is not known (any more).")
    return p.render("sync_job.html", job=job, name=p.path["name"])


@page
def settings(p: Page) -> Response:
    row = connection_row(p.workspace, p.path["name"])
    if p.request.method == "POST":
        current = sync_settings.read(p.workspace, row)
        pulls, pushes = set(p.fields("pull")), set(p.fields("push"))
        toggles = {o.type: Toggle(o.type in pulls, o.type in pushes) for o in current.objects}
        try:
            filters: dict[str, list[Condition]] = {
                o.type: parse_conditions(p.field(f"filter_{o.type}")) for o in current.objects
            }
            sync_settings.save(
                p.workspace,
                row,
                sync_settings.SettingsChange(
                    toggles=toggles,
                    incremental_field=p.field("incremental_field") or None,
                    conflict_policy=p.field("conflict_policy") or None,
                    filters={t: c for t, c in filters.items() if c},
                ),
            )
            for sync in orgsync.list_syncs(p.workspace, row.name):
                key = sync.crm_object
                interval = p.field(f"interval_{key}")
                orgsync.set_sync(
                    p.workspace,
                    row.name,
                    key,
                    orgsync.Change(
                        method=p.field(f"method_{key}") or None,
                        interval_minutes=int(interval) if interval.isdigit() else None,
                        enabled=f"enabled_{key}" in p.form,
                    ),
                )
        except ConfigError as exc:
            return p.back(f"/integrations/{quote(row.name)}/settings", error=exc.message)
        return p.back(f"/integrations/{quote(row.name)}/settings", notice="Settings saved")
    return p.render("settings.html", name=row.name, data=settings_out(p.workspace, row))


routes = [
    Route("/sign-in", sign_in, methods=["GET", "POST"]),
    Route("/sign-out", sign_out, methods=["POST"]),
    Route("/", home),
    Route("/integrations", integrations),
    Route("/integrations/{name}/test", test, methods=["POST"]),
    Route("/integrations/{name}/reset-token", reset_token, methods=["POST"]),
    Route("/integrations/{name}/disconnect", disconnect, methods=["POST"]),
    Route("/integrations/{name}/set-up", set_up, methods=["GET", "POST"]),
    Route("/integrations/{name}/sync-all", sync_all, methods=["POST"]),
    Route("/integrations/{name}/sync/{job_id}", sync_job),
    Route("/integrations/{name}/settings", settings, methods=["GET", "POST"]),
]
