"""Recent activity per app and per script: last execution, runs and errors in a window.

No service offers these aggregates yet, so this module holds the queries the apps list, the
overview and the scripts tab need (they belong in `picloud.store.executions` once someone else
needs them). Each is shaped to stay on the indexes of `execution_logs`, because its rows are
wide (log lines) and a busy app has many:

- the last start and the run count of each app or script: one index-only lookup per owner,
  through the (app_id | script_id, started_at, id) indexes;
- the errors: only failed rows in the window, found through the (outcome, started_at) index,
  grouped in the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import Connection

from picloud.executor.interface import OUTCOMES
from picloud.store.schema import apps, execution_logs, scripts

#: The window the run count and the error rate cover.
ACTIVITY_WINDOW = timedelta(hours=24)
FAILED_OUTCOMES = tuple(o for o in OUTCOMES if o != "ok")


@dataclass(frozen=True, slots=True)
class Activity:
    """`last_at` is the newest execution kept; `count` and `errors` cover the window only.

    >>> Activity(None, 8, 2).error_rate
    0.25
    >>> Activity(None, 0, 0).error_rate is None
    True
    """

    last_at: datetime | None
    count: int
    errors: int

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.count if self.count else None


NO_ACTIVITY = Activity(None, 0, 0)


def _activity(
    conn: Connection, owner: sa.Column, key: sa.Column, since: datetime, where: Iterable = ()
) -> dict[str, Activity]:
    t = execution_logs
    last = sa.select(sa.func.max(t.c.started_at)).where(key == owner).scalar_subquery()
    runs = sa.select(sa.func.count()).where(key == owner, t.c.started_at >= since)
    rows = conn.execute(sa.select(owner, last, runs.scalar_subquery()).where(*where)).all()
    errors = dict(
        conn.execute(
            sa.select(key, sa.func.count())
            .where(t.c.outcome.in_(FAILED_OUTCOMES), t.c.started_at >= since)
            .group_by(key)
        ).all()
    )
    return {
        owner_id: Activity(last_at, count, errors.get(owner_id, 0))
        for owner_id, last_at, count in rows
        if last_at is not None
    }


def activity_by_app(
    conn: Connection, now: datetime, app_id: str | None = None
) -> dict[str, Activity]:
    """Activity of every app (or of `app_id` only) that has execution records, by app id."""
    where = [] if app_id is None else [apps.c.id == app_id]
    return _activity(conn, apps.c.id, execution_logs.c.app_id, now - ACTIVITY_WINDOW, where)


def activity_by_script(
    conn: Connection, script_ids: list[str], now: datetime
) -> dict[str, Activity]:
    """Activity of the given scripts that have execution records, keyed by script id."""
    return _activity(
        conn,
        scripts.c.id,
        execution_logs.c.script_id,
        now - ACTIVITY_WINDOW,
        [scripts.c.id.in_(script_ids)],
    )
