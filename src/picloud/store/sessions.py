"""Admin sessions: a login's token (stored as its sha256) with a sliding expiry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from picloud.store.new_rows import new_id
from picloud.store.schema import admin_sessions


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: str
    token_hash: str
    user_id: str
    csrf_token: str
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime


def create(
    conn: Connection,
    *,
    token_hash: str,
    user_id: str,
    csrf_token: str,
    now: datetime,
    expires_at: datetime,
) -> SessionRecord:
    values = {
        "id": new_id(),
        "token_hash": token_hash,
        "user_id": user_id,
        "csrf_token": csrf_token,
        "created_at": now,
        "expires_at": expires_at,
        "last_seen_at": now,
    }
    conn.execute(insert(admin_sessions).values(**values))
    return SessionRecord(**values)


def _record(row: Any) -> SessionRecord:
    return SessionRecord(**row._mapping)


def get_by_token_hash(conn: Connection, token_hash: str) -> SessionRecord | None:
    query = select(admin_sessions).where(admin_sessions.c.token_hash == token_hash)
    row = conn.execute(query).first()
    return _record(row) if row else None


def touch(conn: Connection, session_id: str, *, last_seen_at: datetime, expires_at: datetime):
    conn.execute(
        update(admin_sessions)
        .where(admin_sessions.c.id == session_id)
        .values(last_seen_at=last_seen_at, expires_at=expires_at)
    )


def delete_one(conn: Connection, session_id: str) -> bool:
    result = conn.execute(delete(admin_sessions).where(admin_sessions.c.id == session_id))
    return result.rowcount > 0


def delete_for_user(conn: Connection, user_id: str) -> int:
    result = conn.execute(delete(admin_sessions).where(admin_sessions.c.user_id == user_id))
    return result.rowcount


def delete_expired(conn: Connection, now: datetime) -> int:
    result = conn.execute(delete(admin_sessions).where(admin_sessions.c.expires_at <= now))
    return result.rowcount
