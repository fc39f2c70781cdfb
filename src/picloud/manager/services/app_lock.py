"""Serialise writes that check several rows of one app before inserting (route conflicts)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection

from picloud.store.schema import apps


def lock_app(conn: Connection, app_id: str) -> None:
    """Hold the app's row until the transaction ends (PostgreSQL `FOR UPDATE`).

    SQLite needs nothing: a write transaction there already excludes every other writer.
    """
    conn.execute(sa.select(apps.c.id).where(apps.c.id == app_id).with_for_update())
