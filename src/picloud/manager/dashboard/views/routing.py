"""A script's Routing tab: its routes, adding one (checked live as it is typed), removing one,
and a preview of where any URL would go."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from picloud.manager.dashboard.pages import Page
from picloud.manager.dashboard.targets import script_from_path
from picloud.manager.dashboard.urls import script_url
from picloud.manager.problems import NOT_FOUND, Problem
from picloud.manager.services import domains as domain_service
from picloud.manager.services import routes as route_service
from picloud.manager.services.routes import RouteRequest
from picloud.store import scripts
from picloud.store.apps import AppRecord
from picloud.store.scripts import ScriptRecord

METHODS = ("ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
FIELDS = ("method", "host", "path", "host_kind", "path_kind")


def _route_request(values: dict[str, str]) -> RouteRequest:
    return RouteRequest(
        method=None if values["method"] in ("", "ANY") else values["method"],
        host=values["host"],
        path=values["path"],
        host_kind=values["host_kind"] or None,  # '' = infer from the host
        path_kind=values["path_kind"] or None,  # '' = infer from the path
    )


def _verdict(page: Page, problem: dict[str, Any] | None, spec: Any = None) -> dict[str, Any]:
    """What the form shows about a route: the kinds it was read as, or why it cannot be added
    (with the conflicting route and the script that owns it)."""
    if problem is None:
        return {"ok": True, "spec": spec}
    conflict = problem.get("conflict")
    owner = None
    if conflict:
        with page.ctx.database.connect() as conn:
            owner = scripts.get(conn, conflict["script_id"])
    return {
        "ok": False,
        "spec": spec,
        "detail": problem["detail"],
        "field": problem.get("field"),
        "conflict": conflict,
        "conflict_script": owner.name if owner else None,
    }


def _routing_page(
    page: Page,
    app: AppRecord,
    script: ScriptRecord,
    values: dict[str, str] | None = None,
    verdict: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    database = page.ctx.database
    listed = route_service.list_routes(database, script.id)
    claims = domain_service.list_domains(database, app.id)
    here = page.request.url
    example = next((r.path for r in listed if r.path_kind == "exact"), "/")
    match_values = {
        "url": page.query("url") or f"{here.scheme}://{here.netloc}{example}",
        "method": page.query("method", "GET").upper(),
    }
    match = page.ctx.match_preview(match_values["method"], match_values["url"]) if (
        page.query("url")
    ) else None  # fmt: skip
    return page.render(
        "scripts/routing.html", app=app, script=script, tab="routing", routes=listed,
        claims=claims, methods=METHODS, values=values or {"method": "GET", "path": "/"},
        verdict=verdict, match=match, match_values=match_values, status=status,
    )  # fmt: skip


def script_routing(page: Page) -> Response:
    app, script = script_from_path(page, "script:read")
    return _routing_page(page, app, script)


def route_add(page: Page) -> Response:
    app, script = script_from_path(page, "script:write")
    values = {k: page.field(k).strip() for k in FIELDS}
    try:
        route = route_service.create_route(page.ctx.database, script, _route_request(values))
    except Problem as problem:
        verdict = _verdict(page, problem.to_dict())
        return _routing_page(page, app, script, values, verdict, problem.status)
    return page.redirect(
        script_url(app.slug, script.name, "routing"),
        f"Route added: {route.method or 'ANY'} {route.host or '(every claimed host)'} "
        f"{route.path} — a {route.path_kind} path.",
    )


def route_check(page: Page) -> Response:
    """The verdict fragment the add-route form fetches while the user types."""
    app, script = script_from_path(page, "script:read")
    values = {k: page.field(k).strip() for k in FIELDS}
    check = route_service.check_route(page.ctx.database, script, _route_request(values))
    verdict = _verdict(page, check.problem, check.spec)
    return page.fragment("scripts/_route_verdict.html", app=app, verdict=verdict)


def route_delete(page: Page) -> Response:
    app, script = script_from_path(page, "script:write")
    route = route_service.lookup_route(page.ctx.database, page.path_params["route_id"])
    if route is None or route.script_id != script.id:
        raise NOT_FOUND(f"Script '{script.name}' has no such route.")
    route_service.delete_route(page.ctx.database, route.id)
    return page.redirect(
        script_url(app.slug, script.name, "routing"),
        f"Removed route {route.method or 'ANY'} {route.host}{route.path}.",
    )
