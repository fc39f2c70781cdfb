"""API keys: long-lived bearer tokens with scopes, stored as sha256 with an indexed prefix."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from picloud.store.errors import constraint_errors
from picloud.store.new_rows import new_id, utc_now
from picloud.store.schema import api_keys


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    id: str
    name: str
    prefix: str
    token_hash: str
    scopes: list[str]
    app_id: str | None
    expires_at: datetime | None
    created_by: str | None
    created_at: datetime
    last_used_at: datetime | None


def _record(row: Any) -> ApiKeyRecord:
    return ApiKeyRecord(**row._mapping)


def create(
    conn: Connection,
    *,
    name: str,
    prefix: str,
    token_hash: str,
    scopes: list[str],
    app_id: str | None = None,
    expires_at: datetime | None = None,
    created_by: str | None = None,
) -> ApiKeyRecord:
    """Insert a key; raises `MissingReference` when the app or creator does not exist."""
    values = {
        "id": new_id(),
        "name": name,
        "prefix": prefix,
        "token_hash": token_hash,
        "scopes": list(scopes),
        "app_id": app_id,
        "expires_at": expires_at,
        "created_by": created_by,
        "created_at": utc_now(),
        "last_used_at": None,
    }
    with constraint_errors(conflict="key collision", missing="the app or creator does not exist"):
        conn.execute(insert(api_keys).values(**values))
    return ApiKeyRecord(**values)


def get(conn: Connection, key_id: str) -> ApiKeyRecord | None:
    row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
    return _record(row) if row else None


def find_by_prefix(conn: Connection, prefix: str) -> list[ApiKeyRecord]:
    """Keys whose token starts with `prefix` (normally one; the caller compares hashes)."""
    rows = conn.execute(select(api_keys).where(api_keys.c.prefix == prefix))
    return [_record(r) for r in rows]


def list_all(conn: Connection, *, app_id: str | None = None) -> list[ApiKeyRecord]:
    query = select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id)
    if app_id is not None:
        query = query.where(api_keys.c.app_id == app_id)
    return [_record(r) for r in conn.execute(query)]


def touch(conn: Connection, key_id: str, *, last_used_at: datetime) -> None:
    conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(last_used_at=last_used_at))


def delete_one(conn: Connection, key_id: str) -> bool:
    result = conn.execute(delete(api_keys).where(api_keys.c.id == key_id))
    return result.rowcount > 0


def delete_created_by(conn: Connection, user_id: str) -> int:
    result = conn.execute(delete(api_keys).where(api_keys.c.created_by == user_id))
    return result.rowcount
