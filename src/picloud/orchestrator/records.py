"""Batched, asynchronous writing of execution records.

The response never waits for the database: `submit()` appends to an in-memory buffer and returns.
A background task wakes when the first record arrives, lets a batch gather for `flush_ms`, and
writes it in one statement from a worker thread. When the database is unreachable the batch stays
in the buffer and is retried, so a short outage loses nothing; a bound on the buffer keeps a long
outage from exhausting memory (the oldest records go first, and are counted). With nothing to
write the task sleeps on an event: an idle server spends no CPU here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from picloud.store import executions
from picloud.store.database import Database
from picloud.store.executions import ExecutionRecord

logger = logging.getLogger(__name__)

#: How often retention runs at most, and only after something was written.
PRUNE_INTERVAL_SECONDS = 300.0
RETRY_DELAY_SECONDS = 1.0
#: Errors that condemn a record, not the connection: retrying would fail the same way.
UNSTORABLE = (sa.exc.IntegrityError, sa.exc.DataError)
#: Advisory lock id taken by the node that prunes (any constant unique to PiCloud).
PRUNE_LOCK_KEY = 0x70_69_63_6C_6F_75_64  # 'picloud'


class RecordWriter:
    def __init__(
        self,
        database: Database,
        *,
        flush_ms: int,
        retention_count: int,
        retention_days: int,
        max_buffered: int = 100_000,
        batch_size: int = 1_000,
    ):
        self._database = database
        self._flush_seconds = flush_ms / 1000
        self._retention_count = retention_count
        self._retention_days = retention_days
        self._batch_size = batch_size
        self._buffer: deque[ExecutionRecord] = deque(maxlen=max_buffered)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()
        self._last_prune = time.monotonic()
        self.written = 0
        self.dropped = 0

    def submit(self, record: ExecutionRecord) -> None:
        if len(self._buffer) == self._buffer.maxlen:
            self.dropped += 1
        self._buffer.append(record)
        self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._buffer)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="picloud-record-writer")

    async def aclose(self) -> None:
        """Write everything still buffered, then stop (a graceful shutdown loses nothing)."""
        self._closing.set()
        self._wake.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            if not self._closing.is_set():
                # Let a batch gather, but a shutdown cuts the wait short.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), self._flush_seconds)
            self._wake.clear()
            ok = await self._flush(everything=self._closing.is_set())
            if self._closing.is_set() and (ok or not self._buffer):
                return
            if not ok:
                if self._closing.is_set():
                    logger.error("database unreachable at shutdown; %d records lost", self.pending)
                    return
                await asyncio.sleep(RETRY_DELAY_SECONDS)
                self._wake.set()

    async def _flush(self, *, everything: bool) -> bool:
        """Write what was buffered when the flush began (or, at shutdown, until nothing is):
        under load, records keep arriving while a batch is written, and writing those at once
        would turn one large batch per interval into a stream of tiny transactions."""
        due = self.pending
        while self._buffer and (everything or due > 0):
            # Taken out of the buffer while written, so a full buffer evicting its oldest
            # records can never evict this batch; put back in front if the write fails.
            size = min(self._batch_size, self.pending)
            if not everything:
                size = min(size, due)
            batch = [self._buffer.popleft() for _ in range(size)]
            due -= size
            try:
                await asyncio.to_thread(self._write, batch)
            except Exception:
                logger.exception("writing %d execution records failed; will retry", len(batch))
                room = self._buffer.maxlen - len(self._buffer)  # type: ignore[operator]
                self.dropped += max(0, len(batch) - room)
                self._buffer.extendleft(reversed(batch[:room]))
                return False
            self.written += len(batch)
        return True

    def _write(self, batch: list[ExecutionRecord]) -> None:
        try:
            with self._database.begin() as conn:
                executions.insert_many(conn, batch)
        except UNSTORABLE:
            self._write_one_by_one(batch)
        if time.monotonic() - self._last_prune >= PRUNE_INTERVAL_SECONDS:
            self.prune()

    def _write_one_by_one(self, batch: list[ExecutionRecord]) -> None:
        """Keep the batch's good records when some cannot be stored (their script or app was
        deleted while they waited, or the database refuses a value): those few are dropped, not
        retried forever, so one bad record never stops the others."""
        for record in batch:
            try:
                with self._database.begin() as conn:
                    executions.insert_many(conn, [record])
            except UNSTORABLE as exc:
                self.dropped += 1
                logger.warning("dropped the record of execution %s: %s", record.id, exc.orig)

    def prune(self) -> int:
        """Apply retention: per-script count and age. Runs after writes, never on a timer.

        In a cluster only one node prunes at a time: the others find the lock taken and skip.
        """
        self._last_prune = time.monotonic()
        with self._database.begin() as conn:
            if self._database.dialect_name == "postgresql" and not conn.scalar(
                sa.text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": PRUNE_LOCK_KEY}
            ):
                return 0
            return executions.prune(
                conn,
                keep_per_script=self._retention_count,
                older_than=datetime.now(UTC) - timedelta(days=self._retention_days),
            )
