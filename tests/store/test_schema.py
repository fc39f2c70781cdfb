from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from picloud.store import apps, executions, scripts
from picloud.store.executions import ExecutionRecord
from picloud.store.new_rows import new_id

CEST = timezone(timedelta(hours=2))


def _execution(script, started_at: datetime) -> ExecutionRecord:
    return ExecutionRecord(
        id=new_id(),
        app_id=script.app_id,
        script_id=script.id,
        script_version=1,
        invocation="http",
        method="GET",
        path="/",
        status_code=200,
        outcome="ok",
        duration_ms=1.5,
        started_at=started_at,
        logs=[],
        error=None,
    )


@pytest.fixture
def script(database):
    with database.begin() as conn:
        app = apps.create(conn, slug="tz", name="TZ")
        return scripts.create(conn, app_id=app.id, name="s", source="def handle(req): pass")


def test_timestamps_come_back_aware_in_utc_whatever_zone_went_in(database, script):
    sent = _execution(script, datetime(2025, 6, 1, 14, 30, 15, 123456, tzinfo=CEST))
    with database.begin() as conn:
        executions.insert_many(conn, [sent])
    with database.connect() as conn:
        received = executions.get(conn, sent.id).started_at
    assert received == sent.started_at
    assert received.tzinfo == UTC
    assert received.hour == 12


def test_naive_timestamps_are_refused_with_a_clear_error(database, script):
    naive = _execution(script, datetime(2025, 6, 1, 12, 0))
    with (
        pytest.raises(sa.exc.StatementError, match="expected a timezone-aware datetime"),
        database.begin() as conn,
    ):
        executions.insert_many(conn, [naive])
