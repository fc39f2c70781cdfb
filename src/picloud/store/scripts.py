"""Scripts: Python source with a handler, limit overrides and a version bumped on each edit."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy import Connection

from picloud.store.errors import constraint_errors
from picloud.store.new_rows import new_id, utc_now
from picloud.store.schema import scripts

UPDATABLE = frozenset({"name", "description", "source", "handler", "limits"})


class ScriptRecord(msgspec.Struct, frozen=True):
    id: str
    app_id: str
    name: str
    description: str
    source: str
    handler: str
    limits: dict[str, int]  # only the overrides the user asked for
    version: int
    created_at: datetime
    updated_at: datetime


def _limits(limits: Mapping[str, int] | None) -> dict[str, int]:
    if limits is None:
        return {}
    if not isinstance(limits, Mapping):
        raise TypeError(f"limits must be a mapping of limit name to value, got {limits!r}")
    return dict(limits)


def create(
    conn: Connection,
    *,
    app_id: str,
    name: str,
    source: str,
    handler: str = "handle",
    description: str = "",
    limits: Mapping[str, int] | None = None,
) -> ScriptRecord:
    """Insert version 1 of a script; `Conflict` if the app has a script of that name."""
    now = utc_now()
    record = ScriptRecord(
        new_id(), app_id, name, description, source, handler, _limits(limits), 1, now, now
    )
    with constraint_errors(
        conflict=f"the app already has a script named {name!r}",
        missing=f"no app with id {app_id!r}",
    ):
        conn.execute(sa.insert(scripts).values(msgspec.structs.asdict(record)))
    return record


def get(conn: Connection, script_id: str) -> ScriptRecord | None:
    row = conn.execute(sa.select(scripts).where(scripts.c.id == script_id)).first()
    return None if row is None else ScriptRecord(**row._mapping)


def get_by_name(conn: Connection, app_id: str, name: str) -> ScriptRecord | None:
    query = sa.select(scripts).where(scripts.c.app_id == app_id, scripts.c.name == name)
    row = conn.execute(query).first()
    return None if row is None else ScriptRecord(**row._mapping)


def list_all(conn: Connection, app_id: str | None = None) -> list[ScriptRecord]:
    """Scripts of one app, or of every app, by name."""
    query = sa.select(scripts).order_by(scripts.c.name, scripts.c.id)
    if app_id is not None:
        query = query.where(scripts.c.app_id == app_id)
    return [ScriptRecord(**row._mapping) for row in conn.execute(query)]


def update(conn: Connection, script_id: str, **fields: Any) -> ScriptRecord | None:
    """Change any of `UPDATABLE`, bump updated_at, and the version if the source changed.

    Returns None if there is no such script.
    """
    unknown = sorted(set(fields) - UPDATABLE)
    if unknown:
        raise ValueError(f"cannot update script fields {unknown}; updatable: {sorted(UPDATABLE)}")
    values: dict[str, Any] = {**fields, "updated_at": utc_now()}
    if "limits" in fields:
        values["limits"] = _limits(fields["limits"])
    # The code that runs is the source and its handler: a change to either is a new version,
    # which is what tells warm workers to load it again.
    code_changes = [
        scripts.c[name] != fields[name] for name in ("source", "handler") if name in fields
    ]
    if code_changes:
        values["version"] = scripts.c.version + sa.case((sa.or_(*code_changes), 1), else_=0)
    statement = (
        sa.update(scripts).where(scripts.c.id == script_id).values(values).returning(*scripts.c)
    )
    with constraint_errors(conflict=f"the app already has a script named {fields.get('name')!r}"):
        row = conn.execute(statement).first()
    return None if row is None else ScriptRecord(**row._mapping)


def delete(conn: Connection, script_id: str) -> bool:
    """Delete the script with its routes and execution logs."""
    return conn.execute(sa.delete(scripts).where(scripts.c.id == script_id)).rowcount > 0


def count_for_app(conn: Connection, app_id: str) -> int:
    query = sa.select(sa.func.count()).select_from(scripts).where(scripts.c.app_id == app_id)
    return conn.execute(query).scalar_one()
