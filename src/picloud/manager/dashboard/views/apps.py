"""The apps list and an app's tabs: overview, scripts, domains and settings."""

from __future__ import annotations

from starlette.responses import Response

from picloud.manager.dashboard.activity import NO_ACTIVITY, activity_by_app, activity_by_script
from picloud.manager.dashboard.app_urls import route_urls
from picloud.manager.dashboard.forms import field_errors
from picloud.manager.dashboard.pages import Page
from picloud.manager.dashboard.paging import one_page
from picloud.manager.dashboard.script_names import script_names
from picloud.manager.dashboard.targets import app_from_path
from picloud.manager.dashboard.urls import HOME, app_url, script_url
from picloud.manager.problems import SLUG_HISTORICAL, Problem
from picloud.manager.services import apps as app_service
from picloud.manager.services import domains as domain_service
from picloud.manager.services import executions as execution_service
from picloud.manager.services import scripts as script_service
from picloud.manager.services.executions import ExecutionFilter
from picloud.store import domains, routes
from picloud.store.apps import AppRecord

RECENT_EXECUTIONS = 10
#: The overview lists this many routes with their URLs; the Routing tabs have them all.
OVERVIEW_ROUTES = 50
SCRIPTS_PER_PAGE = 100

#: What a new script starts with: it runs as is and shows the request, the log and JSON out.
NEW_SCRIPT_SOURCE = """\
def handle(req, ctx):
    name = req.query.get("name", "world")
    ctx.log.info("greeting", name=name)
    return {"message": f"Hello, {name}!"}
"""


# -- the apps list --------------------------------------------------------------------------


def _apps_page(page: Page, status: int = 200, **values) -> Response:
    page.allow("app:read", None)
    listed = app_service.list_apps(page.ctx.database)
    with page.ctx.database.connect() as conn:
        activity = activity_by_app(conn, page.ctx.clock())
    rows = [(app, count, activity.get(app.id, NO_ACTIVITY)) for app, count in listed]
    return page.render(
        "apps/list.html", rows=rows, status=status, nav="apps", values=values.pop("values", {}),
        errors=values.pop("errors", {}), **values,
    )  # fmt: skip


def apps_list(page: Page) -> Response:
    return _apps_page(page)


def app_create(page: Page) -> Response:
    page.allow("app:admin", None)
    values = {k: page.field(k).strip() for k in ("slug", "name", "description")}
    try:
        app = app_service.create_app(
            page.ctx.database,
            slug=values["slug"],
            name=values["name"] or values["slug"],
            description=values["description"],
            force_takeover=page.checked("force_takeover"),
        )
    except Problem as problem:
        if problem.kind is SLUG_HISTORICAL:  # ask first; a second post confirms the takeover
            takeover = {"slug": values["slug"], "app": problem.fields.get("app")}
            return _apps_page(page, problem.status, values=values, takeover=takeover)
        errors = field_errors(problem, ("slug", "name", "description"))
        return _apps_page(page, problem.status, values=values, errors=errors)
    return page.redirect(
        app_url(app.slug), f"App '{app.slug}' created. Next: add a script in the Scripts tab."
    )


# -- overview -------------------------------------------------------------------------------


def app_overview(page: Page) -> Response:
    app = app_from_path(page, "app:read")
    database = page.ctx.database
    recent, _ = execution_service.list_executions(
        database, ExecutionFilter(app_id=app.id), limit=RECENT_EXECUTIONS
    )
    with database.connect() as conn:
        names = script_names(conn, app.id)
        claims = [d.pattern for d in domains.list_for_app(conn, app.id)]
        app_routes = routes.list_for_app(conn, app.id)
        activity = activity_by_app(conn, page.ctx.clock(), app.id).get(app.id, NO_ACTIVITY)
    url = page.request.url
    endpoints = [
        (route, names.get(route.script_id, "?"), route_urls(
            claims, route.host_kind, route.host, route.path, route.path_kind, route.method,
            scheme=url.scheme, port=url.port,
        ))
        for route in app_routes[:OVERVIEW_ROUTES]
    ]  # fmt: skip
    return page.render(
        "apps/overview.html", app=app, tab="overview", recent=recent, names=names,
        endpoints=endpoints, more_routes=len(app_routes) - len(endpoints), claims=claims,
        activity=activity,
    )  # fmt: skip


# -- scripts tab ----------------------------------------------------------------------------


def _scripts_page(
    page: Page, app: AppRecord, values: dict | None = None, errors: dict | None = None, status=200
) -> Response:
    search = page.query("q").strip()
    listed = [
        s
        for s in script_service.list_scripts(page.ctx.database, app_id=app.id)
        if search.lower() in s.name.lower()
    ]
    paged = one_page(listed, page.query("page"), per_page=SCRIPTS_PER_PAGE)
    with page.ctx.database.connect() as conn:
        activity = activity_by_script(conn, [s.id for s in paged.items], page.ctx.clock())
    rows = [(s, activity.get(s.id, NO_ACTIVITY)) for s in paged.items]
    values = values or {"source": NEW_SCRIPT_SOURCE}
    return page.render(
        "apps/scripts.html", app=app, tab="scripts", rows=rows, paged=paged, search=search,
        values=values, errors=errors or {}, status=status,
    )  # fmt: skip


