"""The worker pool through its public seam: outcomes, limits, pools, reaping, crash recovery.

Every test runs real scripts in real sandboxed worker processes.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from pathlib import Path

import pytest

from executor.harness import (
    ExecutorHarness,
    executor_settings,
    invocation,
    needs_bubblewrap,
    started_executor,
)
from picloud.core.limits import Limits
from picloud.executor import pool as pool_module
from picloud.executor.interface import ExecutorOverloaded
from picloud.sdk import SDK_VERSION

pytestmark = needs_bubblewrap

HELLO = """
def handle(req, ctx):
    name = req.query.get("name", "world")
    ctx.log.info("greeting", name=name)
    return {"message": f"Hello, {name}!"}
"""

FAST = "def handle(req):\n    return 'fast'\n"

CRASHER = """
import os

def handle(req):
    if req.query.get("crash"):
        os._exit(3)
    return "fine"
"""

SLEEPER = """
import time

def handle(req):
    time.sleep(float(req.query.get("s", "0.5")))
    return "slept"
"""


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory):
    settings = executor_settings(tmp_path_factory.mktemp("data"))
    with started_executor(settings) as started:
        yield started


def fresh_app() -> str:
    return f"app-{uuid.uuid4().hex[:8]}"


def test_hello_world_answers_json_and_logs(harness: ExecutorHarness):
    result = harness.invoke(HELLO, query="name=Ada")
    assert (result.outcome, result.status) == ("ok", 200)
    assert json.loads(result.body) == {"message": "Hello, Ada!"}
    assert ("content-type", "application/json") in result.headers
    assert [(line.level, line.message, line.fields) for line in result.logs] == [
        ("info", "greeting", {"name": "Ada"})
    ]
    assert result.error is None
    assert result.duration_ms > 0


def test_the_request_reaches_the_script_whole(harness: ExecutorHarness):
    source = """
def handle(req):
    return {
        "method": req.method, "url": req.url, "path": req.path, "host": req.host,
        "header": req.headers["X-Token"], "header_lower": req.headers.get("x-token"),
        "tags": req.query.getlist("tag"), "first_tag": req.query["tag"],
        "query": dict(req.query), "params": req.params, "rest": req.rest,
        "body": req.body.decode(), "text": req.text, "json": req.json(),
    }
"""
    result = harness.invoke(
        source,
        method="POST",
        path="/files/a/b",
        query="tag=x&tag=y&empty=",
        headers=[("X-Token", "abc"), ("content-type", "application/json")],
        params={"id": "42"},
        rest="a/b",
        body=b'{"n": 1}',
    )
    assert json.loads(result.body) == {
        "method": "POST",
        "url": "http://localhost/files/a/b?tag=x&tag=y&empty=",
        "path": "/files/a/b",
        "host": "localhost",
        "header": "abc",
        "header_lower": "abc",
        "tags": ["x", "y"],
        "first_tag": "x",
        "query": {"tag": "x", "empty": ""},
        "params": {"id": "42"},
        "rest": "a/b",
        "body": '{"n": 1}',
        "text": '{"n": 1}',
        "json": {"n": 1},
    }


def test_the_context_names_the_execution_app_and_script(harness: ExecutorHarness):
    source = """
def handle(req, ctx):
    return {
        "execution_id": ctx.execution_id, "app": [ctx.app.id, ctx.app.slug],
        "script": [ctx.script.id, ctx.script.name, ctx.script.version],
        "invocation": ctx.invocation, "sdk": ctx.sdk_version,
    }
