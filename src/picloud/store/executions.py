"""Execution logs: written in batches, listed newest first by keyset, pruned by count and age."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.engine import Dialect

from picloud.store.schema import execution_logs, scripts

MAX_PAGE_SIZE = 500


class ExecutionRecord(msgspec.Struct, frozen=True):
    id: str
    app_id: str
    script_id: str
    script_version: int
    invocation: str
    method: str
    path: str
    status_code: int
    outcome: str
    duration_ms: float
    started_at: datetime
    logs: list[dict[str, Any]]  # [{level, message, fields, at}]
    error: str | None


class InvalidCursor(ValueError):
    """A pagination cursor this module did not hand out."""


def encode_cursor(started_at: datetime, execution_id: str) -> str:
    """The opaque cursor that resumes a listing after this record.

    >>> from datetime import UTC, datetime
    >>> encode_cursor(datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC), "0b7c")
    'WyIyMDI1LTAxLTAyVDAzOjA0OjA1WiIsIjBiN2MiXQ'
    """
    raw = msgspec.json.encode((started_at, execution_id))
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (started_at, id) a cursor from `encode_cursor` stands for; `InvalidCursor` if bad.

    >>> decode_cursor("WyIyMDI1LTAxLTAyVDAzOjA0OjA1WiIsIjBiN2MiXQ")
    (datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc), '0b7c')
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        started_at, execution_id = msgspec.json.decode(raw, type=tuple[datetime, str])
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise InvalidCursor(f"invalid cursor {cursor!r}") from None
    if started_at.tzinfo is None:
        raise InvalidCursor(f"invalid cursor {cursor!r}")
    return started_at, execution_id


def insert_many(conn: Connection, records: Sequence[ExecutionRecord]) -> None:
    """Write a batch of records in a few multi-row INSERTs.

    This runs for every request the platform serves, so it skips SQLAlchemy's per-row
    parameter handling: each record becomes one flat tuple through the columns' own bind
    processors, and up to `INSERT_ROWS` rows go in one statement. On SQLite that is also one
    step of the statement, where `executemany` released and took back the GIL once per row,
    each time waiting for the server's event loop (docs/benchmarks.md).
    """
    if not records:
        return
    plan = _insert_plan(conn.dialect)
    if not plan.multi_row:  # PostgreSQL: psycopg pipelines an executemany in one round trip
        conn.exec_driver_sql(plan.statement(1), [tuple(plan.bind(r)) for r in records])
        return
    for start in range(0, len(records), INSERT_ROWS):
        chunk = records[start : start + INSERT_ROWS]
        values: list[Any] = []
        for record in chunk:
            values += plan.bind(record)
        conn.exec_driver_sql(plan.statement(len(chunk)), tuple(values))


#: Rows per INSERT: 13 parameters each stays under every driver's limit on parameters.
INSERT_ROWS = 500


class _InsertPlan:
    """The INSERT of execution records for one dialect, with each column's bind processor."""

    def __init__(self, dialect: Dialect):
        columns = list(execution_logs.columns)
        self._names = [column.name for column in columns]
        self._processors = [
            column.type.dialect_impl(dialect).bind_processor(dialect) for column in columns
        ]
        marker = "?" if dialect.paramstyle == "qmark" else "%s"
        self.multi_row = dialect.name == "sqlite"
        self._row = "(" + ", ".join([marker] * len(columns)) + ")"
        preparer = dialect.identifier_preparer
        self._head = (
            f"INSERT INTO {preparer.format_table(execution_logs)} "
            f"({', '.join(preparer.quote(name) for name in self._names)}) VALUES "
        )
        self._full = self._build(INSERT_ROWS)
        if tuple(self._names) != ExecutionRecord.__struct_fields__:
            raise RuntimeError("ExecutionRecord's fields must follow execution_logs' columns")

    def bind(self, record: ExecutionRecord) -> list[Any]:
        values = msgspec.structs.astuple(record)
        try:
            return [
                value if process is None else process(value)
                for value, process in zip(values, self._processors, strict=True)
            ]
        except (TypeError, ValueError) as exc:
            # What SQLAlchemy raises for a value a column's processor refuses.
            raise sa.exc.StatementError(str(exc), self._head, None, exc) from exc

    def statement(self, rows: int) -> str:
        return self._full if rows == INSERT_ROWS else self._build(rows)

    def _build(self, rows: int) -> str:
        return self._head + ", ".join([self._row] * rows)


