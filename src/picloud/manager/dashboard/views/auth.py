"""Sign in, sign out, and the first-owner setup page (the one-time link the server prints).

The login and setup forms exist before any session, so they carry their own CSRF defence: a
random token in a strict same-site cookie that the form must echo back (double submit).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from picloud.manager.auth.tokens import new_secret, same_secret
from picloud.manager.context import ManagerContext
from picloud.manager.dashboard.flash import Flash, clear_flashes, pending_flashes, set_flash
from picloud.manager.dashboard.pages import Page, session_principal
from picloud.manager.dashboard.urls import HOME, LOGIN, PREFIX, safe_next
from picloud.manager.dependencies import SESSION_COOKIE
from picloud.manager.problems import Problem
from picloud.manager.services import auth as auth_service

FORM_CSRF_COOKIE = "picloud_form_csrf"


def _form_token(request: Request) -> str:
    return request.cookies.get(FORM_CSRF_COOKIE) or new_secret()


def _anonymous_form(
    request: Request, template: str, values: dict, *, status: int = 200, token: str | None = None
) -> Response:
    token = token or _form_token(request)
    flashes = pending_flashes(request)
    response = request.app.state.templates.TemplateResponse(
        request,
        template,
        {"form_token": token, "flashes": flashes, "principal": None, **values},
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )
    response.set_cookie(
        FORM_CSRF_COOKIE, token, path=PREFIX, httponly=True, samesite="strict",
        secure=request.url.scheme == "https",
    )  # fmt: skip
    if flashes:
        clear_flashes(response)
    return response


def _form_token_ok(request: Request, form_value: object) -> bool:
    sent = form_value if isinstance(form_value, str) else None
    return same_secret(sent, request.cookies.get(FORM_CSRF_COOKIE))


def _signed_in(request: Request, signed: auth_service.SignedIn, target: str, message: str):
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE, signed.token, httponly=True, samesite="lax", path="/",
        secure=request.url.scheme == "https",
    )  # fmt: skip
    set_flash(response, Flash("success", message), request)
    return response


async def login(request: Request) -> Response:
    ctx: ManagerContext = request.app.state.ctx
    target = safe_next(request.query_params.get("next"))
    values = {"next": target, "setup_pending": ctx.setup_token is not None, "username": ""}
    if request.method == "GET":
        if await session_principal(ctx, request.cookies.get(SESSION_COOKIE)):
            return RedirectResponse(target, status_code=303)
        return _anonymous_form(request, "login.html", values)
    form = await request.form()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    values.update(username=username, next=safe_next(str(form.get("next", ""))))
    if not _form_token_ok(request, form.get("form_token")):
        values["error"] = "The sign-in form expired. Please try again."
        return _anonymous_form(request, "login.html", values, status=403, token=new_secret())
    client_ip = request.client.host if request.client else "unknown"
    try:
        signed = await run_in_threadpool(auth_service.login, ctx, username, password, client_ip)
    except Problem as problem:
        values["error"] = problem.detail[:1].upper() + problem.detail[1:] + "."
        return _anonymous_form(request, "login.html", values, status=problem.status)
    return _signed_in(request, signed, values["next"], f"Signed in as {signed.user.username}.")


def logout(page: Page) -> Response:
    auth_service.logout(page.ctx, page.principal)
    response = RedirectResponse(LOGIN, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    set_flash(response, Flash("info", "You are signed out."), page.request)
    return response


async def setup(request: Request) -> Response:
    ctx: ManagerContext = request.app.state.ctx
    if ctx.setup_token is None:
        response = RedirectResponse(LOGIN, status_code=303)
        set_flash(response, Flash("info", "Setup is complete: sign in."), request)
        return response
    if request.method == "GET":
        token = request.query_params.get("token", "")
        values = {"token": token, "username": "", "valid": same_secret(token, ctx.setup_token)}
        return _anonymous_form(
            request, "setup.html", values, status=200 if values["valid"] else 403
        )
    form = await request.form()
    token = str(form.get("token", ""))
    username = str(form.get("username", "")).strip()
    password, again = str(form.get("password", "")), str(form.get("password_again", ""))
    values: dict = {"token": token, "username": username, "valid": True, "errors": {}}
    if not _form_token_ok(request, form.get("form_token")):
        values["error"] = "The setup form expired. Please submit it again."
        return _anonymous_form(request, "setup.html", values, status=403, token=new_secret())
    if password != again:
        values["errors"]["password_again"] = "The two passwords differ."
        return _anonymous_form(request, "setup.html", values, status=422)
    try:
        signed = await run_in_threadpool(
            auth_service.setup_first_owner, ctx, token, username, password
        )
    except Problem as problem:
        field = problem.fields.get("field")
        if field in ("username", "password"):
            values["errors"][field] = problem.detail
        else:
            values["error"] = problem.detail
            values["valid"] = ctx.setup_token is not None and same_secret(token, ctx.setup_token)
        return _anonymous_form(request, "setup.html", values, status=problem.status)
    return _signed_in(
        request,
        signed,
        HOME,
        f"Welcome, {signed.user.username}: you are the owner of this PiCloud.",
    )
