"""The local executor: per-app pools of sandboxed worker processes, plus booted spares.

- A worker is bound to one app for life, runs one invocation at a time, and is stopped after
  `worker_idle_seconds` without work. An app has at most `workers_per_app` workers.
- Invocations are pipelined: a request goes first to a busy worker whose queue is expected to
  clear within `QUEUE_BUDGET_MS` (by its measured time per invocation), the busiest such one;
  else to an idle worker; else to a new one while the app has fewer than `workers_per_app`;
  else it waits briefly, then gets `ExecutorOverloaded` (503). Packing fast invocations into
  one worker is what makes them cheap: a worker with work queued in its pipe starts the next
  invocation without a wake-up, and the host reads several answers at once (see
  docs/benchmarks.md). Slow scripts spread over workers, since their queue never fits.
- Cold starts: `spare_workers` workers are kept booted, sealed and preloaded but bound to no
  app. An app's first request binds one (each worker has its own pid namespace and /tmp, so
  nothing of another app was ever in it) and a replacement boots in the background.
- A worker's address space is fixed when it is bound (scripts cannot raise a hard rlimit), so a
  worker serves the scripts of its app that share its `memory_mb`; an idle worker with another
  limit is retired to make room.
- Nothing runs while the server is idle: a spare blocks in a read, a bound idle worker has one
  timer (its reaping), and exits arrive through pidfds.
"""

from __future__ import annotations

import asyncio
import compileall
import logging
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from picloud.config import Settings
from picloud.executor.interface import (
    OUTCOME_STATUS,
    ExecutorOverloaded,
    Invocation,
    InvocationResult,
)
from picloud.executor.runtime import protocol
from picloud.executor.sandbox import LaunchPlan, SandboxUnavailable, plan_launch
from picloud.executor.worker import Execution, NotStarted, Worker, WorkerFailed

logger = logging.getLogger(__name__)

#: How long a request waits for a busy app's worker before the executor answers 503.
POOL_WAIT_SECONDS = 1.0
#: How long an invocation may be expected to wait in a busy worker's queue.
QUEUE_BUDGET_MS = 5.0
#: Invocations sent to one worker at once, whatever their expected time.
PIPELINE_DEPTH = 16
#: Times an invocation is sent again after the worker it waited in stopped before running it.
MAX_RESENDS = 3
RETRY_AFTER_SECONDS = 1
#: Outcomes after which the worker is still fit to serve; others retire it.
REUSABLE_OUTCOMES = frozenset({"ok", "error", "invalid_response"})


@dataclass(eq=False)
class AppPool:
    workers: set[Worker] = field(default_factory=set)
    idle: list[Worker] = field(default_factory=list)
    starting: int = 0
    waiters: list[asyncio.Future[None]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.workers) + self.starting

    def take_idle(self, memory_mb: int) -> Worker | None:
        for worker in reversed(self.idle):  # the most recently used is the warmest
            if worker.memory_mb == memory_mb and worker.alive:
                self.idle.remove(worker)
                return worker
        return None

    def busy_with_room(self, memory_mb: int, now: float) -> Worker | None:
        """The busiest worker whose queue is expected to clear within the budget."""
        best: Worker | None = None
        for worker in self.workers:
            load = worker.load
            if (
                0 < load < PIPELINE_DEPTH
                and (best is None or load > best.load)
                and worker.memory_mb == memory_mb
                and worker.alive
                and worker.expected_wait_ms(now) <= QUEUE_BUDGET_MS
            ):
                best = worker
        return best

    def discard(self, worker: Worker) -> None:
        self.workers.discard(worker)
        if worker in self.idle:
            self.idle.remove(worker)

    def wake_one(self) -> None:
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_result(None)
                return