_insert_plans: dict[str, _InsertPlan] = {}


def _insert_plan(dialect: Dialect) -> _InsertPlan:
    plan = _insert_plans.get(dialect.name)
    if plan is None:
        plan = _insert_plans[dialect.name] = _InsertPlan(dialect)
    return plan


def list_page(
    conn: Connection,
    *,
    app_id: str | None = None,
    script_id: str | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[ExecutionRecord], str | None]:
    """One page of records, newest first, and the cursor of the next page (None at the end).

    `since` is inclusive, `until` exclusive. Pages are cut by (started_at, id), not by offset,
    so a page costs the same however deep it is and new records never shift later pages.
    """
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}, got {limit}")
    t = execution_logs
    query = sa.select(t).order_by(t.c.started_at.desc(), t.c.id.desc()).limit(limit + 1)
    for column, value in ((t.c.app_id, app_id), (t.c.script_id, script_id), (t.c.outcome, outcome)):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(t.c.started_at >= since)
    if until is not None:
        query = query.where(t.c.started_at < until)
    if cursor is not None:
        query = query.where(sa.tuple_(t.c.started_at, t.c.id) < decode_cursor(cursor))
    records = [ExecutionRecord(**row._mapping) for row in conn.execute(query)]
    if len(records) <= limit:
        return records, None
    last = records[limit - 1]
    return records[:limit], encode_cursor(last.started_at, last.id)


def get(conn: Connection, execution_id: str) -> ExecutionRecord | None:
    row = conn.execute(sa.select(execution_logs).where(execution_logs.c.id == execution_id)).first()
    return None if row is None else ExecutionRecord(**row._mapping)


def prune(
    conn: Connection,
    *,
    keep_per_script: int,
    older_than: datetime,
    script_ids: Iterable[str] | None = None,
) -> int:
    """Delete records started before `older_than` and all but each script's newest
    `keep_per_script`; returns how many went.

    Pass `script_ids` (the scripts that logged since the last prune) to check only those for
    the count limit. Every step walks an index: the age cut by started_at, and per script only
    its newest `keep_per_script + 1` entries to find where the cut falls.
    """
    if keep_per_script < 0:
        raise ValueError(f"keep_per_script must be >= 0, got {keep_per_script}")
    t = execution_logs
    deleted = conn.execute(sa.delete(t).where(t.c.started_at < older_than)).rowcount

    def first_beyond_cap(column: sa.Column[Any]) -> sa.ScalarSelect[Any]:
        return (
            sa.select(column)
            .where(t.c.script_id == scripts.c.id)
            .order_by(t.c.started_at.desc(), t.c.id.desc())
            .offset(keep_per_script)
            .limit(1)
            .scalar_subquery()
        )

    cuts = sa.select(
        scripts.c.id, first_beyond_cap(t.c.started_at).label("at"), first_beyond_cap(t.c.id)
    )
    if script_ids is not None:
        cuts = cuts.where(scripts.c.id.in_(list(script_ids)))
    for script_id, cut_at, cut_id in conn.execute(cuts).all():
        if cut_at is None:
            continue
        over_cap = sa.tuple_(t.c.started_at, t.c.id) <= (cut_at, cut_id)
        deleted += conn.execute(sa.delete(t).where(t.c.script_id == script_id, over_cap)).rowcount
    return deleted
