"""Admin users: list, create, change role, (de)activate, delete."""

from __future__ import annotations

from starlette.responses import Response

from picloud.manager.auth.principal import ROLES
from picloud.manager.dashboard.forms import field_errors
from picloud.manager.dashboard.pages import Page
from picloud.manager.problems import Problem
from picloud.manager.services import users as user_service

USERS_URL = "/admin/users"


def _users_page(page: Page, values: dict | None = None, errors: dict | None = None, status=200):
    page.allow("instance:admin", None)
    return page.render(
        "users.html", users=user_service.list_users(page.ctx.database), roles=ROLES,
        values=values or {"role": "admin"}, errors=errors or {}, status=status, nav="users",
    )  # fmt: skip


def users_list(page: Page) -> Response:
    return _users_page(page)


def user_create(page: Page) -> Response:
    page.allow("instance:admin", None)
    values = {"username": page.field("username").strip(), "role": page.field("role")}
    try:
        user = user_service.create_user(
            page.ctx.database, password=page.field("password"), **values
        )
    except Problem as problem:
        errors = field_errors(problem, ("username", "password", "role"))
        return _users_page(page, values, errors, problem.status)
    return page.redirect(USERS_URL, f"Created {user.role} '{user.username}'. They can sign in now.")


def user_update(page: Page) -> Response:
    """One of the row buttons: set the role, activate, or deactivate."""
    page.allow("instance:admin", None)
    user = user_service.get_user(page.ctx.database, page.path_params["user_id"])
    action = page.field("action")
    try:
        if action == "role":
            user_service.update_user(page.ctx.database, user.id, role=page.field("role"))
            message = f"'{user.username}' is now {page.field('role')}."
        elif action in ("activate", "deactivate"):
            user_service.update_user(page.ctx.database, user.id, is_active=action == "activate")
            message = (
                f"'{user.username}' can sign in again."
                if action == "activate"
                else f"'{user.username}' is deactivated: signed out, API keys revoked."
            )
        else:
            return _users_page(page, errors={"form": f"Unknown action {action!r}."}, status=422)
    except Problem as problem:
        return _users_page(page, errors={"form": problem.detail}, status=problem.status)
    return page.redirect(USERS_URL, message)


def user_delete(page: Page) -> Response:
    page.allow("instance:admin", None)
    user = user_service.get_user(page.ctx.database, page.path_params["user_id"])
    try:
        user_service.delete_user(page.ctx.database, user.id)
    except Problem as problem:
        return _users_page(page, errors={"form": problem.detail}, status=problem.status)
    return page.redirect(USERS_URL, f"Deleted '{user.username}' and the API keys they created.")