"""
    job = invocation(source, app="app-ctx", script="script-ctx", name="whoami", version=3)
    result = harness.run(harness.executor.invoke(job))
    assert json.loads(result.body) == {
        "execution_id": job.execution_id,
        "app": ["app-ctx", "app-ctx"],
        "script": ["script-ctx", "whoami", 3],
        "invocation": "http",
        "sdk": SDK_VERSION,
    }


@pytest.mark.parametrize(
    ("returned", "status", "content_type", "body"),
    [
        ("'hi'", 200, "text/plain; charset=utf-8", b"hi"),
        ("b'\\x00\\x01'", 200, "application/octet-stream", b"\x00\x01"),
        ("{'a': 1}", 200, "application/json", b'{"a":1}'),
        ("[1, 2]", 200, "application/json", b"[1,2]"),
        ("3.5", 200, "application/json", b"3.5"),
        ("True", 200, "application/json", b"true"),
        ("None", 200, "application/json", b"null"),
        ("('created', 201)", 201, "text/plain; charset=utf-8", b"created"),
        ("({'id': 7}, 201, {'Location': '/x/7'})", 201, "application/json", b'{"id":7}'),
        ("Response('<p>', 202, {'Content-Type': 'text/html'})", 202, "text/html", b"<p>"),
        ("Response(status=204)", 204, None, b""),
        ("Response({'ok': True})", 200, "application/json", b'{"ok":true}'),
    ],
)
def test_return_values_become_responses(
    harness: ExecutorHarness, returned: str, status: int, content_type: str | None, body: bytes
):
    source = f"from picloud.sdk import Response\n\ndef handle(req):\n    return {returned}\n"
    result = harness.invoke(source)
    assert (result.outcome, result.status, result.body) == ("ok", status, body)
    content_types = [v for k, v in result.headers if k.lower() == "content-type"]
    assert content_types == ([content_type] if content_type else [])


@pytest.mark.parametrize(
    ("returned", "reason"),
    [
        ("object()", "not object"),
        ("('x', 'OK')", "status must be a whole number from 100 to 599"),
        ("('x', 200, 'nope')", "headers must be a dict or a list of (name, value) pairs"),
        ("('x', 200, {'X-A': 'a\\r\\nSet-Cookie: evil'})", "invalid value for header 'X-A'"),
        ("{'when': object()}", "not JSON-serializable"),
        ("('a', 'b', 'c', 'd')", "got 4 items"),
    ],
)
def test_invalid_return_values_are_502_with_the_reason_in_the_error(
    harness: ExecutorHarness, returned: str, reason: str
):
    result = harness.invoke(f"def handle(req):\n    return {returned}\n")
    assert (result.outcome, result.status, result.body, result.headers) == (
        "invalid_response",
        502,
        b"",
        [],
    )
    assert reason in result.error


def test_a_handler_may_take_only_req_or_be_async(harness: ExecutorHarness):
    assert harness.invoke("def handle(req):\n    return req.method\n").body == b"GET"
    source = """
import asyncio

async def handle(req, ctx):
    await asyncio.sleep(0.01)
    ctx.log.info("awaited")
    return "async"
"""
    result = harness.invoke(source)
    assert (result.outcome, result.body) == ("ok", b"async")
    assert [line.message for line in result.logs] == ["awaited"]


def test_an_exception_is_a_500_with_the_traceback_only_in_the_error(harness: ExecutorHarness):
    source = """
def handle(req):
    return helper()

def helper():
    raise ValueError("secret detail")
"""
    result = harness.invoke(source, name="broken")
    assert (result.outcome, result.status, result.body, result.headers) == ("error", 500, b"", [])
    assert result.error.startswith("Traceback (most recent call last):")
    assert 'File "<script broken v1>", line 6, in helper' in result.error
    assert 'raise ValueError("secret detail")' in result.error
    assert result.error.rstrip().endswith("ValueError: secret detail")
    assert "picloud" not in result.error  # the worker's own frames are left out


def test_a_failing_top_level_and_a_missing_handler_are_errors(harness: ExecutorHarness):
    broken = harness.invoke("import does_not_exist\n\ndef handle(req):\n    return 1\n")
    assert broken.outcome == "error"
    assert "ModuleNotFoundError: No module named 'does_not_exist'" in broken.error
    missing = harness.invoke("def other(req):\n    return 1\n")
    assert missing.outcome == "error"
    assert "the script defines no function 'handle'" in missing.error


def test_print_and_stderr_become_log_lines(harness: ExecutorHarness):
    source = """
import os, sys

def handle(req, ctx):
    print("to stdout")
    print("to stderr", file=sys.stderr)
    sys.stdout.write("partial")
    os.write(1, b"raw fd write\\n")
    return "done"
