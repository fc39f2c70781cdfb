"""FastAPI dependencies: who is calling, and may they touch this resource.

Every endpoint takes one of these: `instance_action`, `listing` / `listing_scope`,
`app_target` / `allowed_app`, `script_target` / `allowed_script`, `route_target`,
`execution_target`, or (for `me` and `logout`) `signed_in`. Each ends in
`picloud.manager.auth.authorize`, so no endpoint decides a permission on its own.

A target that does not exist is reported 404 only after the caller's scope was checked against
the apps it may see, so a key without the scope gets 403 whether or not the target exists, and a
key bound to one app gets 404 for every other app's resources.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from starlette.concurrency import run_in_threadpool

from picloud.manager.auth import Principal, authenticate_token, authorize
from picloud.manager.auth.csrf import CSRF_FORM_FIELD, CSRF_HEADER, csrf_ok, needs_csrf
from picloud.manager.context import ManagerContext
from picloud.manager.problems import CSRF_FAILED, NOT_FOUND
from picloud.manager.services import apps as app_service
from picloud.manager.services import executions as execution_service
from picloud.manager.services import routes as route_service
from picloud.manager.services import scripts as script_service
from picloud.store.apps import AppRecord
from picloud.store.executions import ExecutionRecord
from picloud.store.routes import RouteRecord
from picloud.store.scripts import ScriptRecord

SESSION_COOKIE = "picloud_session"


class Redirect(Exception):
    """Answer 308 to `location` (an app reached through one of its old slugs)."""

    def __init__(self, location: str):
        super().__init__(location)
        self.location = location


def get_context(request: Request) -> ManagerContext:
    return request.app.state.manager


Context = Annotated[ManagerContext, Depends(get_context)]


def _credentials(request: Request) -> tuple[str | None, bool]:
    """The token and whether it came from the cookie; an Authorization header wins."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip(), False
    return request.cookies.get(SESSION_COOKIE), True


async def _csrf_token_sent(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header is not None:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FORM_FIELD)
        return value if isinstance(value, str) else None
    return None


async def current_principal(request: Request, ctx: Context) -> Principal | None:
    """The authenticated caller, or None; refuses cookie-authenticated unsafe requests that
    lack the CSRF token."""
    token, via_cookie = _credentials(request)
    if not token:
        return None
    principal = await run_in_threadpool(
        authenticate_token,
        ctx.database,
        token,
        session_hours=ctx.settings.session_hours,
        now=ctx.clock(),
    )
    if principal is None:
        return None
    if via_cookie:
        principal = replace(principal, via_cookie=True)
    if needs_csrf(principal, request.method) and not csrf_ok(
        principal, await _csrf_token_sent(request)
    ):
        raise CSRF_FAILED(
            f"send the session's CSRF token in the {CSRF_HEADER} header "
            "(or authenticate with 'Authorization: Bearer <token>')"
        )
    return principal


Caller = Annotated[Principal | None, Depends(current_principal)]


def _guard(principal: Principal | None, action: str | None, app_id: str | None) -> Principal:
    authorize(principal, action, app_id).enforce()
    assert principal is not None
    return principal


def _missing(principal: Principal | None, action: str, detail: str) -> Exception:
    """Check the scope against the caller's own reach first, then report the target missing."""
    _guard(principal, action, principal.bound_app_id if principal else None)
    return NOT_FOUND(detail)


def signed_in(principal: Caller) -> Principal:
    """Any authenticated caller (for `me` and `logout`)."""
    return _guard(principal, None, None)


def instance_action(action: str) -> Callable[..., Any]:
    """An action on the whole instance (create an app, manage users and keys)."""

    def dependency(principal: Caller) -> Principal:
        return _guard(principal, action, None)

    return Depends(dependency)


def listing_scope(principal: Principal | None, action: str) -> str | None:
    """Authorize a listing across apps; returns the one app a bound key is limited to."""
    bound = principal.bound_app_id if principal else None
    _guard(principal, action, bound)
    return bound


