"""The dashboard's Starlette application: every page under `/admin`, static files included."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from picloud.manager.context import ManagerContext
from picloud.manager.dashboard.pages import error_page
from picloud.manager.dashboard.pages import signed_in_page as page
from picloud.manager.dashboard.security_headers import SecurityHeaders
from picloud.manager.dashboard.templating import STATIC_DIR, create_templates
from picloud.manager.dashboard.urls import HOME
from picloud.manager.dashboard.views import (
    api_keys,
    apps,
    auth,
    executions,
    invoke,
    routing,
    scripts,
    users,
)

GET, POST = ["GET"], ["POST"]
APP = "/apps/{slug}"
SCRIPT = APP + "/scripts/{name}"

ROUTES = [
    Route("/", page(apps.apps_list), methods=GET),
    Route("/login", auth.login, methods=[*GET, *POST]),
    Route("/logout", page(auth.logout), methods=POST),
    Route("/setup", auth.setup, methods=[*GET, *POST]),
    Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    # apps
    Route("/apps", page(apps.app_create), methods=POST),
    Route(APP, page(apps.app_overview), methods=GET),
    Route(APP + "/scripts", page(apps.app_scripts), methods=GET),
    Route(APP + "/scripts", page(apps.script_create), methods=POST),
    Route(APP + "/domains", page(apps.app_domains), methods=GET),
    Route(APP + "/domains", page(apps.domain_claim), methods=POST),
    Route(APP + "/domains/{domain_id}/release", page(apps.domain_release), methods=POST),
    Route(APP + "/settings", page(apps.app_settings), methods=GET),
    Route(APP + "/settings", page(apps.app_update), methods=POST),
    Route(APP + "/delete", page(apps.app_delete), methods=POST),
    # scripts
    Route(SCRIPT, page(scripts.script_root), methods=GET),
    Route(SCRIPT + "/edit", page(scripts.script_edit), methods=GET),
    Route(SCRIPT + "/edit", page(scripts.script_save), methods=POST),
    Route(SCRIPT + "/test", page(invoke.script_test), methods=[*GET, *POST]),
    Route(SCRIPT + "/routing", page(routing.script_routing), methods=GET),
    Route(SCRIPT + "/routing", page(routing.route_add), methods=POST),
    Route(SCRIPT + "/routing/check", page(routing.route_check), methods=POST),
    Route(SCRIPT + "/routing/{route_id}/delete", page(routing.route_delete), methods=POST),
    Route(SCRIPT + "/executions", page(executions.script_executions), methods=GET),
    Route(SCRIPT + "/executions/{execution_id}", page(executions.execution_detail), methods=GET),
    Route(SCRIPT + "/executions/{execution_id}/row", page(executions.execution_row), methods=GET),
    Route(SCRIPT + "/settings", page(scripts.script_settings), methods=GET),
    Route(SCRIPT + "/settings", page(scripts.script_update), methods=POST),
    Route(SCRIPT + "/delete", page(scripts.script_delete), methods=POST),
    # instance
    Route("/users", page(users.users_list), methods=GET),
    Route("/users", page(users.user_create), methods=POST),
    Route("/users/{user_id}", page(users.user_update), methods=POST),
    Route("/users/{user_id}/delete", page(users.user_delete), methods=POST),
    Route("/api-keys", page(api_keys.keys_list), methods=GET),
    Route("/api-keys", page(api_keys.key_create), methods=POST),
    Route("/api-keys/{key_id}/revoke", page(api_keys.key_revoke), methods=POST),
]


async def _to_home(request: Request) -> Response:
    return RedirectResponse(HOME, status_code=308)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    title = {404: "Page not found", 405: "Method not allowed"}.get(exc.status_code, "Error")
    detail = {
        404: f"Nothing lives at {request.url.path}. Check the address, or start from the apps "
        "list.",
        405: "This address does not take that kind of request.",
    }.get(exc.status_code, str(exc.detail))
    return error_page(request, request.app.state.templates, exc.status_code, title, detail)


def create_dashboard(ctx: ManagerContext) -> Starlette:
    """The dashboard bound to `ctx`; it expects full paths (`/admin/...`), not a mounted root."""
    app = Starlette(
        routes=[Route("/admin", _to_home), Mount("/admin", routes=ROUTES)],
        middleware=[Middleware(SecurityHeaders), Middleware(GZipMiddleware, minimum_size=1024)],
        exception_handlers={404: _http_error, 405: _http_error},
    )
    app.state.ctx = ctx
    app.state.templates = create_templates()
    return app
