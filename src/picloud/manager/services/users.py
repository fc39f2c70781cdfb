"""Admin users: create, list, change role, (de)activate, set a password, delete.

The instance always keeps at least one active owner: demoting, deactivating or deleting the
last one is refused (409 `last-owner`). Deactivating a user, or setting a new password, ends its
sessions; deactivating or deleting also revokes the API keys it created.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection

from picloud.manager.auth.passwords import hash_password, password_problem
from picloud.manager.auth.principal import ROLES
from picloud.manager.problems import (
    LAST_OWNER,
    NOT_FOUND,
    PASSWORD_INVALID,
    USERNAME_TAKEN,
    VALIDATION,
)
from picloud.store import api_keys, sessions, users
from picloud.store.database import Database
from picloud.store.errors import Conflict
from picloud.store.users import UserRecord

USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$"
_USERNAME = re.compile(USERNAME_PATTERN)


def check_username(username: str) -> str:
    if not _USERNAME.fullmatch(username):
        raise VALIDATION(f"user name {username!r} must match {USERNAME_PATTERN}", field="username")
    return username


def check_password(password: str) -> str:
    problem = password_problem(password)
    if problem:
        raise PASSWORD_INVALID(f"the password {problem}", field="password")
    return password


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise VALIDATION(f"role must be one of {', '.join(ROLES)}", field="role")
    return role


def insert_user(conn: Connection, username: str, password: str, role: str) -> UserRecord:
    """Validate and insert inside the caller's transaction (used by setup and bootstrap too)."""
    check_username(username)
    check_password(password)
    _check_role(role)
    try:
        return users.create(
            conn, username=username, password_hash=hash_password(password), role=role
        )
    except Conflict:
        raise USERNAME_TAKEN(f"user name '{username}' is taken", field="username") from None


def create_user(database: Database, *, username: str, password: str, role: str) -> UserRecord:
    with database.begin() as conn:
        return insert_user(conn, username, password, role)


def list_users(database: Database) -> list[UserRecord]:
    with database.connect() as conn:
        return users.list_all(conn)


def get_user(database: Database, user_id: str) -> UserRecord:
    with database.connect() as conn:
        user = users.get(conn, user_id)
    if user is None:
        raise NOT_FOUND(f"no admin user with id '{user_id}'")
    return user


def _load_for_write(conn: Connection, user_id: str) -> UserRecord:
    user = users.get(conn, user_id)
    if user is None:
        raise NOT_FOUND(f"no admin user with id '{user_id}'")
    return user


def _keep_an_owner(conn: Connection, user: UserRecord, action: str) -> None:
    owners = users.active_owner_ids(conn, lock=True)
    if owners == [user.id]:
        raise LAST_OWNER(
            f"'{user.username}' is the last active owner and cannot be {action}; "
            "make another user an active owner first"
        )


def end_access(conn: Connection, user_id: str, *, keys: bool) -> None:
    """Sign the user out everywhere; with `keys`, also revoke the API keys it created."""
    sessions.delete_for_user(conn, user_id)
    if keys:
        api_keys.delete_created_by(conn, user_id)


def update_user(
    database: Database,
    user_id: str,
    *,
    role: str | None = None,
    is_active: bool | None = None,
    password: str | None = None,
) -> UserRecord:
    if role is not None:
        _check_role(role)
    if password is not None:
        check_password(password)
    with database.begin() as conn:
        user = _load_for_write(conn, user_id)
        if role == "admin" and user.role == "owner" and user.is_active:
            _keep_an_owner(conn, user, "demoted")
        if is_active is False and user.role == "owner" and user.is_active:
            _keep_an_owner(conn, user, "deactivated")
        changes: dict[str, object] = {}
        if role is not None:
            changes["role"] = role
        if is_active is not None:
            changes["is_active"] = is_active
        if password is not None:
            changes["password_hash"] = hash_password(password)
        updated = users.update(conn, user_id, **changes)
        if is_active is False or password is not None:
            end_access(conn, user_id, keys=is_active is False)
    assert updated is not None
    return updated


def delete_user(database: Database, user_id: str) -> None:
    with database.begin() as conn:
        user = _load_for_write(conn, user_id)
        if user.role == "owner" and user.is_active:
            _keep_an_owner(conn, user, "deleted")
        end_access(conn, user_id, keys=True)
        users.delete(conn, user_id)