def listing(action: str) -> Callable[..., Any]:
    """Listing across apps: a bound key lists only inside its app (`principal.bound_app_id`)."""

    def dependency(principal: Caller) -> Principal:
        listing_scope(principal, action)
        assert principal is not None
        return principal

    return Depends(dependency)


@dataclass(frozen=True, slots=True)
class Allowed:
    """A caller and the target it was allowed to act on."""

    principal: Principal
    app: AppRecord | None = None
    script: ScriptRecord | None = None
    route: RouteRecord | None = None
    execution: ExecutionRecord | None = None


def _allowed(
    principal: Principal | None,
    action: str,
    load: Callable[[], Any],
    app_of: Callable[[Any], str],
    missing: str,
) -> Any:
    """Load the target, then authorize on its app; 401 comes before any lookup."""
    if principal is None:
        _guard(principal, action, None)
    target = load()
    if target is None:
        raise _missing(principal, action, missing)
    _guard(principal, action, app_of(target))
    return target


def allowed_app(
    ctx: ManagerContext, principal: Principal | None, action: str, id_or_slug: str
) -> AppRecord:
    """The app an id, slug or old slug in a query or body names, once `action` is allowed."""
    found = _allowed(
        principal,
        action,
        lambda: _lookup_app(ctx, id_or_slug),
        lambda f: f.app.id,
        f"no app with id or slug '{id_or_slug}'",
    )
    return found.app


def _lookup_app(ctx: ManagerContext, id_or_slug: str) -> app_service.AppLookup | None:
    with ctx.database.connect() as conn:
        return app_service.lookup_app(conn, id_or_slug)


AppKey = Annotated[str, Path(description="The app's id, slug, or an old slug (answers 308).")]


def app_target(action: str) -> Callable[..., Any]:
    """The app in the path; an old slug redirects (308) to the same URL with the current one."""

    def dependency(id_or_slug: AppKey, request: Request, ctx: Context, principal: Caller):
        found = _allowed(
            principal,
            action,
            lambda: _lookup_app(ctx, id_or_slug),
            lambda f: f.app.id,
            f"no app with id or slug '{id_or_slug}'",
        )
        if found.moved:
            old, new = f"/apps/{id_or_slug}", f"/apps/{found.app.slug}"
            path = request.url.path.replace(old, new, 1)
            raise Redirect(str(request.url.replace(path=path)))
        return Allowed(principal, app=found.app)

    return Depends(dependency)


def allowed_script(
    ctx: ManagerContext, principal: Principal | None, action: str, script_id: str
) -> ScriptRecord:
    """The script a path, query or body names, once `action` is allowed on its app."""
    return _allowed(
        principal,
        action,
        lambda: script_service.lookup_script(ctx.database, script_id),
        lambda s: s.app_id,
        f"no script with id '{script_id}'",
    )


def script_target(action: str) -> Callable[..., Any]:
    def dependency(script_id: str, ctx: Context, principal: Caller) -> Allowed:
        return Allowed(principal, script=allowed_script(ctx, principal, action, script_id))

    return Depends(dependency)


def route_target(action: str) -> Callable[..., Any]:
    def dependency(route_id: str, ctx: Context, principal: Caller) -> Allowed:
        route = _allowed(
            principal,
            action,
            lambda: route_service.lookup_route(ctx.database, route_id),
            lambda r: r.app_id,
            f"no route with id '{route_id}'",
        )
        return Allowed(principal, route=route)

    return Depends(dependency)


def execution_target(action: str) -> Callable[..., Any]:
    def dependency(execution_id: str, ctx: Context, principal: Caller) -> Allowed:
        record = _allowed(
            principal,
            action,
            lambda: execution_service.lookup_execution(ctx.database, execution_id),
            lambda r: r.app_id,
            f"no execution with id '{execution_id}'",
        )
        return Allowed(principal, execution=record)

    return Depends(dependency)
