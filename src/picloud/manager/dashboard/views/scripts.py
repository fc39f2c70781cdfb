"""A script's Edit and Settings tabs."""

from __future__ import annotations

from starlette.responses import RedirectResponse, Response

from picloud.core.limits import LIMIT_FIELDS
from picloud.manager.dashboard.forms import field_errors
from picloud.manager.dashboard.pages import Page
from picloud.manager.dashboard.targets import script_from_path
from picloud.manager.dashboard.urls import app_url, script_url
from picloud.manager.problems import Problem
from picloud.manager.services import scripts as script_service
from picloud.store.apps import AppRecord
from picloud.store.scripts import ScriptRecord


def script_root(page: Page) -> Response:
    app, script = script_from_path(page, "script:read")
    return RedirectResponse(script_url(app.slug, script.name), status_code=303)


# -- edit -----------------------------------------------------------------------------------


def _edit_page(
    page: Page,
    app: AppRecord,
    script: ScriptRecord,
    source: str,
    problem: Problem | None = None,
) -> Response:
    return page.render(
        "scripts/edit.html", app=app, script=script, tab="edit", source=source,
        problem=problem, error=problem.fields if problem else {},
        status=problem.status if problem else 200,
    )  # fmt: skip


def script_edit(page: Page) -> Response:
    app, script = script_from_path(page, "script:read")
    return _edit_page(page, app, script, script.source)


def script_save(page: Page) -> Response:
    app, script = script_from_path(page, "script:write")
    # Browsers send a textarea's line breaks as CRLF; scripts are stored with plain LF.
    source = page.field("source").replace("\r\n", "\n")
    try:
        saved = script_service.update_script(
            page.ctx.database, page.ctx.settings, script.id, {"source": source}
        )
    except Problem as problem:
        return _edit_page(page, app, script, source, problem)
    if saved.version == script.version:
        message = f"No changes: '{script.name}' stays at version {saved.version}."
    else:
        message = f"Saved '{script.name}' as version {saved.version}. It answers with it now."
    return page.redirect(script_url(app.slug, saved.name), message)


# -- settings -------------------------------------------------------------------------------


def _settings_page(
    page: Page,
    app: AppRecord,
    script: ScriptRecord,
    form: dict | None = None,
    errors: dict | None = None,
    status: int = 200,
    **extra,
) -> Response:
    settings = page.ctx.settings
    form = form or {
        "name": script.name,
        "description": script.description,
        "handler": script.handler,
        **{name: str(value) for name, value in script.limits.items()},
    }
    limits = [
        (name, getattr(settings.default_limits, name), getattr(settings.limit_ceilings, name))
        for name in LIMIT_FIELDS
    ]
    return page.render(
        "scripts/settings.html", app=app, script=script, tab="settings", form=form,
        errors=errors or {}, limits=limits, status=status, **extra,
    )  # fmt: skip


def script_settings(page: Page) -> Response:
    app, script = script_from_path(page, "script:read")
    return _settings_page(page, app, script)


def script_update(page: Page) -> Response:
    app, script = script_from_path(page, "script:write")
    form = {k: page.field(k).strip() for k in ("name", "description", "handler", *LIMIT_FIELDS)}
    errors: dict[str, str] = {}
    overrides: dict[str, int] = {}
    for name in LIMIT_FIELDS:
        if not form[name]:
            continue  # blank: the platform default applies
        try:
            overrides[name] = int(form[name])
        except ValueError:
            errors[name] = f"{name} must be a whole number, got {form[name]!r}"
    if errors:
        return _settings_page(page, app, script, form, errors, 422)
    changes = {
        "name": form["name"],
        "description": form["description"],
        "handler": form["handler"] or "handle",
        "limits": overrides,
    }
    try:
        saved = script_service.update_script(
            page.ctx.database, page.ctx.settings, script.id, changes
        )
    except Problem as problem:
        errors = field_errors(problem, form)
        if problem.fields.get("field") == "source":  # the handler is missing from the source
            errors = {"handler": problem.detail}
        return _settings_page(page, app, script, form, errors, problem.status)
    return page.redirect(
        script_url(app.slug, saved.name, "settings"), f"Saved the settings of '{saved.name}'."
    )


def script_delete(page: Page) -> Response:
    app, script = script_from_path(page, "script:write")
    if page.field("confirm_name").strip() != script.name:
        return _settings_page(
            page, app, script, status=422,
            delete_error=f"Type the name '{script.name}' exactly to delete the script.",
        )  # fmt: skip
    script_service.delete_script(page.ctx.database, script.id)
    return page.redirect(
        app_url(app.slug, "scripts"), f"Deleted script '{script.name}' with its routes and logs."
    )
