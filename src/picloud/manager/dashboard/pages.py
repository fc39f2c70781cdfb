"""One dashboard request: who is signed in, what was posted, and how to answer.

Each page handler takes a `Page` and returns a response. `signed_in_page(handler)` makes it a
Starlette endpoint that first does what every page needs: it authenticates the session cookie
(an anonymous visitor is sent to the login page with `next`), reads a posted form and checks
its CSRF token with the manager's check, then runs the handler (a plain function runs in the
thread pool, since the services it calls are synchronous). A `Problem` the handler lets escape
becomes an error page with its status and detail; `MovedPermanently` becomes a 308.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from picloud.manager.auth import Principal, authenticate_token, authorize
from picloud.manager.auth.csrf import CSRF_FORM_FIELD, csrf_ok
from picloud.manager.context import ManagerContext
from picloud.manager.dashboard.flash import (
    Flash,
    FlashKind,
    clear_flashes,
    pending_flashes,
    set_flash,
)
from picloud.manager.dashboard.urls import LOGIN
from picloud.manager.dependencies import SESSION_COOKIE
from picloud.manager.problems import Problem

Handler = Callable[["Page"], Response | Awaitable[Response]]


class MovedPermanently(Exception):
    """Answer 308 to `location`: the page was asked for under an app's old slug."""

    def __init__(self, location: str):
        super().__init__(location)
        self.location = location


@dataclass
class Page:
    request: Request
    ctx: ManagerContext
    templates: Jinja2Templates
    principal: Principal
    session_token: str
    form: FormData = field(default_factory=FormData)

    @property
    def path_params(self) -> dict[str, Any]:
        return self.request.path_params

    def field(self, name: str, default: str = "") -> str:
        """A posted text field, '' when missing (a file upload counts as missing)."""
        value = self.form.get(name, default)
        return value if isinstance(value, str) else default

    def checked(self, name: str) -> bool:
        return self.field(name) in ("1", "on", "true")

    def query(self, name: str, default: str = "") -> str:
        return self.request.query_params.get(name, default)

    def allow(self, action: str | None, app_id: str | None) -> None:
        """Ask the manager's one authorization seam; raises its Problem when refused."""
        authorize(self.principal, action, app_id).enforce()

    def render(
        self, template: str, *, status: int = 200, headers: dict[str, str] | None = None, **values
    ) -> Response:
        flashes = pending_flashes(self.request)
        response = self.templates.TemplateResponse(
            self.request,
            template,
            {"principal": self.principal, "csrf_token": self.principal.csrf_token,
             "flashes": flashes, **values},
            status_code=status,
            headers=headers,
        )  # fmt: skip
        if flashes:
            clear_flashes(response)
        return response

    def fragment(self, template: str, **values) -> Response:
        """A piece of a page for a script to insert; pending messages stay for the next page."""
        return self.templates.TemplateResponse(self.request, template, values)

    def redirect(self, url: str, message: str, kind: FlashKind = "success") -> Response:
        """303 to `url` (the browser follows with GET), carrying `message` to the next page."""
        response = RedirectResponse(url, status_code=303)
        set_flash(response, Flash(kind, message), self.request)
        return response


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{LOGIN}?{urlencode({'next': target})}", status_code=303)


def error_page(
    request: Request,
    templates: Jinja2Templates,
    status: int,
    title: str,
    detail: str,
    principal: Principal | None = None,
) -> Response:
    return templates.TemplateResponse(
        request,
        "error.html",
        {"title": title, "detail": detail, "status": status, "principal": principal,
         "csrf_token": principal.csrf_token if principal else None, "flashes": []},
        status_code=status,
    )  # fmt: skip


async def session_principal(ctx: ManagerContext, token: str | None) -> Principal | None:
    """The signed-in user behind a session cookie value, marked as authenticated by cookie."""
    if not token:
        return None
    principal = await run_in_threadpool(
        authenticate_token, ctx.database, token, session_hours=ctx.settings.session_hours,
        now=ctx.clock(),
    )  # fmt: skip
    if principal is None or principal.kind != "user":
        return None
    return replace(principal, via_cookie=True)


def signed_in_page(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Turn a page handler into an endpoint for signed-in users (see the module docstring)."""

    async def endpoint(request: Request) -> Response:
        ctx: ManagerContext = request.app.state.ctx
        templates: Jinja2Templates = request.app.state.templates
        token = request.cookies.get(SESSION_COOKIE)
        principal = await session_principal(ctx, token)
        if principal is None or token is None:
            return login_redirect(request)
        page = Page(request, ctx, templates, principal, token)
        if request.method == "POST":
            page.form = await request.form()
            sent = page.form.get(CSRF_FORM_FIELD)
            if not csrf_ok(principal, sent if isinstance(sent, str) else None):
                return error_page(
                    request, templates, 403, "This form has expired",
                    "The form was not sent with this session's security token (it may come "
                    "from an older sign-in). Go back, reload the page and submit it again.",
                    principal,
                )  # fmt: skip
        try:
            if inspect.iscoroutinefunction(handler):
                return await handler(page)
            return await run_in_threadpool(handler, page)
        except MovedPermanently as moved:
            return RedirectResponse(moved.location, status_code=308)
        except Problem as problem:
            return error_page(
                request, templates, problem.status, problem.kind.title, problem.detail, principal
            )

    endpoint.__name__ = handler.__name__
    return endpoint
