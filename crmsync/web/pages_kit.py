"""What every admin page shares: sign-in check, CSRF check on forms, rendering, errors.

Page handlers are plain functions run in a thread (they call the engine, which blocks);
they get a :class:`Page` and return a response. Templates are autoescaped Jinja2, so
anything a CRM or a user wrote is shown as text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from crmsync.engine.workspace import Workspace
from crmsync.errors import ConfigError, CrmsyncError, RunBusyError
from crmsync.web.auth import Caller, same_token, session_caller
from crmsync.web.errors import ApiError
from crmsync.web.forms import show_condition
from crmsync.web.jobs import Jobs

log = logging.getLogger("crmsync.web")

templates = jinja2.Environment(
    loader=jinja2.PackageLoader("crmsync.web", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters["when"] = lambda v: f"{v:%Y-%m-%d %H:%M:%S} UTC" if v is not None else "never"
templates.filters["label"] = lambda v: str(v).replace("_", " ")
templates.globals["show_condition"] = show_condition


@dataclass
class Page:
    """One page request: who, for which organization, and its inputs."""

    request: Request
    caller: Caller
    workspace: Workspace
    jobs: Jobs
    form: dict[str, list[str]] = field(default_factory=dict)

    @property
    def path(self) -> dict[str, Any]:
        """Path parameters."""
        return dict(self.request.path_params)

    def arg(self, name: str) -> str | None:
        """A query parameter, or None when absent or empty."""
        value = self.request.query_params.get(name)
        return value or None

    def field(self, name: str, default: str = "") -> str:
        """A form field (the first value)."""
        values = self.form.get(name)
        return values[0] if values else default

    def fields(self, name: str) -> list[str]:
        """Every value of a form field (checkboxes, multi-selects)."""
        return list(self.form.get(name, []))

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        """A rendered page."""
        html = templates.get_template(template).render(
            caller=self.caller,
            csrf_token=self.caller.csrf_token,
            notice=self.arg("notice"),
            error=self.arg("error"),
            current=self.request.url.path,
            **context,
        )
        return HTMLResponse(html, status_code=status)

    def back(self, path: str, *, notice: str | None = None, error: str | None = None) -> RedirectResponse:
        """Post/redirect/get: back to ``path`` with a notice or an error to show."""
        params = {k: v for k, v in (("notice", notice), ("error", error)) if v}
        target = f"{path}{'&' if '?' in path else '?'}{urlencode(params)}" if params else path
        return RedirectResponse(target, status_code=303)


PageHandler = Callable[[Page], Response]


def page(handler: PageHandler) -> Callable[[Request], Any]:
    """An admin page: signed-in administrators only; a POST must carry the session's CSRF token."""

    async def endpoint(request: Request) -> Response:
        caller = await run_in_threadpool(session_caller, request)
        if caller is None:
            if request.method != "GET":
                return HTMLResponse("sign in first", status_code=401)
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/sign-in?{urlencode({'next': target})}", status_code=303)
        form: dict[str, list[str]] = {}
        if request.method == "POST":
            data: FormData = await request.form()
            form = {key: [str(v) for v in data.getlist(key)] for key in data}
            if not same_token((form.get("csrf_token") or [""])[0], caller.csrf_token):
                return HTMLResponse(
                    "This form has expired (its CSRF token does not match); go back, reload and try again.",
                    status_code=403,
                )
        workspace = request.app.state.workspace.for_organization(caller.organization_id)
        current = Page(request, caller, workspace, request.app.state.jobs, form)
        return await run_in_threadpool(_guarded, handler, current)

    endpoint.__name__ = handler.__name__
    return endpoint


def _guarded(handler: PageHandler, current: Page) -> Response:
    try:
        return handler(current)
    except ApiError as exc:
        return current.render("error.html", status=exc.status, message=exc.message)
    except RunBusyError as exc:
        return current.render("error.html", status=409, message=exc.message)
    except ConfigError as exc:
        return current.render("error.html", status=422, message=exc.message)
    except CrmsyncError as exc:
        return current.render("error.html", status=502, message=exc.message)
