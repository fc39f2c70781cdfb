"""Routes: a binding of (method, host, path) to one script, unique within its app.

Conflict rules beyond "the same binding twice" (param routes that shadow each other) belong to
the route table in `picloud.core`; the unique index here is the last line of defence.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
import sqlalchemy as sa
from sqlalchemy import Connection

from picloud.store.errors import MissingReference, constraint_errors
from picloud.store.new_rows import new_id, utc_now
from picloud.store.schema import routes, scripts

HOST_KINDS = ("any", "strict", "wildcard")
PATH_KINDS = ("exact", "prefix", "param")


class RouteRecord(msgspec.Struct, frozen=True):
    id: str
    app_id: str
    script_id: str
    method: str | None  # None means ANY
    host: str  # '' when host_kind is 'any'
    host_kind: str
    path: str
    path_kind: str
    created_at: datetime


def _check_kinds(host: str, host_kind: str, path_kind: str) -> None:
    if host_kind not in HOST_KINDS:
        raise ValueError(f"host_kind must be one of {', '.join(HOST_KINDS)}, got {host_kind!r}")
    if path_kind not in PATH_KINDS:
        raise ValueError(f"path_kind must be one of {', '.join(PATH_KINDS)}, got {path_kind!r}")
    if (host_kind == "any") != (host == ""):
        raise ValueError("host must be '' exactly when host_kind is 'any'")


def create(
    conn: Connection,
    *,
    app_id: str,
    script_id: str,
    method: str | None,
    host: str,
    host_kind: str,
    path: str,
    path_kind: str,
) -> RouteRecord:
    """Bind the script; `Conflict` if the app has this exact binding already.

    The script must belong to `app_id`: routes never cross apps.
    """
    _check_kinds(host, host_kind, path_kind)
    owner = conn.execute(sa.select(scripts.c.app_id).where(scripts.c.id == script_id)).scalar()
    if owner is None:
        raise MissingReference(f"no script with id {script_id!r}")
    if owner != app_id:
        raise ValueError(f"script {script_id!r} belongs to another app than {app_id!r}")
    record = RouteRecord(
        new_id(), app_id, script_id, method, host, host_kind, path, path_kind, utc_now()
    )
    binding = f"{method or 'ANY'} {host or '*'}{path}"
    with constraint_errors(conflict=f"the app already has a route for {binding}"):
        conn.execute(sa.insert(routes).values(msgspec.structs.asdict(record)))
    return record


def _records(conn: Connection, query: sa.Select) -> list[RouteRecord]:
    ordered = query.order_by(routes.c.created_at, routes.c.id)
    return [RouteRecord(**row._mapping) for row in conn.execute(ordered)]


def get(conn: Connection, route_id: str) -> RouteRecord | None:
    row = conn.execute(sa.select(routes).where(routes.c.id == route_id)).first()
    return None if row is None else RouteRecord(**row._mapping)


def list_for_script(conn: Connection, script_id: str) -> list[RouteRecord]:
    """The script's routes, oldest first."""
    return _records(conn, sa.select(routes).where(routes.c.script_id == script_id))


def list_for_app(conn: Connection, app_id: str) -> list[RouteRecord]:
    """Every route of the app's scripts, oldest first."""
    return _records(conn, sa.select(routes).where(routes.c.app_id == app_id))


def list_all(conn: Connection) -> list[RouteRecord]:
    """Every route of every app, oldest first."""
    return _records(conn, sa.select(routes))


def delete(conn: Connection, route_id: str) -> bool:
    return conn.execute(sa.delete(routes).where(routes.c.id == route_id)).rowcount > 0