def app_scripts(page: Page) -> Response:
    return _scripts_page(page, app_from_path(page, "script:read"))


def script_create(page: Page) -> Response:
    app = app_from_path(page, "script:write")
    values = {
        "name": page.field("name").strip(),
        "description": page.field("description").strip(),
        "source": page.field("source") or NEW_SCRIPT_SOURCE,
    }
    try:
        script = script_service.create_script(
            page.ctx.database, page.ctx.settings, app_id=app.id, **values
        )
    except Problem as problem:
        errors = field_errors(problem, values)
        return _scripts_page(page, app, values, errors, problem.status)
    return page.redirect(
        script_url(app.slug, script.name),
        f"Script '{script.name}' created. Edit its code here, then bind it to a URL in the "
        "Routing tab.",
    )


# -- domains tab ----------------------------------------------------------------------------


def _domains_page(
    page: Page,
    app: AppRecord,
    pattern: str = "",
    problem: Problem | None = None,
) -> Response:
    claims = domain_service.list_domains(page.ctx.database, app.id)
    return page.render(
        "apps/domains.html", app=app, tab="domains", claims=claims, pattern=pattern,
        problem=problem, conflict=problem.fields.get("conflict") if problem else None,
        status=problem.status if problem else 200,
    )  # fmt: skip


def app_domains(page: Page) -> Response:
    return _domains_page(page, app_from_path(page, "app:read"))


def domain_claim(page: Page) -> Response:
    app = app_from_path(page, "app:admin")
    pattern = page.field("pattern").strip()
    try:
        claim = domain_service.claim_domain(page.ctx.database, app.id, pattern)
    except Problem as problem:
        return _domains_page(page, app, pattern, problem)
    return page.redirect(
        app_url(app.slug, "domains"),
        f"Claimed {claim.pattern}: requests for it now reach app '{app.slug}'.",
    )


def domain_release(page: Page) -> Response:
    app = app_from_path(page, "app:admin")
    domain_id = page.path_params["domain_id"]
    with page.ctx.database.connect() as conn:
        claim = domains.get(conn, domain_id)
    domain_service.release_domain(page.ctx.database, app.id, domain_id)
    pattern = claim.pattern if claim else "the domain"
    return page.redirect(
        app_url(app.slug, "domains"), f"Released {pattern}: app '{app.slug}' no longer answers it."
    )


# -- settings tab ---------------------------------------------------------------------------


def _settings_page(page: Page, app: AppRecord, status: int = 200, **values) -> Response:
    form = {"slug": app.slug, "name": app.name, "description": app.description}
    form.update(values.pop("form", {}))
    return page.render(
        "apps/settings.html", app=app, tab="settings", form=form, status=status,
        errors=values.pop("errors", {}), **values,
    )  # fmt: skip


def app_settings(page: Page) -> Response:
    return _settings_page(page, app_from_path(page, "app:read"))


def app_update(page: Page) -> Response:
    """Save name and description; a new slug is checked first, and a slug another app held
    before is only taken after the user confirms the takeover (a second post with force)."""
    app = app_from_path(page, "app:admin")
    form = {k: page.field(k).strip() for k in ("slug", "name", "description")}
    force = page.checked("force_takeover")
    new_slug = form["slug"] if form["slug"] != app.slug else None
    if new_slug is not None and not force:
        check = app_service.check_slug(page.ctx.database, app.id, new_slug)
        if check.status == "historical":
            return _settings_page(page, app, 409, form=form, takeover=check)
    try:
        updated = app_service.update_app(
            page.ctx.database, app.id, slug=new_slug, name=form["name"],
            description=form["description"], force_takeover=force,
        )  # fmt: skip
    except Problem as problem:
        errors = field_errors(problem, form)
        return _settings_page(page, app, problem.status, form=form, errors=errors)
    if new_slug is None:
        message = f"Saved the settings of '{app.slug}'."
    else:
        message = (
            f"Renamed '{app.slug}' to '{updated.slug}'. Links and bookmarks with the old slug "
            "keep working."
        )
    return page.redirect(app_url(updated.slug, "settings"), message)


def app_delete(page: Page) -> Response:
    app = app_from_path(page, "app:admin")
    typed = page.field("confirm_slug").strip()
    if typed != app.slug:
        return _settings_page(
            page, app, 422, delete_error=f"Type the slug '{app.slug}' exactly to delete the app."
        )
    [(_, count)] = app_service.list_apps(page.ctx.database, only=app.id)
    app_service.delete_app(page.ctx.database, app.id, force=True)
    return page.redirect(
        HOME,
        f"Deleted app '{app.slug}' with its {count} script(s), routes, domain claims and logs.",
    )
