"""Execution records: filtered pages, one record, and following new records as they land."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from picloud.core.limits import Limits
from picloud.manager.problems import CURSOR_INVALID, NOT_FOUND, VALIDATION
from picloud.store import executions
from picloud.store.database import Database
from picloud.store.executions import MAX_PAGE_SIZE, ExecutionRecord, InvalidCursor


@dataclass(frozen=True, slots=True)
class ExecutionFilter:
    app_id: str | None = None
    script_id: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def list_executions(
    database: Database, filters: ExecutionFilter, *, limit: int = 50, cursor: str | None = None
) -> tuple[list[ExecutionRecord], str | None]:
    """One page, newest first, and the cursor of the next page (None at the end)."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise VALIDATION(f"limit must be between 1 and {MAX_PAGE_SIZE}", field="limit")
    try:
        if cursor is not None and "\x00" in executions.decode_cursor(cursor)[1]:
            raise InvalidCursor(cursor)
        with database.connect() as conn:
            return executions.list_page(
                conn,
                app_id=filters.app_id,
                script_id=filters.script_id,
                outcome=filters.outcome,
                since=filters.since,
                until=filters.until,
                limit=limit,
                cursor=cursor,
            )
    except InvalidCursor:
        raise CURSOR_INVALID(
            "the cursor was not produced by this API; start again without one", field="cursor"
        ) from None


def lookup_execution(database: Database, execution_id: str) -> ExecutionRecord | None:
    with database.connect() as conn:
        return executions.get(conn, execution_id)


def get_execution(database: Database, execution_id: str) -> ExecutionRecord:
    record = lookup_execution(database, execution_id)
    if record is None:
        raise NOT_FOUND(f"no execution with id '{execution_id}'")
    return record


def arrival_window(ceilings: Limits, flush_ms: int) -> timedelta:
    """How late a record can land after it started: the longest run plus the writer's delay."""
    return timedelta(milliseconds=ceilings.timeout_ms + flush_ms) + timedelta(seconds=5)


class Follower:
    """Yields records of one filter that appear after it was created, oldest first.

    Records are written in batches after they finish, so one that started earlier can land
    after one that started later; each poll therefore rereads the `window` before the newest
    start it has seen and skips ids it has already given out.
    """

    def __init__(
        self, database: Database, filters: ExecutionFilter, window: timedelta, start: datetime
    ):
        self.database = database
        self.filters = filters
        self.window = window
        self._watermark = start
        self._seen: dict[str, datetime] = {}

    def skip_existing(self) -> None:
        """Mark what is already stored as seen, so `poll` yields only what comes later."""
        for record in self._read_since(self._watermark - self.window):
            self._seen[record.id] = record.started_at

    def poll(self) -> list[ExecutionRecord]:
        """The records that appeared since the last poll, oldest first."""
        since = self._watermark - self.window
        fresh: list[ExecutionRecord] = []
        for record in self._read_since(since):
            if record.id in self._seen:
                continue
            self._seen[record.id] = record.started_at
            fresh.append(record)
        if fresh:
            self._watermark = max(self._watermark, max(r.started_at for r in fresh))
        horizon = self._watermark - self.window
        self._seen = {k: at for k, at in self._seen.items() if at >= horizon}
        return sorted(fresh, key=lambda r: (r.started_at, r.id))

    def _read_since(self, since: datetime) -> Iterator[ExecutionRecord]:
        cursor = None
        filters = ExecutionFilter(
            self.filters.app_id, self.filters.script_id, self.filters.outcome, since, None
        )
        while True:
            page, cursor = list_executions(
                self.database, filters, limit=MAX_PAGE_SIZE, cursor=cursor
            )
            yield from page
            if cursor is None:
                return