class WorkerPoolExecutor:
    """The `Executor` that runs scripts in local sandboxed worker processes."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._idle_seconds: float = settings.worker_idle_seconds
        self._per_app: int = settings.workers_per_app
        self._spare_target: int = settings.spare_workers
        # RLIMIT_CPU backstop for a worker's whole life, and the point where it is retired
        # before reaching it. One invocation can use at most two timeouts' worth (two cores).
        timeout_ceiling = math.ceil(settings.limit_ceilings.timeout_ms / 1000)
        self._cpu_budget = max(60, 4 * timeout_ceiling)
        self._plan: LaunchPlan | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the server's, from start()
        self._apps: dict[str, AppPool] = {}
        self._workers: set[Worker] = set()  # every live process, whatever its state
        self._spares: list[Worker] = []
        self._booting = 0
        self._reap_timers: dict[Worker, asyncio.TimerHandle] = {}
        self._running: Counter[str] = Counter()
        self._background: set[asyncio.Task] = set()
        self._closing = False
        self._counts = dict.fromkeys(("cold_starts", "spare_hits", "spawns", "reaped", "resent"), 0)
        self._outcomes: Counter[str] = Counter()

    # -- Executor protocol ---------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        mode = self._settings.sandbox
        data_dir = Path(self._settings.data_dir)
        self._plan = plan_launch(
            mode,
            cpu_seconds=self._cpu_budget,
            data_dir=data_dir,
            private_paths=(data_dir, *_sqlite_path(self._settings)),
        )
        if mode == "weak":
            logger.warning(
                "PICLOUD_SANDBOX=weak: scripts run as plain processes of the server's user, "
                "without namespaces or seccomp; use it for development only"
            )
        await asyncio.to_thread(_precompile_runtime)
        try:
            first = await self._start_worker()
        except WorkerFailed as exc:
            if mode == "strict":
                # One line: how it ended, and the last thing it said (bwrap's complaint, or
                # the exception that stopped Python).
                lines = [line.strip() for line in exc.error.splitlines() if line.strip()]
                said = f" ({lines[-1]})" if len(lines) > 1 else ""
                reason = f"a sandboxed worker failed to start: {lines[0]}{said}"
                raise SandboxUnavailable(reason) from None
            raise
        self._adopt_spare(first)
        self._replenish()

    async def invoke(self, invocation: Invocation) -> InvocationResult:
        started = time.perf_counter()
        script = invocation.script
        if self._running[script.id] >= script.limits.max_concurrency:
            raise ExecutorOverloaded(RETRY_AFTER_SECONDS)
        self._running[script.id] += 1
        try:
            execution = await self._execute(invocation)
        finally:
            self._running[script.id] -= 1
            if not self._running[script.id]:
                del self._running[script.id]
            self._forget_if_empty(invocation.app_id)
        self._outcomes[execution.outcome] += 1
        return _invocation_result(execution, (time.perf_counter() - started) * 1000)

    async def aclose(self) -> None:
        self._closing = True
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        for timer in self._reap_timers.values():
            timer.cancel()
        self._reap_timers.clear()
        workers = list(self._workers)
        for worker in workers:
            worker.kill("crashed", "the executor is shutting down")
        await asyncio.gather(*(worker.exited for worker in workers))
        for pool in self._apps.values():
            pool.idle.clear()
            for waiter in pool.waiters:
                if not waiter.done():
                    waiter.set_result(None)
        self._spares.clear()
        self._apps.clear()

    def describe(self) -> dict[str, Any]:
        return {"sandbox": self._settings.sandbox}

    def stats(self) -> dict[str, Any]:
        """Live workers (host pid, app, state) and spares, and counters since start: cold starts
        (a worker bound to an app), spare hits, spawns, idle reapings, invocations resent after
        their worker stopped before running them, outcomes."""
        busy = {w for pool in self._apps.values() for w in pool.workers} - {
            w for pool in self._apps.values() for w in pool.idle
        }
        return {
            "sandbox": self._settings.sandbox,
            "spares": len(self._spares),
            "spares_booting": self._booting,
            "apps": {
                app_id: {"workers": len(pool.workers), "idle": len(pool.idle)}
                for app_id, pool in self._apps.items()
            },
            "workers": [
                {"pid": w.pid, "app_id": w.app_id, "state": "busy" if w in busy else "idle"}
                for pool in self._apps.values()
                for w in pool.workers
            ]
            + [{"pid": w.pid, "app_id": None, "state": "spare"} for w in self._spares],
            **self._counts,
            "outcomes": dict(self._outcomes),
        }

    # -- acquiring and releasing workers ----------------------------------------------------------

    async def _execute(self, invocation: Invocation) -> Execution:
        for _ in range(MAX_RESENDS + 1):
            try:
                worker = await self._acquire(invocation)
            except WorkerFailed as exc:
                return Execution("crashed", 0, [], b"", f"no worker could start: {exc.error}", [])
            try:
                return await self._run(worker, invocation)
            except NotStarted:
                self._counts["resent"] += 1  # its worker stopped before reaching it
                continue
        error = f"the worker stopped before running this invocation, {MAX_RESENDS + 1} times"
        return Execution("crashed", 0, [], b"", error, [])

    async def _acquire(self, invocation: Invocation) -> Worker:
        memory_mb = invocation.script.limits.memory_mb
        deadline: float | None = None  # set on the first wait: most requests find a worker
        while True:
            if self._closing:  # e.g. resent from a worker that aclose() stopped
                raise ExecutorOverloaded(RETRY_AFTER_SECONDS)
            pool = self._apps.setdefault(invocation.app_id, AppPool())
            worker = pool.busy_with_room(memory_mb, self._loop.time())
            if worker is not None:
                return worker
            worker = pool.take_idle(memory_mb)
            if worker is not None:
                timer = self._reap_timers.pop(worker, None)
                if timer is not None:
                    timer.cancel()
                return worker
            if pool.size >= self._per_app and pool.idle:
                # Only workers with another memory limit are idle: retire one to make room.
                self._retire(pool, pool.idle[0])
            if pool.size < self._per_app:
                return await self._new_worker(pool, invocation, memory_mb)
            deadline = deadline or self._loop.time() + POOL_WAIT_SECONDS
            waiter = self._loop.create_future()
            # A plain timer, not asyncio.timeout_at(): under load most requests pass here.
            expiry = self._loop.call_at(deadline, _expire, waiter)
            pool.waiters.append(waiter)
            try:
                await waiter
            finally:
                expiry.cancel()
                pool.waiters.remove(waiter)
            if self._closing:
                raise ExecutorOverloaded(RETRY_AFTER_SECONDS)

    async def _new_worker(self, pool: AppPool, invocation: Invocation, memory_mb: int) -> Worker:
        pool.starting += 1
        try:
            worker = self._take_spare()
            if worker is not None:
                self._counts["spare_hits"] += 1
                self._replenish()
            else:
                self._counts["spawns"] += 1
                worker = await self._start_worker()
        finally:
            pool.starting -= 1
        self._counts["cold_starts"] += 1
        worker.bind(invocation.app_id, invocation.app_slug, memory_mb)
        worker.on_settled = lambda outcome: self._settled(pool, worker, outcome)
        pool.workers.add(worker)
        app_id = invocation.app_id
        worker.exited.add_done_callback(lambda _: self._on_worker_exit(app_id, worker))
        return worker

    def _settled(self, pool: AppPool, worker: Worker, outcome: str) -> None:
        """An invocation of `worker` has ended (the worker calls this, whether or not anyone
        still waits for the answer): keep the worker, idle once nothing is queued in it, or
        retire it, which sends what was queued in it to other workers."""
        fit = outcome in REUSABLE_OUTCOMES and worker.cpu_seconds < self._cpu_budget / 2
        if fit and worker.alive and not self._closing and worker in pool.workers:
            if not worker.load and worker not in pool.idle:
                pool.idle.append(worker)
                self._reap_timers[worker] = self._loop.call_later(
                    self._idle_seconds, self._reap, pool, worker
                )
        elif worker.alive and worker.load:
            # The next invocation may already be running in it: it takes no more work and
            # is stopped once what was sent to it has run.
            pool.discard(worker)
        else:
            self._retire(pool, worker)
        pool.wake_one()

    def _reap(self, pool: AppPool, worker: Worker) -> None:
        self._reap_timers.pop(worker, None)
        if worker in pool.idle:
            self._counts["reaped"] += 1
            self._retire(pool, worker)

    def _retire(self, pool: AppPool, worker: Worker) -> None:
        pool.discard(worker)
        timer = self._reap_timers.pop(worker, None)
        if timer is not None:
            timer.cancel()
        worker.kill()

    def _on_worker_exit(self, app_id: str, worker: Worker) -> None:
        pool = self._apps.get(app_id)
        if pool is None:
            return
        if worker in pool.workers:
            self._retire(pool, worker)
            pool.wake_one()
        self._forget_if_empty(app_id)

    def _forget_if_empty(self, app_id: str) -> None:
        pool = self._apps.get(app_id)
        if pool is not None and not pool.size and not pool.waiters:
            del self._apps[app_id]

    # -- spares ------------------------------------------------------------------------------

    def _replenish(self) -> None:
        while not self._closing and len(self._spares) + self._booting < self._spare_target:
            self._booting += 1
            task = asyncio.get_running_loop().create_task(self._boot_spare())
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _boot_spare(self) -> None:
        try:
            worker = await self._start_worker()
        except WorkerFailed as exc:
            logger.warning("a spare worker failed to start: %s", exc.error)
            return
        finally:
            self._booting -= 1
        self._adopt_spare(worker)

    async def _start_worker(self) -> Worker:
        worker = Worker.spawn(self._plan)
        self._workers.add(worker)
        worker.exited.add_done_callback(lambda _: self._workers.discard(worker))
        await worker.ready()
        return worker

    def _adopt_spare(self, worker: Worker) -> None:
        if self._closing or len(self._spares) >= self._spare_target:
            worker.kill()
            return
        self._spares.append(worker)
        worker.exited.add_done_callback(lambda _: self._forget_spare(worker))

    def _take_spare(self) -> Worker | None:
        while self._spares:
            worker = self._spares.pop()
            if worker.alive:  # one that died a moment ago may not be forgotten yet
                return worker
        return None

    def _forget_spare(self, worker: Worker) -> None:
        if worker in self._spares:
            self._spares.remove(worker)

    # -- one invocation ----------------------------------------------------------------------

    async def _run(self, worker: Worker, invocation: Invocation) -> Execution:
        script = invocation.script
        limits = script.limits
        send_source = worker.sent_versions.get(script.id) != script.version
        invoke = protocol.Invoke(
            execution_id=invocation.execution_id,
            script_id=script.id,
            script_name=script.name,
            script_version=script.version,
            source=script.source if send_source else None,
            handler=script.handler,
            invocation=invocation.invocation,
            method=invocation.method,
            url=invocation.url,
            path=invocation.path,
            host=invocation.host,
            headers=invocation.headers,
            query_string=invocation.query_string,
            params=invocation.params,
            rest=invocation.rest,
            body=invocation.body,
            max_response_bytes=limits.max_response_bytes,
            max_log_bytes=limits.max_log_bytes,
        )
        worker.sent_versions[script.id] = script.version
        answer = worker.submit(
            invoke,
            timeout_ms=limits.timeout_ms,
            max_response_bytes=limits.max_response_bytes,
            max_log_bytes=limits.max_log_bytes,
        )
        try:
            return await answer
        except asyncio.CancelledError:
            worker.abandon(answer)  # the client went away
            raise


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(ExecutorOverloaded(RETRY_AFTER_SECONDS))


def _invocation_result(execution: Execution, duration_ms: float) -> InvocationResult:
    if execution.outcome == "ok":
        status, headers, body = execution.status, execution.headers, execution.body
    else:
        status, headers, body = OUTCOME_STATUS[execution.outcome], [], b""
    return InvocationResult(
        status=status,
        headers=headers,
        body=body,
        outcome=execution.outcome,
        logs=execution.logs,
        error=execution.error,
        duration_ms=duration_ms,
    )


def _sqlite_path(settings: Settings) -> tuple[Path, ...]:
    url = settings.resolved_database_url
    return (Path(url.removeprefix("sqlite:///")),) if url.startswith("sqlite:///") else ()


def _precompile_runtime() -> None:
    """Write the bytecode of what workers import, so each worker need not compile it."""
    package = Path(protocol.__file__).resolve().parent.parent.parent
    for directory in (package / "sdk", package / "executor" / "runtime"):
        compileall.compile_dir(directory, quiet=2)
