"""Execution records through the API: filters, keyset pagination, one record, a script's logs,
and the server-sent-events stream that follows new records (over real HTTP)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import uvicorn

from factories import execution_record
from picloud.manager.api import create_admin_api
from picloud.store import executions
from picloud.store.executions import ExecutionRecord
from picloud.store.new_rows import new_id

ADMIN = "/api/v1/admin"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def record(script: dict, *, at: datetime, outcome: str = "ok", **fields) -> ExecutionRecord:
    return execution_record(
        script["app_id"],
        script["id"],
        status_code=200 if outcome == "ok" else 500,
        outcome=outcome,
        started_at=at,
        logs=[{"level": "info", "message": "hi", "fields": {"n": 1}, "at": at.isoformat()}],
        error=None if outcome == "ok" else "Traceback ...",
        **fields,
    )


def store(ctx, *records: ExecutionRecord) -> None:
    with ctx.database.begin() as conn:
        executions.insert_many(conn, list(records))


@pytest.fixture
def scripts(make_app, make_script) -> tuple[dict, dict]:
    make_app("shop")
    return make_script("default", "a"), make_script("shop", "b")


def test_list_filters_and_pages_newest_first(ctx, as_owner, scripts):
    a, b = scripts
    store(ctx, *(record(a, at=T0 + timedelta(seconds=i)) for i in range(5)))
    store(ctx, record(b, at=T0, outcome="error"))
    first = as_owner.get(f"{ADMIN}/executions", params={"app": "default", "limit": 2}).json()
    assert [r["started_at"] for r in first["items"]] == [
        (T0 + timedelta(seconds=s)).isoformat().replace("+00:00", "Z") for s in (4, 3)
    ]
    second = as_owner.get(
        f"{ADMIN}/executions", params={"app": "default", "limit": 2, "cursor": first["next_cursor"]}
    ).json()
    third = as_owner.get(
        f"{ADMIN}/executions",
        params={"app": "default", "limit": 2, "cursor": second["next_cursor"]},
    ).json()
    assert len(second["items"]) == 2
    assert len(third["items"]) == 1
    assert third["next_cursor"] is None
    errors = as_owner.get(f"{ADMIN}/executions", params={"outcome": "error"}).json()["items"]
    assert [r["script_id"] for r in errors] == [b["id"]]
    assert errors[0]["error"] == "Traceback ..."
    by_script = as_owner.get(f"{ADMIN}/executions", params={"script": b["id"]}).json()["items"]
    assert len(by_script) == 1
    window = as_owner.get(
        f"{ADMIN}/executions",
        params={
            "since": (T0 + timedelta(seconds=1)).isoformat(),
            "until": (T0 + timedelta(seconds=3)).isoformat(),
        },
    ).json()["items"]
    assert len(window) == 2


def test_bad_cursor_and_naive_times_are_422(as_owner, scripts):
    bad = as_owner.get(f"{ADMIN}/executions", params={"cursor": "garbage"})
    assert bad.status_code == 422
    assert bad.json()["type"] == "https://picloud.dev/problems/cursor-invalid"
    naive = as_owner.get(f"{ADMIN}/executions", params={"since": "2026-01-01T00:00:00"})
    assert naive.status_code == 422
    assert naive.json()["field"] == "since"


def test_one_record_has_logs_and_error(ctx, as_owner, scripts):
    a, _ = scripts
    stored = record(a, at=T0, outcome="error")
    store(ctx, stored)
    answer = as_owner.get(f"{ADMIN}/executions/{stored.id}")
    assert answer.status_code == 200
    body = answer.json()
    assert body["logs"] == [
        {"level": "info", "message": "hi", "fields": {"n": 1}, "at": T0.isoformat()}
    ]
    assert body["error"] == "Traceback ..."
    assert set(body) >= {
        "id", "app_id", "script_id", "script_version", "invocation", "method", "path",
        "status_code", "outcome", "duration_ms", "started_at", "logs", "error",
    }  # fmt: skip
    assert as_owner.get(f"{ADMIN}/executions/{new_id()}").status_code == 404


def test_script_logs_list_only_that_script(ctx, as_owner, scripts):
    a, b = scripts
    store(ctx, record(a, at=T0), record(b, at=T0))
    items = as_owner.get(f"{ADMIN}/scripts/{a['id']}/logs").json()["items"]
    assert [r["script_id"] for r in items] == [a["id"]]


@pytest.fixture
def live_api(ctx) -> Iterator[str]:
    """The admin API on a real loopback socket (the stream needs real HTTP)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_admin_api(ctx), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_stream_follows_new_records_only(ctx, owner_token, scripts, live_api):
    a, b = scripts
    now = datetime.now(UTC)
    store(ctx, record(a, at=now - timedelta(seconds=1)))  # before the client connects
    headers = {"Authorization": f"Bearer {owner_token}"}
    url = f"{live_api}{ADMIN}/scripts/{a['id']}/logs/stream"
    with httpx.stream("GET", url, headers=headers, timeout=10) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        lines = answer.iter_lines()
        assert next(lines) == ": following"
        fresh = record(a, at=now + timedelta(seconds=1))
        # A record that started earlier but landed late is still delivered.
        late = record(a, at=now - timedelta(seconds=2))
        store(ctx, record(b, at=now), fresh, late)
        events = []
        for line in lines:
            if line.startswith("data: "):
                events.append(json.loads(line[len("data: ") :]))
            if len(events) == 2:
                break
    assert sorted(e["id"] for e in events) == sorted([fresh.id, late.id])


def test_stream_needs_logs_read(ctx, mint, scripts, live_api):
    a, _ = scripts
    key = mint(["script:read"])
    url = f"{live_api}{ADMIN}/scripts/{a['id']}/logs/stream"
    answer = httpx.get(url, headers={"Authorization": key.headers["authorization"]})
    assert answer.status_code == 403