"""
    result = harness.invoke(source)
    assert result.body == b"done"
    lines = [(line.level, line.message, line.fields) for line in result.logs]
    console = ("info", "raw fd write", {"stream": "console"})
    assert console in lines  # file-descriptor output has no exact place among the others
    lines.remove(console)
    assert lines == [
        ("info", "to stdout", {"stream": "stdout"}),
        ("error", "to stderr", {"stream": "stderr"}),
        ("info", "partial", {"stream": "stdout"}),
    ]


def test_log_output_is_cut_at_max_log_bytes_with_one_marker(harness: ExecutorHarness):
    source = """
def handle(req, ctx):
    for i in range(1000):
        ctx.log.info("line", i=i)
    print("x" * 100_000)
    return "ok"
"""
    result = harness.invoke(source, limits=Limits(max_log_bytes=400))
    assert result.outcome == "ok"
    *kept, marker = result.logs
    assert 0 < len(kept) < 20
    assert [line.fields["i"] for line in kept] == list(range(len(kept)))
    assert marker.level == "warning"
    assert marker.message == (
        "log output truncated: this script may log at most 400 bytes per execution"
    )


def test_log_fields_that_are_not_json_are_kept_as_repr(harness: ExecutorHarness):
    source = """
def handle(req, ctx):
    ctx.log.warning("odd", when=object, data=b"ab", n=1)
    return "ok"
