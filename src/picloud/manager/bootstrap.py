"""The first owner, and the `picloud admin create` / `reset-password` commands.

On start, `ensure_first_owner(ctx)`:
- with no admin user and `PICLOUD_ADMIN_USERNAME`/`PICLOUD_ADMIN_PASSWORD` set, creates that
  owner;
- with no admin user and no such variables, returns a one-time setup token (also kept on the
  context) for the link `/admin/setup?token=...`, where the owner is created in the browser;
- once an admin user exists, ignores the variables, warning while they are still set.
"""

from __future__ import annotations

import logging

from picloud.manager.auth.tokens import new_secret
from picloud.manager.context import ManagerContext
from picloud.manager.problems import Problem
from picloud.manager.services.users import insert_user, update_user
from picloud.store import users
from picloud.store.database import Database

logger = logging.getLogger(__name__)


class BootstrapError(ValueError):
    """The command cannot be carried out; the message says why, for the terminal."""


def ensure_first_owner(ctx: ManagerContext) -> str | None:
    """Create the first owner from the settings, or return a one-time setup token, or None."""
    settings = ctx.settings
    username, password = settings.admin_username, settings.admin_password
    with ctx.database.begin() as conn:
        if users.count(conn):
            ctx.setup_token = None
            if username or password:
                logger.warning(
                    "PICLOUD_ADMIN_USERNAME/PICLOUD_ADMIN_PASSWORD are ignored because an admin "
                    "user exists; unset them"
                )
            return None
        if username and password:
            try:
                insert_user(conn, username, password, "owner")
            except Problem as problem:
                raise BootstrapError(
                    f"PICLOUD_ADMIN_USERNAME/PICLOUD_ADMIN_PASSWORD: {problem.detail}"
                ) from None
            logger.info("created the first owner '%s' from the environment", username)
            ctx.setup_token = None
            return None
    if username or password:
        logger.warning(
            "set both PICLOUD_ADMIN_USERNAME and PICLOUD_ADMIN_PASSWORD to create the first owner"
        )
    ctx.setup_token = ctx.setup_token or new_secret()
    return ctx.setup_token


def create_admin(database: Database, username: str, password: str, role: str = "owner") -> None:
    """Create an admin user (for `picloud admin create`); raises BootstrapError."""
    try:
        with database.begin() as conn:
            insert_user(conn, username, password, role)
    except Problem as problem:
        raise BootstrapError(problem.detail) from None


def reset_password(database: Database, username: str, password: str) -> None:
    """Set a user's password and end its sessions (for `picloud admin reset-password`)."""
    with database.connect() as conn:
        user = users.get_by_username(conn, username)
    if user is None:
        raise BootstrapError(f"no admin user named '{username}'")
    try:
        update_user(database, user.id, password=password)
    except Problem as problem:
        raise BootstrapError(problem.detail) from None
