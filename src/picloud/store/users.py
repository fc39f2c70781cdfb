"""Admin users: people who sign in to the dashboard and the admin API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from picloud.store.errors import constraint_errors
from picloud.store.new_rows import new_id, utc_now
from picloud.store.schema import admin_users


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: str
    username: str
    password_hash: str
    role: str
    is_active: bool
    created_at: datetime
    updated_at: datetime


def _record(row: Any) -> UserRecord:
    return UserRecord(**row._mapping)


def create(conn: Connection, *, username: str, password_hash: str, role: str) -> UserRecord:
    """Insert a user; raises `Conflict` when the user name is taken."""
    now = utc_now()
    values = {
        "id": new_id(),
        "username": username,
        "password_hash": password_hash,
        "role": role,
        "is_active": True,
        "created_at": now,
        "updated_at": now,
    }
    with constraint_errors(conflict=f"user name '{username}' is taken"):
        conn.execute(sa.insert(admin_users).values(**values))
    return UserRecord(**values)


def get(conn: Connection, user_id: str) -> UserRecord | None:
    row = conn.execute(sa.select(admin_users).where(admin_users.c.id == user_id)).first()
    return _record(row) if row else None


def get_by_username(conn: Connection, username: str) -> UserRecord | None:
    row = conn.execute(sa.select(admin_users).where(admin_users.c.username == username)).first()
    return _record(row) if row else None


def list_all(conn: Connection) -> list[UserRecord]:
    rows = conn.execute(sa.select(admin_users).order_by(admin_users.c.username))
    return [_record(r) for r in rows]


def count(conn: Connection) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(admin_users)).scalar_one()


def active_owner_ids(conn: Connection, *, lock: bool = False) -> list[str]:
    """Ids of active owners; `lock` holds their rows (PostgreSQL) so two demotions serialise."""
    query = sa.select(admin_users.c.id).where(
        admin_users.c.role == "owner", admin_users.c.is_active.is_(True)
    )
    if lock:
        query = query.with_for_update()
    return list(conn.execute(query).scalars())


def update(conn: Connection, user_id: str, **fields: Any) -> UserRecord | None:
    """Change `role`, `is_active`, `password_hash` or `username`; None when no such user."""
    allowed = {"role", "is_active", "password_hash", "username"}
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"cannot update {sorted(unknown)}")
    if fields:
        with constraint_errors(conflict=f"user name '{fields.get('username')}' is taken"):
            conn.execute(
                sa.update(admin_users)
                .where(admin_users.c.id == user_id)
                .values(**fields, updated_at=utc_now())
            )
    return get(conn, user_id)


def delete(conn: Connection, user_id: str) -> bool:
    result = conn.execute(sa.delete(admin_users).where(admin_users.c.id == user_id))
    return result.rowcount > 0
