"""The seam between dispatch and whatever runs scripts.

The orchestrator only ever sees `Executor.invoke(Invocation) -> InvocationResult`. The local
worker pool implements it today; a remote executor (cluster mode) or a test double can replace it
without touching dispatch, the way an httpx transport replaces another.
"""

from __future__ import annotations

from typing import Any, Protocol

import msgspec

from picloud.core.limits import Limits

#: Outcomes an execution record can carry (SPEC section 6).
OUTCOMES = ("ok", "error", "timeout", "memory", "crashed", "invalid_response")

#: The HTTP status each non-ok outcome answers with.
OUTCOME_STATUS = {
    "error": 500,
    "timeout": 504,
    "memory": 507,
    "crashed": 502,
    "invalid_response": 502,
}


class ScriptRef(msgspec.Struct, frozen=True):
    id: str
    app_id: str
    name: str
    version: int
    source: str
    handler: str
    limits: Limits


class Invocation(msgspec.Struct):
    execution_id: str
    app_id: str
    app_slug: str
    script: ScriptRef
    invocation: str  # "http" or "execute" (later "cron", "event")
    method: str
    url: str
    path: str
    host: str
    headers: list[tuple[str, str]]
    query_string: str
    params: dict[str, str]
    rest: str | None
    body: bytes


class LogLine(msgspec.Struct):
    level: str
    message: str
    fields: dict[str, Any]
    at: str  # ISO 8601, UTC


class InvocationResult(msgspec.Struct):
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    outcome: str
    logs: list[LogLine]
    error: str | None
    duration_ms: float


class ExecutorOverloaded(Exception):
    """The script's own concurrency limit or its app's worker pool is full; answer 503."""

    def __init__(self, retry_after: int = 1):
        super().__init__("executor overloaded")
        self.retry_after = retry_after


class Executor(Protocol):
    async def start(self) -> None: ...

    async def invoke(self, invocation: Invocation) -> InvocationResult: ...

    async def aclose(self) -> None: ...

    def describe(self) -> dict[str, Any]:
        """Facts for /version, e.g. {"sandbox": "strict"}."""
        ...

    def stats(self) -> dict[str, Any]:
        """Live figures for metrics: `apps` ({app_id: {"workers": n, ...}}), `spares`,
        `cold_starts`."""
        ...
