"""Apps, the isolation boundary, and the history of the slugs they were renamed from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy import Connection

from picloud.store.errors import constraint_errors
from picloud.store.new_rows import new_id, utc_now
from picloud.store.schema import app_slug_history, apps, scripts

UPDATABLE = frozenset({"slug", "name", "description"})


class AppRecord(msgspec.Struct, frozen=True):
    id: str
    slug: str
    name: str
    description: str
    created_at: datetime
    updated_at: datetime


def create(conn: Connection, *, slug: str, name: str, description: str = "") -> AppRecord:
    """Insert an app; `Conflict` if the slug is taken by a current app."""
    now = utc_now()
    record = AppRecord(new_id(), slug, name, description, now, now)
    with constraint_errors(conflict=f"an app with slug {slug!r} already exists"):
        conn.execute(sa.insert(apps).values(msgspec.structs.asdict(record)))
    return record


def get(conn: Connection, app_id: str) -> AppRecord | None:
    row = conn.execute(sa.select(apps).where(apps.c.id == app_id)).first()
    return None if row is None else AppRecord(**row._mapping)


def get_by_slug(conn: Connection, slug: str) -> AppRecord | None:
    """The app whose current slug is `slug` (old slugs: `app_for_old_slug`)."""
    row = conn.execute(sa.select(apps).where(apps.c.slug == slug)).first()
    return None if row is None else AppRecord(**row._mapping)


def list_all(conn: Connection) -> list[AppRecord]:
    """Every app, by slug."""
    return [
        AppRecord(**row._mapping) for row in conn.execute(sa.select(apps).order_by(apps.c.slug))
    ]


def script_counts(conn: Connection) -> dict[str, int]:
    """Number of scripts per app id, zero included."""
    query = (
        sa.select(apps.c.id, sa.func.count(scripts.c.id))
        .select_from(apps.outerjoin(scripts, scripts.c.app_id == apps.c.id))
        .group_by(apps.c.id)
    )
    return {app_id: count for app_id, count in conn.execute(query)}


def update(conn: Connection, app_id: str, **fields: Any) -> AppRecord | None:
    """Change slug, name or description and bump updated_at; None if there is no such app.

    Renaming does not record the old slug: call `record_old_slug` in the same transaction.
    """
    unknown = sorted(set(fields) - UPDATABLE)
    if unknown:
        raise ValueError(f"cannot update app fields {unknown}; updatable: {sorted(UPDATABLE)}")
    statement = (
        sa.update(apps)
        .where(apps.c.id == app_id)
        .values(**fields, updated_at=utc_now())
        .returning(*apps.c)
    )
    with constraint_errors(conflict=f"an app with slug {fields.get('slug')!r} already exists"):
        row = conn.execute(statement).first()
    return None if row is None else AppRecord(**row._mapping)


def delete(conn: Connection, app_id: str) -> bool:
    """Delete the app and everything it owns (scripts, routes, claims, logs, keys, history)."""
    return conn.execute(sa.delete(apps).where(apps.c.id == app_id)).rowcount > 0


def record_old_slug(conn: Connection, slug: str, app_id: str) -> None:
    """Remember that `app_id` was called `slug`; an older holder of that history loses it."""
    conn.execute(sa.delete(app_slug_history).where(app_slug_history.c.slug == slug))
    conn.execute(sa.insert(app_slug_history).values(slug=slug, app_id=app_id, retired_at=utc_now()))


def app_for_old_slug(conn: Connection, slug: str) -> AppRecord | None:
    """The app that used to be called `slug`, if any still holds it in its history."""
    query = sa.select(apps).join(app_slug_history, app_slug_history.c.app_id == apps.c.id)
    row = conn.execute(query.where(app_slug_history.c.slug == slug)).first()
    return None if row is None else AppRecord(**row._mapping)


def drop_old_slug(conn: Connection, slug: str) -> bool:
    """Forget `slug` as anyone's old name (a takeover, or an app taking its old name back)."""
    statement = sa.delete(app_slug_history).where(app_slug_history.c.slug == slug)
    return conn.execute(statement).rowcount > 0
