"""The app and script a dashboard URL names, found through the manager's services.

An app is named by its slug. A URL with one of the app's old slugs (or its id) answers a
permanent redirect to the same page under the current slug, for as long as the old slug stays
in the app's history.
"""

from __future__ import annotations

from picloud.manager.dashboard.pages import MovedPermanently, Page
from picloud.manager.dashboard.urls import app_url
from picloud.manager.problems import NOT_FOUND
from picloud.manager.services import apps as app_service
from picloud.store import scripts
from picloud.store.apps import AppRecord
from picloud.store.scripts import ScriptRecord


def app_from_path(page: Page, action: str) -> AppRecord:
    """The app of `{slug}` in the path, once `action` on it is allowed."""
    slug = page.path_params["slug"]
    with page.ctx.database.connect() as conn:
        found = app_service.lookup_app(conn, slug)
    if found is None:
        raise NOT_FOUND(f"There is no app '{slug}'.")
    page.allow(action, found.app.id)
    if found.app.slug != slug:
        request = page.request
        rest = request.url.path[len(app_url(slug)) :]
        query = f"?{request.url.query}" if request.url.query else ""
        raise MovedPermanently(app_url(found.app.slug) + rest + query)
    return found.app


def script_from_path(page: Page, action: str) -> tuple[AppRecord, ScriptRecord]:
    """The app of `{slug}` and its script `{name}`, once `action` on the app is allowed."""
    app = app_from_path(page, action)
    name = page.path_params["name"]
    with page.ctx.database.connect() as conn:
        script = scripts.get_by_name(conn, app.id, name)
    if script is None:
        raise NOT_FOUND(f"App '{app.slug}' has no script named '{name}'.")
    return app, script
