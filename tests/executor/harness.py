"""Drive a real `WorkerPoolExecutor` (real sandboxed worker processes) from synchronous tests.

`started_executor(settings)` starts one on a private event loop; `harness.invoke(source, ...)`
runs a script through it and returns the `InvocationResult` a user's response is made from.
Imported by tests/executor and tests/sandbox as `executor.harness` (tests/ is on sys.path).
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

from picloud.config import Settings, load_settings
from picloud.core.limits import Limits
from picloud.executor.interface import Invocation, InvocationResult, ScriptRef
from picloud.executor.pool import WorkerPoolExecutor

T = TypeVar("T")

needs_bubblewrap = pytest.mark.skipif(
    shutil.which("bwrap") is None, reason="bubblewrap (bwrap) is not installed"
)


def executor_settings(data_dir: Path, sandbox: str = "strict", **env: str) -> Settings:
    """Settings for a test executor; `env` takes PICLOUD_* names without the prefix."""
    values = {"PICLOUD_DATA_DIR": str(data_dir), "PICLOUD_SANDBOX": sandbox}
    values.update({f"PICLOUD_{name.upper()}": str(value) for name, value in env.items()})
    return load_settings(values)


def invocation(
    source: str,
    *,
    app: str = "app-a",
    script: str | None = None,
    name: str = "test",
    version: int = 1,
    handler: str = "handle",
    limits: Limits | None = None,
    method: str = "GET",
    path: str = "/",
    query: str = "",
    headers: list[tuple[str, str]] | None = None,
    params: dict[str, str] | None = None,
    rest: str | None = None,
    body: bytes = b"",
) -> Invocation:
    """An invocation of `source`; the script id defaults to a fresh one, the app to 'app-a'."""
    script_id = script or f"script-{uuid.uuid4().hex[:8]}"
    query_part = f"?{query}" if query else ""
    return Invocation(
        execution_id=str(uuid.uuid4()),
        app_id=app,
        app_slug=app,
        script=ScriptRef(
            id=script_id,
            app_id=app,
            name=name,
            version=version,
            source=source,
            handler=handler,
            limits=limits or Limits(),
        ),
        invocation="http",
        method=method,
        url=f"http://localhost{path}{query_part}",
        path=path,
        host="localhost",
        headers=headers or [("host", "localhost")],
        query_string=query,
        params=params or {},
        rest=rest,
        body=body,
    )


class ExecutorHarness:
    def __init__(self, executor: WorkerPoolExecutor, loop: asyncio.AbstractEventLoop):
        self.executor = executor
        self.loop = loop

    def run(self, awaitable: Awaitable[T]) -> T:
        return self.loop.run_until_complete(awaitable)

    def invoke(self, source: str, **fields: Any) -> InvocationResult:
        return self.run(self.executor.invoke(invocation(source, **fields)))

    def invoke_all(self, *invocations: Invocation) -> list[InvocationResult | BaseException]:
        """Invoke concurrently; exceptions (ExecutorOverloaded) are returned, not raised."""

        async def all_of() -> list[InvocationResult | BaseException]:
            calls = [self.executor.invoke(i) for i in invocations]
            return await asyncio.gather(*calls, return_exceptions=True)

        return self.run(all_of())

    def wait_until(self, condition: Any, timeout: float = 30) -> None:
        """Let the executor's loop run until `condition()` holds (e.g. a worker was reaped)."""

        async def poll() -> None:
            async with asyncio.timeout(timeout):
                while not condition():
                    await asyncio.sleep(0.05)

        self.run(poll())

    def worker_pids(self, app: str | None = None, state: str | None = None) -> list[int]:
        return [
            w["pid"]
            for w in self.executor.stats()["workers"]
            if (app is None or w["app_id"] == app) and (state is None or w["state"] == state)
        ]


@contextmanager
def started_executor(settings: Settings) -> Iterator[ExecutorHarness]:
    loop = asyncio.new_event_loop()
    executor = WorkerPoolExecutor(settings)
    try:
        loop.run_until_complete(executor.start())
        yield ExecutorHarness(executor, loop)
    finally:
        loop.run_until_complete(executor.aclose())
        loop.close()