"""
    (line,) = harness.invoke(source).logs
    assert (line.level, line.fields["n"], line.fields["when"]) == ("warning", 1, "<class 'object'>")
    assert isinstance(line.fields["data"], str)


@pytest.mark.parametrize(
    "body",
    [
        "while True:\n        pass",
        "time.sleep(60)",
        "ctypes.CDLL(None).pause()",  # a C call that never returns
    ],
)
def test_the_timeout_ends_any_script_and_the_next_request_is_served(
    harness: ExecutorHarness, body: str
):
    app = fresh_app()
    source = f"import ctypes, time\n\ndef handle(req):\n    {body}\n"
    result = harness.invoke(source, app=app, limits=Limits(timeout_ms=300))
    assert (result.outcome, result.status, result.body) == ("timeout", 504, b"")
    assert result.error == "timed out after 300 ms"
    assert harness.invoke(HELLO, app=app).outcome == "ok"


def test_exhausting_memory_is_507_and_the_worker_is_replaced(harness: ExecutorHarness):
    app = fresh_app()
    source = "def handle(req):\n    return len(bytearray(200 * 1024 * 1024))\n"
    result = harness.invoke(source, app=app, limits=Limits(memory_mb=64))
    assert (result.outcome, result.status, result.body) == ("memory", 507, b"")
    assert "memory limit of 64 MB" in result.error
    assert "MemoryError" in result.error
    assert harness.invoke(HELLO, app=app, limits=Limits(memory_mb=64)).outcome == "ok"


def test_a_body_over_max_response_bytes_is_502(harness: ExecutorHarness):
    result = harness.invoke(
        "def handle(req):\n    return 'x' * 5000\n", limits=Limits(max_response_bytes=4096)
    )
    assert (result.outcome, result.status, result.body) == ("invalid_response", 502, b"")
    assert result.error == "response body of 5000 bytes exceeds max_response_bytes 4096"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("os._exit(3)", "worker exited with status 3"),
        ("ctypes.string_at(0)", "worker exited with signal 11 (SIGSEGV)"),
    ],
)
def test_a_crashed_worker_is_502_and_the_next_request_gets_a_fresh_one(
    harness: ExecutorHarness, body: str, error: str
):
    app = fresh_app()
    assert harness.invoke(HELLO, app=app).outcome == "ok"
    (first_pid,) = harness.worker_pids(app)
    result = harness.invoke(f"import ctypes, os\n\ndef handle(req):\n    {body}\n", app=app)
    assert (result.outcome, result.status, result.body) == ("crashed", 502, b"")
    assert result.error.startswith(error)
    assert harness.invoke(HELLO, app=app).outcome == "ok"
    assert harness.worker_pids(app) != [first_pid]


def test_a_segfault_error_carries_the_python_stack(harness: ExecutorHarness):
    source = "import ctypes\n\ndef handle(req):\n    ctypes.string_at(0)\n"
    result = harness.invoke(source, name="segv")
    assert result.outcome == "crashed"
    assert "Fatal Python error: Segmentation fault" in result.error
    assert 'File "<script segv v1>", line 4 in handle' in result.error


def test_a_new_version_takes_effect_on_the_next_request_in_the_same_worker(
    harness: ExecutorHarness,
):
    app, script = fresh_app(), "versioned"
    source = "loads = []\nloads.append(1)\n\ndef handle(req):\n    return ['{v}', len(loads)]\n"
    first = harness.invoke(source.format(v="one"), app=app, script=script, version=1)
    again = harness.invoke(source.format(v="one"), app=app, script=script, version=1)
    pids = harness.worker_pids(app)
    second = harness.invoke(source.format(v="two"), app=app, script=script, version=2)
    assert [json.loads(r.body) for r in (first, again, second)] == [
        ["one", 1],
        ["one", 1],  # top-level code ran once for the version
        ["two", 1],
    ]
    assert harness.worker_pids(app) == pids  # no restart needed


def test_apps_never_share_a_worker(harness: ExecutorHarness):
    source = "import os\n\ndef handle(req):\n    return os.getpid()\n"
    a, b = fresh_app(), fresh_app()
    harness.invoke(source, app=a)
    harness.invoke(source, app=b)
    assert set(harness.worker_pids(a)).isdisjoint(harness.worker_pids(b))
    assert len(harness.worker_pids(a)) == len(harness.worker_pids(b)) == 1


def test_a_worker_keeps_the_memory_limit_it_was_bound_with(harness: ExecutorHarness):
    app = fresh_app()
    harness.invoke(HELLO, app=app, limits=Limits(memory_mb=64))
    harness.invoke(HELLO, app=app, limits=Limits(memory_mb=128))
    assert len(harness.worker_pids(app)) == 2


def test_max_concurrency_refuses_the_extra_invocation(harness: ExecutorHarness):
    limits = Limits(max_concurrency=1)
    job = invocation(SLEEPER, app=fresh_app(), script="one-at-a-time", query="s=1", limits=limits)
    other = invocation(SLEEPER, app=job.app_id, script="one-at-a-time", limits=limits)
    first, second = harness.invoke_all(job, other)
    assert first.outcome == "ok"
    assert isinstance(second, ExecutorOverloaded)
    assert second.retry_after == 1


def test_a_new_app_gets_a_booted_spare_and_a_replacement_boots(tmp_path: Path):
    with started_executor(executor_settings(tmp_path, spare_workers=1)) as harness:
        stats = harness.executor.stats()
        assert stats["spares"] == 1
        (spare_pid,) = harness.worker_pids(state="spare")
        result = harness.invoke(HELLO, app="first")
        assert result.outcome == "ok"
        assert harness.worker_pids("first") == [spare_pid]
        harness.wait_until(lambda: harness.executor.stats()["spares"] == 1)
        stats = harness.executor.stats()
        assert (stats["spare_hits"], stats["cold_starts"]) == (1, 1)
        assert harness.worker_pids(state="spare") != [spare_pid]


def test_without_spares_a_worker_is_spawned_on_demand(tmp_path: Path):
    with started_executor(executor_settings(tmp_path, spare_workers=0)) as harness:
        assert harness.executor.stats()["workers"] == []
        assert harness.invoke(HELLO).outcome == "ok"
        assert harness.executor.stats()["spawns"] == 1


def test_a_full_app_pool_waits_briefly_then_refuses(tmp_path: Path):
    settings = executor_settings(tmp_path, workers_per_app=1, spare_workers=0)
    with started_executor(settings) as harness:
        quick = [invocation(SLEEPER, query="s=0.1") for _ in range(2)]
        assert [r.outcome for r in harness.invoke_all(*quick)] == ["ok", "ok"]
        slow = [invocation(SLEEPER, query="s=3") for _ in range(2)]
        first, second = harness.invoke_all(*slow)
        assert first.outcome == "ok"
        assert isinstance(second, ExecutorOverloaded)


@pytest.fixture
def always_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    """Queue behind a busy worker however slow this machine answers, so that tests of what
    happens to queued invocations do not depend on its speed."""
    monkeypatch.setattr(pool_module, "QUEUE_BUDGET_MS", 60_000.0)


def warm_up(harness: ExecutorHarness, app: str) -> None:
    """Enough quick invocations for the app's worker to know they take well under 5 ms, and
    the sleeper and crasher loaded (nothing is queued behind a version being loaded)."""
    assert harness.invoke(SLEEPER, app=app, script="sleeper", query="s=0").outcome == "ok"
    assert harness.invoke(CRASHER, app=app, script="crasher").outcome == "ok"
    for _ in range(40):
        assert harness.invoke(FAST, app=app, script="fast").outcome == "ok"


def test_fast_invocations_queue_in_a_busy_worker_instead_of_starting_more(tmp_path: Path):
    with started_executor(executor_settings(tmp_path, spare_workers=0)) as harness:
        warm_up(harness, "quick")
        burst = [invocation(FAST, app="quick", script="fast") for _ in range(8)]
        assert [r.outcome for r in harness.invoke_all(*burst)] == ["ok"] * 8
        # Without pipelining the burst would start workers_per_app (4) of them; how many fewer
        # depends on how fast this machine answers (usually one or two).
        assert harness.executor.stats()["spawns"] < 4


def test_slow_invocations_spread_over_workers(tmp_path: Path):
    with started_executor(executor_settings(tmp_path, spare_workers=0)) as harness:
        assert harness.invoke(SLEEPER, app="slow", script="sleeper", query="s=0.2").outcome == "ok"
        calls = [invocation(SLEEPER, app="slow", script="sleeper", query="s=1") for _ in range(3)]
        assert [r.outcome for r in harness.invoke_all(*calls)] == ["ok"] * 3
        assert len(harness.worker_pids("slow")) == 3


@pytest.mark.parametrize(
    ("script", "query", "limits", "outcome"),
    [
        ("sleeper", "s=30", Limits(timeout_ms=500), "timeout"),
        ("crasher", "crash=1", Limits(), "crashed"),
    ],
    ids=["timeout", "crash"],
)
def test_invocations_queued_behind_a_failure_run_in_another_worker(
    tmp_path: Path, script: str, query: str, limits: Limits, outcome: str, always_queue: None
):
    settings = executor_settings(tmp_path, spare_workers=0, workers_per_app=1)
    with started_executor(settings) as harness:
        warm_up(harness, "app")
        source = {"sleeper": SLEEPER, "crasher": CRASHER}[script]
        failing = invocation(source, app="app", script=script, query=query, limits=limits)
        queued = [invocation(FAST, app="app", script="fast") for _ in range(3)]
        results = harness.invoke_all(failing, *queued)
        assert results[0].outcome == outcome
        assert [r.outcome for r in results[1:]] == ["ok"] * 3
        assert harness.executor.stats()["resent"] == 3


def test_a_queued_invocation_keeps_its_own_response_limit(tmp_path: Path, always_queue: None):
    settings = executor_settings(tmp_path, spare_workers=0, workers_per_app=1)
    with started_executor(settings) as harness:
        warm_up(harness, "app")
        big_header = "def handle(req):\n    return ('x', 200, {'x-big': 'a' * 1_000_000})\n"
        small = Limits(max_response_bytes=1024, max_log_bytes=1024)
        # Both answers arrive together; the second is over its own limit, not the first's.
        first, second = harness.invoke_all(
            invocation(FAST, app="app", script="fast"),
            invocation(big_header, app="app", limits=small),
        )
        assert first.outcome == "ok"
        assert (second.outcome, second.status) == ("invalid_response", 502)
        assert "exceeds max_response_bytes 1024" in second.error
        assert harness.executor.stats()["resent"] == 0


def test_nothing_is_queued_behind_a_new_version_loading(tmp_path: Path):
    settings = executor_settings(tmp_path, spare_workers=0)
    with started_executor(settings) as harness:
        warm_up(harness, "app")
        slow_to_load = "import time\ntime.sleep(1)\n\ndef handle(req):\n    return 'loaded'\n"
        results = harness.invoke_all(
            invocation(slow_to_load, app="app"),
            *[invocation(FAST, app="app", script="fast") for _ in range(4)],
        )
        assert [r.outcome for r in results] == ["ok"] * 5
        # The fast ones went to another worker instead of waiting out the top-level code.
        assert len(harness.worker_pids("app")) >= 2


def test_closing_with_invocations_queued_starts_nothing_new(tmp_path: Path):
    settings = executor_settings(tmp_path, spare_workers=0, workers_per_app=2)
    with started_executor(settings) as harness:
        warm_up(harness, "app")
        executor = harness.executor

        async def close_while_busy() -> list[object]:
            calls = [
                asyncio.ensure_future(executor.invoke(invocation(SLEEPER, app="app", query="s=5")))
            ]
            calls += [
                asyncio.ensure_future(executor.invoke(invocation(FAST, app="app", script="fast")))
                for _ in range(6)
            ]
            await asyncio.sleep(0.2)
            await executor.aclose()
            return await asyncio.gather(*calls, return_exceptions=True)

        outcomes = harness.run(close_while_busy())
        assert all(
            isinstance(o, ExecutorOverloaded) or o.outcome in ("ok", "crashed") for o in outcomes
        )
        assert harness.executor.stats()["workers"] == []


def test_a_caller_leaving_while_queued_does_not_stop_the_running_invocation(
    tmp_path: Path, always_queue: None
):
    settings = executor_settings(tmp_path, spare_workers=0, workers_per_app=1)
    with started_executor(settings) as harness:
        warm_up(harness, "app")
        (pid,) = harness.worker_pids("app")

        async def leave_while_queued() -> str:
            running = asyncio.ensure_future(
                harness.executor.invoke(
                    invocation(SLEEPER, app="app", script="sleeper", query="s=0.3")
                )
            )
            queued = asyncio.ensure_future(
                harness.executor.invoke(invocation(FAST, app="app", script="fast"))
            )
            await asyncio.sleep(0.1)
            queued.cancel()
            return (await running).outcome

        assert harness.run(leave_while_queued()) == "ok"
        assert harness.invoke(FAST, app="app", script="fast").outcome == "ok"
        assert harness.worker_pids("app") == [pid]


def test_idle_workers_are_stopped_after_worker_idle_seconds(tmp_path: Path):
    settings = executor_settings(tmp_path, worker_idle_seconds=1, spare_workers=0)
    with started_executor(settings) as harness:
        harness.invoke(HELLO, app="sleepy")
        (pid,) = harness.worker_pids("sleepy")
        harness.wait_until(lambda: not harness.worker_pids("sleepy"))
        assert harness.executor.stats()["reaped"] == 1
        # Killed when it leaves the pool; its exit may take a moment more to be reaped.
        harness.wait_until(lambda: not Path(f"/proc/{pid}").exists())
        assert harness.invoke(HELLO, app="sleepy").outcome == "ok"  # and started again


def test_aclose_kills_every_worker_and_leaves_no_zombies(tmp_path: Path):
    with started_executor(executor_settings(tmp_path, spare_workers=2)) as harness:
        harness.invoke(SLEEPER, app="a", query="s=0")
        harness.invoke(SLEEPER, app="b", query="s=0")
        harness.wait_until(lambda: harness.executor.stats()["spares"] == 2)
        pids = harness.worker_pids()
        assert len(pids) == 4
    assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()]
    assert zombie_children() == []


def zombie_children() -> list[int]:
    zombies = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # "pid (comm) state ppid ...": comm may hold spaces, so split after its ")".
            state, ppid = stat.read_text().rpartition(")")[2].split()[:2]
        except OSError:
            continue
        if state == "Z" and int(ppid) == os.getpid():
            zombies.append(int(stat.parent.name))
    return zombies


def test_describe_reports_the_sandbox(harness: ExecutorHarness):
    assert harness.executor.describe() == {"sandbox": "strict"}
