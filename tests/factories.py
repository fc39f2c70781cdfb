"""Rows for tests to insert, with sensible values for every field a test does not care about."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from picloud.store.executions import ExecutionRecord
from picloud.store.new_rows import new_id


def execution_record(app_id: str, script_id: str, **fields: Any) -> ExecutionRecord:
    """An ok execution of `GET /x` that took 1.5 ms, now; `fields` override any column."""
    values: dict[str, Any] = {
        "id": new_id(),
        "app_id": app_id,
        "script_id": script_id,
        "script_version": 1,
        "invocation": "http",
        "method": "GET",
        "path": "/x",
        "status_code": 200,
        "outcome": "ok",
        "duration_ms": 1.5,
        "started_at": datetime.now(UTC),
        "logs": [],
        "error": None,
    }
    return ExecutionRecord(**{**values, **fields})
