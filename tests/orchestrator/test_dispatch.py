"""Dispatch through the executor seam, with a test double in place of the worker pool.

The double stands where a remote executor would (the narrow `Executor` interface), so these
tests cover what dispatch itself decides: 404s, 405 with Allow, the gate, body limits, error
rendering and the execution record. The real pool is covered by tests/executor and tests/sandbox,
and the whole path by tests/test_server.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from picloud.config import load_settings
from picloud.executor.interface import (
    ExecutorOverloaded,
    Invocation,
    InvocationResult,
    LogLine,
)
from picloud.orchestrator import routing as routing_module
from picloud.orchestrator.dispatch import DataPlane
from picloud.orchestrator.gate import ConcurrencyGate
from picloud.orchestrator.routing import Outcome, Routing, RoutingHolder
from picloud.store import apps, domains, routes, scripts
from picloud.store.snapshot import load_routing_snapshot

SETTINGS = load_settings({})

pytestmark = pytest.mark.anyio


class RecordingExecutor:
    """Answers every invocation with `result`, after `delay` seconds, remembering the calls."""

    def __init__(self, result: InvocationResult | Exception | None = None, delay: float = 0):
        self.result = result
        self.delay = delay
        self.calls: list[Invocation] = []

    async def start(self) -> None: ...

    async def aclose(self) -> None: ...

    def describe(self) -> dict[str, Any]:
        return {"sandbox": "test"}

    def stats(self) -> dict[str, Any]:
        return {}

    async def invoke(self, invocation: Invocation) -> InvocationResult:
        self.calls.append(invocation)
        await asyncio.sleep(self.delay)
        if isinstance(self.result, Exception):
            raise self.result
        return self.result or InvocationResult(
            status=200,
            headers=[("content-type", "text/plain")],
            body=b"hi",
            outcome="ok",
            logs=[LogLine("info", "ran", {"k": 1}, "2026-01-01T00:00:00Z")],
            error=None,
            duration_ms=1.5,
        )


class RecordSink:
    def __init__(self) -> None:
        self.records: list[Any] = []

    def submit(self, record: Any) -> None:
        self.records.append(record)


@pytest.fixture
def routing(database) -> RoutingHolder:
    with database.begin() as conn:
        shop = apps.create(conn, slug="shop", name="Shop")
        domains.create(
            conn,
            app_id=shop.id,
            pattern="*.shop.test",
            shape="wildcard",
            shape_key="wildcard:shop.test",
        )
        script = scripts.create(
            conn,
            app_id=shop.id,
            name="items",
            source="def handle(req): ...",
            limits={"max_request_bytes": 10},
        )
        routes.create(
            conn,
            app_id=shop.id,
            script_id=script.id,
            method="GET",
            host="",
            host_kind="any",
            path="/items/:id",
            path_kind="param",
        )

    def load() -> Routing:
        with database.snapshot() as conn:
            snapshot = load_routing_snapshot(conn)
        return Routing.from_snapshot(
            snapshot, defaults=SETTINGS.default_limits, ceilings=SETTINGS.limit_ceilings
        )

    return RoutingHolder(load)


def client(plane: DataPlane) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=plane), base_url="http://x")


def plane_with(routing, executor, *, gate: int = 4) -> tuple[DataPlane, RecordSink]:
    sink = RecordSink()
    plane = DataPlane(routing, executor, ConcurrencyGate(gate), sink, admin_hosts=("localhost",))
    return plane, sink


async def test_a_match_runs_the_script_with_params_and_host_bindings(routing) -> None:
    executor = RecordingExecutor()
    plane, sink = plane_with(routing, executor)
    async with client(plane) as http:
        answer = await http.get("/items/42?x=1", headers={"Host": "eu.shop.test"})
    assert (answer.status_code, answer.text) == (200, "hi")
    call = executor.calls[0]
    assert (call.method, call.path, call.host, call.params) == (
        "GET",
        "/items/42",
        "eu.shop.test",
        {"id": "42"},
    )
    assert call.query_string == "x=1"
    assert call.url == "http://eu.shop.test/items/42?x=1"
    record = sink.records[0]
    assert record.id == answer.headers["x-picloud-execution-id"]
    assert (record.status_code, record.outcome, record.path) == (200, "ok", "/items/42")
    assert record.logs == [
        {"level": "info", "message": "ran", "fields": {"k": 1}, "at": "2026-01-01T00:00:00Z"}
    ]


async def test_unclaimed_host_unknown_path_and_wrong_method(routing) -> None:
    executor = RecordingExecutor()
    plane, sink = plane_with(routing, executor)
    async with client(plane) as http:
        unclaimed = await http.get("/items/1", headers={"Host": "Other.Example:8080"})
        no_route = await http.get("/nothing", headers={"Host": "eu.shop.test"})
        wrong = await http.post("/items/1", headers={"Host": "eu.shop.test"})
    assert unclaimed.status_code == 404
    assert unclaimed.json()["detail"] == "no app claims host 'other.example'"
    assert no_route.status_code == 404
    assert no_route.json()["type"].endswith("/no-route")
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "GET, HEAD"
    for answer in (unclaimed, no_route, wrong):
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["x-picloud-execution-id"]
    assert executor.calls == [] and sink.records == []


async def test_a_body_over_the_scripts_limit_is_413_and_never_runs(routing) -> None:
    executor = RecordingExecutor()
    plane, _ = plane_with(routing, executor)
    async with client(plane) as http:
        answer = await http.request(
            "GET", "/items/1", headers={"Host": "a.shop.test"}, content=b"x" * 11
        )
    assert answer.status_code == 413
    assert "10 bytes" in answer.json()["detail"]
    assert executor.calls == []


async def test_a_full_gate_answers_503_with_retry_after(routing) -> None:
    plane, _ = plane_with(routing, RecordingExecutor(delay=0.3), gate=1)
    async with client(plane) as http:
        first = asyncio.create_task(http.get("/items/1", headers={"Host": "a.shop.test"}))
        await asyncio.sleep(0.1)
        second = await http.get("/items/2", headers={"Host": "a.shop.test"})
        assert (await first).status_code == 200
    assert second.status_code == 503
    assert second.headers["retry-after"] == "1"
    assert plane.gate.in_flight == 0 and plane.gate.rejected == 1


async def test_a_script_at_its_concurrency_limit_answers_503(routing) -> None:
    plane, sink = plane_with(routing, RecordingExecutor(ExecutorOverloaded(retry_after=2)))
    async with client(plane) as http:
        answer = await http.get("/items/1", headers={"Host": "a.shop.test"})
    assert (answer.status_code, answer.headers["retry-after"]) == (503, "2")
    assert sink.records == []


@pytest.mark.parametrize(
    ("outcome", "status", "title"),
    [
        ("error", 500, "script error"),
        ("timeout", 504, "script timeout"),
        ("memory", 507, "script memory limit"),
        ("crashed", 502, "script crashed"),
        ("invalid_response", 502, "invalid response"),
    ],
)
async def test_failures_answer_a_problem_with_the_execution_id(
    routing, outcome, status, title
) -> None:
    failed = InvocationResult(
        status=status,
        headers=[],
        body=b"",
        outcome=outcome,
        logs=[],
        error="Traceback: secret detail",
        duration_ms=3.0,
    )
    plane, sink = plane_with(routing, RecordingExecutor(failed))
    async with client(plane) as http:
        answer = await http.get("/items/1", headers={"Host": "a.shop.test"})
    problem = answer.json()
    assert (answer.status_code, problem["title"]) == (status, title)
    assert problem["execution_id"] == answer.headers["x-picloud-execution-id"]
    assert "secret detail" not in answer.text  # the traceback goes to the record only
    assert sink.records[0].error == "Traceback: secret detail"
    assert sink.records[0].outcome == outcome


async def test_an_executor_failure_is_a_recorded_502(routing) -> None:
    plane, sink = plane_with(routing, RecordingExecutor(RuntimeError("pool exploded")))
    async with client(plane) as http:
        answer = await http.get("/items/1", headers={"Host": "a.shop.test"})
    assert answer.status_code == 502
    assert sink.records[0].outcome == "crashed"
    assert plane.gate.in_flight == 0


async def test_execute_by_id_is_refused_without_a_guard_that_allows_it(routing) -> None:
    executor = RecordingExecutor()
    plane, _ = plane_with(routing, executor)
    script_id = next(iter(routing.current.scripts))
    async with client(plane) as http:
        anonymous = await http.get(f"/api/v1/execute/{script_id}")
        unknown = await http.get("/api/v1/execute/nope", headers={"Authorization": "Bearer x"})
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert unknown.status_code == 401  # no word on whether the id exists before authentication
    assert executor.calls == []


async def test_configuration_changes_are_seen_after_reload(database, routing) -> None:
    plane, _ = plane_with(routing, RecordingExecutor())
    with database.begin() as conn:
        shop = apps.get_by_slug(conn, "shop")
        domains.create(
            conn,
            app_id=shop.id,
            pattern="shop.example",
            shape="exact",
            shape_key="exact:shop.example",
        )
    async with client(plane) as http:
        before = await http.get("/items/1", headers={"Host": "shop.example"})
        routing.reload()
        after = await http.get("/items/1", headers={"Host": "shop.example"})
    assert (before.status_code, after.status_code) == (404, 200)


async def test_scripts_never_see_platform_credentials(routing) -> None:
    async def allow(token, script_id, script):
        return None

    executor = RecordingExecutor()
    sink = RecordSink()
    plane = DataPlane(routing, executor, ConcurrencyGate(4), sink, execute_guard=allow)
    script_id = next(iter(routing.current.scripts))
    cookies = "theme=dark; picloud_session=s3cret; picloud_flash=x"
    async with client(plane) as http:
        await http.get(
            "/items/1",
            headers={"Host": "a.shop.test", "Cookie": cookies, "Authorization": "Basic app-own"},
        )
        await http.get(
            f"/api/v1/execute/{script_id}/x",
            headers={"Authorization": "Bearer pic_secret", "Cookie": "picloud_session=s3cret"},
        )
    routed, by_id = (dict(call.headers) for call in executor.calls)
    assert routed["cookie"] == "theme=dark"
    assert routed["authorization"] == "Basic app-own"  # an app's own auth scheme is its business
    assert "authorization" not in by_id and "cookie" not in by_id
    assert executor.calls[1].path == "/x"


async def test_a_chunked_body_reaches_the_script_and_a_bodiless_get_needs_no_read(routing) -> None:
    """Without Content-Length only a chunked request has a body (the bodiless fast path)."""
    executor = RecordingExecutor()
    plane, _ = plane_with(routing, executor)

    async def chunks():
        yield b"ab"
        yield b"c"

    async with client(plane) as http:
        chunked = await http.request(
            "GET", "/items/1", headers={"Host": "eu.shop.test"}, content=chunks()
        )
        bodiless = await http.get("/items/2", headers={"Host": "eu.shop.test"})
    assert (chunked.status_code, bodiless.status_code) == (200, 200)
    assert [call.body for call in executor.calls] == [b"abc", b""]


async def test_response_headers_no_client_could_receive_are_an_invalid_response(routing) -> None:
    bad = InvocationResult(
        status=200,
        headers=[("X-Price", "10 €")],
        body=b"ok",
        outcome="ok",
        logs=[],
        error=None,
        duration_ms=1.0,
    )
    plane, sink = plane_with(routing, RecordingExecutor(bad))
    async with client(plane) as http:
        answer = await http.get("/items/1", headers={"Host": "a.shop.test"})
    assert answer.status_code == 502
    assert answer.json()["type"].endswith("/invalid-response")
    assert sink.records[0].id == answer.headers["x-picloud-execution-id"]
    assert sink.records[0].outcome == "invalid_response"
    assert "X-Price" in sink.records[0].error


async def test_scripts_cannot_set_platform_cookies_and_are_sandboxed_on_admin_hosts(
    routing,
) -> None:
    cookie = InvocationResult(
        status=200,
        headers=[("Set-Cookie", "picloud_session=evil"), ("Set-Cookie", "a=1")],
        body=b"<script>fetch('/admin/')</script>",
        outcome="ok",
        logs=[],
        error=None,
        duration_ms=1.0,
    )
    plane = DataPlane(
        routing,
        RecordingExecutor(cookie),
        ConcurrencyGate(4),
        RecordSink(),
        admin_hosts=("admin.shop.test",),
    )
    async with client(plane) as http:
        tenant = await http.get("/items/1", headers={"Host": "a.shop.test"})
        admin = await http.get("/items/1", headers={"Host": "admin.shop.test"})
    assert tenant.headers.get_list("set-cookie") == ["a=1"]
    assert "content-security-policy" not in tenant.headers
    assert admin.headers["content-security-policy"].startswith("sandbox")


async def test_a_nul_in_the_path_is_stored_as_a_replacement_character(routing) -> None:
    plane, sink = plane_with(routing, RecordingExecutor())
    async with client(plane) as http:
        await http.get("/items/a%00b", headers={"Host": "a.shop.test"})
    assert sink.records[0].path == "/items/a\ufffdb"


async def test_a_client_gone_before_its_body_is_complete_runs_nothing(routing) -> None:
    executor = RecordingExecutor()
    plane, sink = plane_with(routing, executor)
    messages = iter(
        [
            {"type": "http.request", "body": b"par", "more_body": True},
            {"type": "http.disconnect"},
        ]
    )
    sent: list[dict] = []

    async def receive() -> dict:
        return next(messages)

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/items/1",
        "raw_path": b"/items/1",
        "query_string": b"",
        "http_version": "1.1",
        "scheme": "http",
        "headers": [(b"host", b"a.shop.test"), (b"transfer-encoding", b"chunked")],
    }
    await plane(scope, receive, send)
    assert executor.calls == [] and sink.records == [] and sent == []


def test_routing_remembers_answers_per_request_line_within_a_bound(routing, monkeypatch):
    tables = routing.current
    first = tables.resolve("GET", "a.shop.test", "/items/1")
    assert first.outcome is Outcome.MATCHED
    assert tables.resolve("GET", "a.shop.test", "/items/1") is first
    assert tables.resolve("GET", "a.shop.test", "/items/2").params == {"id": "2"}
    monkeypatch.setattr(routing_module, "RESOLUTION_MEMO_SIZE", 3)
    for n in range(10):  # unique paths empty the memo instead of growing it
        assert tables.resolve("GET", "a.shop.test", f"/nope/{n}").outcome is Outcome.NO_ROUTE
        assert len(tables._resolved) <= 3
    assert tables.resolve("GET", "a.shop.test", "/items/1") == first
