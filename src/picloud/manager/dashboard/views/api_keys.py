"""API keys: list, mint (the token is shown once, with a copy button), revoke."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.responses import Response

from picloud.manager.auth.principal import SCOPES
from picloud.manager.dashboard.forms import field_errors
from picloud.manager.dashboard.pages import Page
from picloud.manager.problems import NOT_FOUND, Problem
from picloud.manager.services import api_keys as key_service
from picloud.manager.services import apps as app_service
from picloud.manager.services import users as user_service
from picloud.store import api_keys

KEYS_URL = "/admin/api-keys"

SCOPE_HELP = {
    "app:read": "read apps and their domains",
    "app:admin": "create, rename and delete apps; claim domains",
    "script:read": "read scripts and routes",
    "script:write": "create, change and delete scripts and routes",
    "script:invoke": "call scripts through /api/v1/execute/{id}",
    "logs:read": "read execution records",
    "instance:admin": "manage admin users and API keys",
}


def parse_expiry(raw: str) -> datetime | None:
    """The expiry date field: a key stops working at the start of that day, UTC.

    >>> parse_expiry("2030-01-31")
    datetime.datetime(2030, 1, 31, 0, 0, tzinfo=datetime.timezone.utc)
    >>> parse_expiry("") is None
    True
    """
    if not raw:
        return None
    return datetime.fromisoformat(raw).replace(tzinfo=UTC)


def _keys_page(page: Page, status: int = 200, **values) -> Response:
    page.allow("instance:admin", None)
    database = page.ctx.database
    apps = [app for app, _ in app_service.list_apps(database)]
    return page.render(
        "api_keys.html", keys=key_service.list_keys(database), scopes=SCOPES,
        scope_help=SCOPE_HELP, apps=apps, app_slugs={a.id: a.slug for a in apps},
        usernames={u.id: u.username for u in user_service.list_users(database)},
        values=values.pop("values", {"scopes": ["script:read", "logs:read"]}),
        errors=values.pop("errors", {}), status=status, nav="keys",
        headers={"Cache-Control": "no-store"}, **values,
    )  # fmt: skip


def keys_list(page: Page) -> Response:
    return _keys_page(page)


def key_create(page: Page) -> Response:
    page.allow("instance:admin", None)
    values = {
        "name": page.field("name").strip(),
        "scopes": [s for s in page.form.getlist("scopes") if isinstance(s, str)],
        "app": page.field("app"),
        "expires": page.field("expires"),
    }
    try:
        expires_at = parse_expiry(values["expires"])
    except ValueError:
        errors = {"expires": f"Not a date: {values['expires']!r} (use YYYY-MM-DD)."}
        return _keys_page(page, 422, values=values, errors=errors)
    try:
        minted = key_service.mint_key(
            page.ctx.database, name=values["name"], scopes=values["scopes"],
            app=values["app"] or None, expires_at=expires_at, created_by=page.principal.user_id,
            now=page.ctx.clock(),
        )  # fmt: skip
    except Problem as problem:
        errors = field_errors(problem, ("name", "scopes", "app", "expires_at"))
        if "expires_at" in errors:
            errors["expires"] = errors.pop("expires_at")
        return _keys_page(page, problem.status, values=values, errors=errors)
    return _keys_page(page, 201, minted=minted)


def key_revoke(page: Page) -> Response:
    page.allow("instance:admin", None)
    with page.ctx.database.connect() as conn:
        key = api_keys.get(conn, page.path_params["key_id"])
    if key is None:
        raise NOT_FOUND("There is no such API key (it may be revoked already).")
    key_service.revoke_key(page.ctx.database, key.id)
    return page.redirect(
        KEYS_URL, f"Revoked the key '{key.name}' ({key.prefix}…): it no longer works."
    )
