"""Small facts about this installation (`instance_state`), e.g. `hello_world_seeded`."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from picloud.store.schema import instance_state


def get(conn: Connection, key: str) -> str | None:
    query = sa.select(instance_state.c.value).where(instance_state.c.key == key)
    return conn.execute(query).scalar()


def _insert(conn: Connection) -> postgresql.Insert | sqlite.Insert:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(instance_state)


def set(conn: Connection, key: str, value: str) -> None:
    """Store `value` under `key`, replacing what was there."""
    statement = _insert(conn).values(key=key, value=value)
    conn.execute(statement.on_conflict_do_update(index_elements=["key"], set_={"value": value}))


def set_if_absent(conn: Connection, key: str, value: str) -> bool:
    """Store `value` unless `key` is set; True if this call set it.

    Two transactions racing for the same key: the second waits for the first and gets False.
    """
    statement = (
        _insert(conn)
        .values(key=key, value=value)
        .on_conflict_do_nothing()
        .returning(instance_state.c.key)
    )
    return conn.execute(statement).first() is not None
