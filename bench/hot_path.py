"""PiCloud's own CPU per request, without an HTTP server or a load generator in the way.

    .venv/bin/python -m bench.hot_path [--requests N] [--profile] [--instant]

Drives the real ASGI app (`picloud.server.PiCloud`: routing, gate, strict-sandbox workers,
records, metrics) in-process on uvloop with 8 concurrent callers, and reports the server
process's CPU time per request (`time.process_time`: this process and its threads; the workers'
own CPU is theirs and not counted). On a shared machine this figure moves far less than req/s,
so it is the one each hot-path change was measured with. `--instant` swaps the worker pool for
an executor that answers at once, leaving dispatch, records and metrics; `--profile` adds a
cProfile listing of the measured requests.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import tempfile
import time
from typing import Any

import uvloop

from picloud.config import load_settings
from picloud.executor.interface import Invocation, InvocationResult, LogLine
from picloud.server import PiCloud

CALLERS = 8
WARMUP_PER_CALLER = 50
SCOPE = {
    "type": "http",
    "asgi": {"version": "3.0"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/hello",
    "raw_path": b"/hello",
    "query_string": b"",
    "root_path": "",
    "headers": [(b"host", b"localhost:8080"), (b"user-agent", b"wrk"), (b"accept", b"*/*")],
    "client": ("127.0.0.1", 40000),
    "server": ("127.0.0.1", 8080),
}


class InstantExecutor:
    """Answers like Hello World at once: what is left is PiCloud's own request path."""

    async def start(self) -> None: ...

    async def aclose(self) -> None: ...

    def describe(self) -> dict[str, Any]:
        return {"sandbox": "none (instant)"}

    def stats(self) -> dict[str, Any]:
        return {}

    async def invoke(self, invocation: Invocation) -> InvocationResult:
        return InvocationResult(
            status=200,
            headers=[("content-type", "application/json")],
            body=b'{"message":"Hello, world!"}',
            outcome="ok",
            logs=[LogLine("info", "greeting", {"name": "world"}, "2026-01-01T00:00:00.000Z")],
            error=None,
            duration_ms=0.1,
        )


async def measure(requests: int, *, instant: bool, profile: bool) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        settings = load_settings(
            {"PICLOUD_DATA_DIR": data_dir, "PICLOUD_LOG_RETENTION_COUNT": "1000000000"}
        )
        app = PiCloud(settings, executor=InstantExecutor() if instant else None)
        await app.startup()
        statuses: list[int] = []

        async def receive() -> dict:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        async def caller(count: int) -> None:
            for _ in range(count):
                await app(dict(SCOPE), receive, send)

        await asyncio.gather(*(caller(WARMUP_PER_CALLER) for _ in range(CALLERS)))
        statuses.clear()
        profiler = cProfile.Profile() if profile else None
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        await asyncio.gather(*(caller(requests // CALLERS) for _ in range(CALLERS)))
        if profiler:
            profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        await app.shutdown()
        served = len(statuses)
        print(
            f"{'instant executor' if instant else 'strict-sandbox workers'}: {served} requests, "
            f"{statuses.count(200)} ok, {1e6 * cpu / served:.1f} µs CPU per request "
            f"(server process), {served / wall:,.0f} req/s in-process"
        )
        if profiler:
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=8_000)
    parser.add_argument("--instant", action="store_true", help="no workers: dispatch alone")
    parser.add_argument("--profile", action="store_true", help="print a cProfile listing")
    arguments = parser.parse_args()
    uvloop.run(measure(arguments.requests, instant=arguments.instant, profile=arguments.profile))


if __name__ == "__main__":
    main()
