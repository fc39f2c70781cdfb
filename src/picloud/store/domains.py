"""Domain claims: the hosts (exact, wildcard or parameterized) an app answers on.

Patterns arrive normalised; `shape_key` is unique across all apps, which is what makes two apps
claiming the same shape impossible even under concurrent writes.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
import sqlalchemy as sa
from sqlalchemy import Connection

from picloud.store.errors import constraint_errors
from picloud.store.new_rows import new_id, utc_now
from picloud.store.schema import app_domains

SHAPES = ("exact", "wildcard", "param")


class DomainRecord(msgspec.Struct, frozen=True):
    id: str
    app_id: str
    pattern: str
    shape: str
    shape_key: str
    created_at: datetime


def create(
    conn: Connection, *, app_id: str, pattern: str, shape: str, shape_key: str
) -> DomainRecord:
    """Claim `pattern` for the app; `Conflict` if any app already claims `shape_key`."""
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {', '.join(SHAPES)}, got {shape!r}")
    record = DomainRecord(new_id(), app_id, pattern, shape, shape_key, utc_now())
    with constraint_errors(
        conflict=f"{shape_key!r} is already claimed", missing=f"no app with id {app_id!r}"
    ):
        conn.execute(sa.insert(app_domains).values(msgspec.structs.asdict(record)))
    return record


def _records(conn: Connection, query: sa.Select) -> list[DomainRecord]:
    ordered = query.order_by(app_domains.c.pattern, app_domains.c.id)
    return [DomainRecord(**row._mapping) for row in conn.execute(ordered)]


def list_for_app(conn: Connection, app_id: str) -> list[DomainRecord]:
    """The app's claims, by pattern."""
    return _records(conn, sa.select(app_domains).where(app_domains.c.app_id == app_id))


def list_all(conn: Connection) -> list[DomainRecord]:
    """Every claim of every app, by pattern."""
    return _records(conn, sa.select(app_domains))


def get(conn: Connection, domain_id: str) -> DomainRecord | None:
    row = conn.execute(sa.select(app_domains).where(app_domains.c.id == domain_id)).first()
    return None if row is None else DomainRecord(**row._mapping)


def get_by_shape_key(conn: Connection, shape_key: str) -> DomainRecord | None:
    """The claim holding `shape_key` (e.g. `exact:localhost`, `wildcard:example.com`)."""
    query = sa.select(app_domains).where(app_domains.c.shape_key == shape_key)
    row = conn.execute(query).first()
    return None if row is None else DomainRecord(**row._mapping)


def delete(conn: Connection, domain_id: str) -> bool:
    return conn.execute(sa.delete(app_domains).where(app_domains.c.id == domain_id)).rowcount > 0
