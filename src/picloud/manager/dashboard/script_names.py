"""Script names by id, for pages that show many scripts but none of their sources.

`picloud.manager.services.scripts.list_scripts` returns whole records, sources included; the
overview only needs names, so it reads the two columns (a candidate for `picloud.store.scripts`).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection

from picloud.store.schema import scripts


def script_names(conn: Connection, app_id: str) -> dict[str, str]:
    """`{script id: name}` of every script of the app."""
    query = sa.select(scripts.c.id, scripts.c.name).where(scripts.c.app_id == app_id)
    return dict(conn.execute(query).all())
