"""One worker process as the host sees it: start and boot it, bind it, run invocations, kill it.

All I/O is event-driven on the server's loop: the channel, the console pipe (the worker's
fds 1 and 2) and a pidfd for the process's exit are watched with `add_reader`, so a worker
waiting for work costs the host nothing. The host trusts nothing the worker sends: a frame out
of turn, an unknown field or an oversized frame kills the worker.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import fcntl
import json
import math
import os
import signal
import subprocess
import termios
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec

from picloud.executor.interface import LogLine
from picloud.executor.log_collector import LEVELS, LogCollector
from picloud.executor.runtime.protocol import (
    Bind,
    FrameEncoder,
    FrameReader,
    FrameTooLarge,
    Invoke,
    Log,
    Ready,
    Result,
    WorkerFrame,
)
from picloud.executor.sandbox import LaunchPlan

BOOT_TIMEOUT_SECONDS = 30
#: Room in a frame beyond the response body or one log line: headers, the error text.
FRAME_HEADROOM = 512 * 1024
#: How much of the worker's raw console output an error keeps (a crash's stack dump).
CONSOLE_TAIL_CHARS = 8192
#: Outcomes a worker may report; timeouts and crashes are the host's to decide.
WORKER_OUTCOMES = frozenset({"ok", "error", "memory", "invalid_response"})
MIB = 1024 * 1024
#: What a new worker's time per invocation is taken to be until it has measured its own:
#: pessimistic, so that a new app's first requests spread over workers.
INITIAL_SERVICE_MS = 10.0
#: The weight of the latest invocation in that moving average.
SERVICE_SMOOTHING = 0.2
#: One read of the channel; a shorter read means the pipe is empty.
CHANNEL_READ_BYTES = 1 << 18


class NotStarted(Exception):
    """The invocation never started: its worker stopped (or was unfit) before reaching it, so
    it may be sent to another worker."""


class WorkerFailed(Exception):
    """The worker stopped (or was stopped) before it answered."""

    def __init__(self, outcome: str, error: str):
        super().__init__(error)
        self.outcome = outcome
        self.error = error


@dataclass(eq=False, slots=True)
class _Pending:
    """An invocation sent to a worker and not yet answered."""

    answer: asyncio.Future[Execution]
    timeout_ms: int
    max_response_bytes: int
    max_log_bytes: int
    loads_source: bool = False  # a version new to the worker: compiled, top-level code run
    logs: LogCollector | None = None  # from the moment it starts running
    timer: asyncio.TimerHandle | None = None
    started: float = 0.0  # loop time
    #: The largest frame its answer may take: the body, or a log line, plus headroom. Checked
    #: for every frame, so worked out once.
    frame_limit: int = field(init=False)

    def __post_init__(self) -> None:
        self.frame_limit = max(self.max_response_bytes, 4 * self.max_log_bytes) + FRAME_HEADROOM


@dataclass
class Execution:
    outcome: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    error: str | None
    logs: list[LogLine]


class Worker:
    """`Worker.spawn(plan)`, `await ready()`; then `bind()` once and `submit()` invocations."""

    def __init__(self, plan: LaunchPlan, process: subprocess.Popen, fds: dict[str, int]):
        self._loop = asyncio.get_running_loop()
        self._plan = plan
        self.process = process
        #: The host pid of the process running scripts (inside bwrap in strict mode).
        self.pid = process.pid
        self.app_id: str | None = None
        self.memory_mb: int | None = None
        #: Script id -> the version whose source this worker has been sent.
        self.sent_versions: dict[str, int] = {}
        self.cpu_seconds = 0.0
        #: Moving average of an invocation's time, start to answer, as the host sees it.
        self.service_ms = INITIAL_SERVICE_MS
        #: Called with the outcome each time an invocation ends, answered or not.
        self.on_settled: Callable[[str], None] | None = None
        #: Resolves with a description once the process has exited and been reaped.
        self.exited: asyncio.Future[str] = self._loop.create_future()
        self._fds = fds
        self._outbox = bytearray()
        self._waiting_writable = False  # the pipe was full: add_writer is waiting on it
        self._encoder = FrameEncoder()
        self._decoder = msgspec.msgpack.Decoder(WorkerFrame)
        self._reader = FrameReader(FRAME_HEADROOM)
        self._booting: asyncio.Future[Ready] | None = None
        self._inflight: deque[_Pending] = deque()
        self._loading = 0  # invocations in flight that carry a version's source
        self._stopped_for: _Pending | None = None  # the invocation the host killed it over
        self._channel_broken = False  # the worker broke the protocol: read nothing more
        self._exiting = False
        self._console_tail = ""
        self._waiting = array.array("i", [0])  # FIONREAD's answer
        self._failure: WorkerFailed | None = None  # decided by the host before it kills
        self._process_fd = os.pidfd_open(process.pid)
        # In strict mode the process is bwrap; the worker inside is killed once its pid is known.
        self._kill_fd: int | None = None if plan.wrapper else self._process_fd
        self._info = b""
        if "info" in fds:
            self._loop.add_reader(fds["info"], self._on_info)
        self._loop.add_reader(fds["channel"], self._on_channel)
        self._loop.add_reader(fds["console"], self._on_console)
        self._loop.add_reader(self._process_fd, self._on_exit)

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    def spawn(cls, plan: LaunchPlan) -> Worker:
        """Start a worker process and send it its boot frame; `await ready()` next."""
        to_worker, host_writes = os.pipe()
        host_reads, from_worker = os.pipe()
        console_read, console_write = os.pipe()
        info_read, info_write = os.pipe() if plan.wrapper else (None, None)
        passed = [fd for fd in (to_worker, from_worker, info_write) if fd is not None]
        fds = {"send": host_writes, "channel": host_reads, "console": console_read}
        if info_read is not None:
            fds["info"] = info_read
        try:
            process = subprocess.Popen(
                plan.argv(to_worker, from_worker, info_write),
                stdin=subprocess.DEVNULL,
                stdout=console_write,
                stderr=console_write,
                pass_fds=passed,
                env=plan.env,
                start_new_session=True,  # terminal signals (Ctrl-C) are for the server
            )
        except OSError:
            for fd in fds.values():
                os.close(fd)
            raise
        finally:
            for fd in (*passed, console_write):
                os.close(fd)
        for fd in fds.values():
            os.set_blocking(fd, False)
        worker = cls(plan, process, fds)
        worker._booting = worker._loop.create_future()
        worker._send(plan.boot)
        return worker

    async def ready(self) -> None:
        """Wait until the worker is sealed and ready; raises WorkerFailed (and kills it when
        it is too slow or the wait is cancelled)."""
        try:
            async with asyncio.timeout(BOOT_TIMEOUT_SECONDS):
                await self._booting
        except TimeoutError:
            self.kill("crashed", f"worker did not start within {BOOT_TIMEOUT_SECONDS} s")
            raise self._failure from None
        except asyncio.CancelledError:
            self.kill()
            raise
        finally:
            self._booting = None

    def bind(self, app_id: str, app_slug: str, memory_mb: int) -> None:
        """Bind this worker to an app for life; its address space is capped at `memory_mb`."""
        self.app_id = app_id
        self.memory_mb = memory_mb
        self._send(Bind(app_id, app_slug, memory_mb * MIB))

    @property
    def alive(self) -> bool:
        return not (self.exited.done() or self._exiting) and self._failure is None

    def kill(self, outcome: str | None = None, error: str | None = None) -> None:
        """SIGKILL the worker; a given outcome is what a running invocation reports."""
        if outcome is not None and error is not None and self._failure is None:
            self._failure = WorkerFailed(outcome, error)
        # Until bwrap has said which pid the worker has, killing bwrap kills the worker too
        # (--die-with-parent), at the price of the worker's own exit status.
        target = self._kill_fd if self._kill_fd is not None else self._process_fd
        if target is not None:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(target, signal.SIGKILL)

    # -- invocations -------------------------------------------------------------------------

    @property
    def load(self) -> int:
        """Invocations sent to this worker and not yet answered (the first one is running)."""
        return len(self._inflight)

    def submit(
        self, invoke: Invoke, *, timeout_ms: int, max_response_bytes: int, max_log_bytes: int
    ) -> asyncio.Future[Execution]:
        """Send an invocation; the future resolves with its execution, or with `NotStarted`.

        Invocations are pipelined: one sent while another runs waits in the channel, so the
        worker starts it without a round trip through the host. The worker runs them strictly
        in order, which is what makes a failure attributable: the first unanswered invocation
        is the one that was running, and the ones behind it never started.
        """
        answer: asyncio.Future[Execution] = self._loop.create_future()
        if not self.alive:
            answer.set_exception(NotStarted())
            return answer
        pending = _Pending(answer, timeout_ms, max_response_bytes, max_log_bytes)
        pending.loads_source = invoke.source is not None
        self._loading += pending.loads_source
        self._inflight.append(pending)
        # While invocations are queued the bound is the largest any of them allows.
        self._reader.limit = max(self._reader.limit, pending.frame_limit)
        self._send(invoke)
        if len(self._inflight) == 1:
            self._start(pending)
        return answer

    def expected_wait_ms(self, now: float) -> float:
        """How long an invocation sent now would wait before it starts, by the average time
        per invocation, and at least as long as the running one has run so far. Unknown (
        infinite) while a new version is loading: its top-level code may take any time."""
        if not self._inflight:
            return 0.0
        if self._loading:
            return math.inf
        running_for = (now - self._inflight[0].started) * 1000
        return max(len(self._inflight) * self.service_ms, running_for)

    def abandon(self, answer: asyncio.Future[Execution]) -> None:
        """The caller of `answer` went away. If its invocation is running, the worker is
        stopped (what is queued behind it goes to another worker); if it is still queued, it
        runs and its answer is dropped."""
        self._read_waiting_frames()  # it may have answered already
        if self._inflight and self._inflight[0].answer is answer:
            self._stop_for(self._inflight[0], "crashed", "stopped: the caller went away")

    def _start(self, pending: _Pending) -> None:
        pending.started = self._loop.time()
        pending.logs = LogCollector(pending.max_log_bytes)
        # A plain timer rather than asyncio.timeout(): this runs once per request, and the
        # timeout's task lookup and rescheduling cost more than the rest of the hand-off.
        pending.timer = self._loop.call_later(pending.timeout_ms / 1000, self._time_out, pending)

    def _finish(self, result: Result) -> None:
        pending = self._inflight.popleft()
        pending.timer.cancel()
        self._loading -= pending.loads_source
        took_ms = (self._loop.time() - pending.started) * 1000
        self.service_ms += (took_ms - self.service_ms) * SERVICE_SMOOTHING
        # Anything written to fds 1/2 before the result frame is already in the pipe. Its place
        # among the channel's lines is approximate: two pipes have no common order.
        self._drain_console(into=pending.logs)
        self.cpu_seconds = result.cpu_seconds
        if not pending.answer.done():  # not abandoned by a cancelled caller
            pending.answer.set_result(
                Execution(
                    result.outcome,
                    result.status,
                    result.headers,
                    result.body,
                    result.error,
                    pending.logs.lines,
                )
            )
        if not self._inflight:
            self._reader.limit = FRAME_HEADROOM
        else:
            self._start(self._inflight[0])
        if self.on_settled is not None:
            self.on_settled(result.outcome)

    def _fail_inflight(self, failure: WorkerFailed) -> None:
        """Once the worker has exited and its last frames are read: the invocation it was
        running ends with `failure`, those behind it never started."""
        if not self._inflight:
            return
        for index, pending in enumerate(self._inflight):
            if pending.timer is not None:
                pending.timer.cancel()
            if pending.answer.done():
                continue
            if index == 0:
                ended = failure
                if self._stopped_for not in (None, pending):
                    # It started after the one the host stopped the worker over had answered.
                    ended = WorkerFailed("crashed", f"its worker was stopped: {failure.error}")
                pending.answer.set_result(_failed(ended, pending))
            else:
                pending.answer.set_exception(NotStarted())
        self._inflight.clear()
        self._loading = 0
        if self.on_settled is not None:
            self.on_settled(failure.outcome)

    def _time_out(self, pending: _Pending) -> None:
        self._read_waiting_frames()  # a busy loop may run the timer after the answer came
        if self._inflight and self._inflight[0] is pending:
            self._stop_for(pending, "timeout", f"timed out after {pending.timeout_ms} ms")

    def _stop_for(self, pending: _Pending, outcome: str, error: str) -> None:
        """Kill the worker over its running invocation, which gets its answer now. Those
        behind it are settled when the worker has exited and its last frames are read: the
        running one may have answered meanwhile, and the next one started."""
        self.kill(outcome, error)
        self._stopped_for = pending
        if not pending.answer.done():
            pending.answer.set_result(_failed(WorkerFailed(outcome, error), pending))
        if self.on_settled is not None:
            self.on_settled(outcome)

    # -- channel -----------------------------------------------------------------------------

    def _send(self, frame: msgspec.Struct) -> None:
        """Queue a frame; frames sent in one turn of the event loop go in one write. Each write
        to an idle worker wakes it, and a wake-up costs the host more than the rest of the
        hand-off (docs/benchmarks.md)."""
        if self.exited.done():
            return
        if not self._outbox and not self._waiting_writable:
            self._loop.call_soon(self._flush)
        self._encoder.encode_into(frame, self._outbox)

    def _flush(self) -> None:
        if not self._outbox or "send" not in self._fds:
            return
        try:
            del self._outbox[: os.write(self._fds["send"], self._outbox)]
        except BlockingIOError:
            pass
        except BrokenPipeError:
            self._outbox.clear()  # a dead worker is noticed through its exit
        if self._outbox and not self._waiting_writable:
            self._loop.add_writer(self._fds["send"], self._flush)
            self._waiting_writable = True
        elif not self._outbox and self._waiting_writable:
            self._loop.remove_writer(self._fds["send"])
            self._waiting_writable = False

    def _read_waiting_frames(self) -> None:
        if "channel" in self._fds and not self._channel_broken:
            self._on_channel()

    def _on_channel(self) -> None:
        """Read and handle every frame waiting on the channel (non-blocking). Frames that
        arrive after the host decided to kill the worker still count: they say how far it got."""
        while not self._channel_broken:
            try:
                data = os.read(self._fds["channel"], CHANNEL_READ_BYTES)
            except BlockingIOError:
                return
            if not data:
                # The worker died, or closed its end and is killed; its exit status tells which.
                self._loop.remove_reader(self._fds["channel"])
                if self._kill_fd is not None:
                    self.kill()
                return
            oversized: FrameTooLarge | None = None
            try:
                payloads = self._reader.feed(data)
            except FrameTooLarge as exc:
                payloads, oversized = exc.complete, exc  # the frames before it still count
            for payload in payloads:
                try:
                    frame = self._decoder.decode(payload)
                except msgspec.MsgspecError as exc:
                    self._violation(f"undecodable frame ({exc})")
                    return
                self._accept(frame, len(payload))
                if self._channel_broken:
                    return
            if oversized is not None:
                self._refuse_oversized(oversized)
                return
            if len(data) < CHANNEL_READ_BYTES:
                return  # a short read emptied the pipe: no need for a read that fails

    def _accept(self, frame: Ready | Log | Result, size: int) -> None:
        if isinstance(frame, Log | Result) and self._inflight:
            # The reader's bound is the largest of the queued invocations'; this one's own
            # may be smaller.
            limit = self._inflight[0].frame_limit
            if size > limit:
                self._refuse_oversized(FrameTooLarge(size, limit))
                return
        if isinstance(frame, Log) and self._inflight:
            if frame.level not in LEVELS:
                self._violation(f"unknown log level {frame.level!r}")
                return
            self._inflight[0].logs.add(frame.level, frame.message, frame.fields, size=size)
        elif isinstance(frame, Result) and self._inflight:
            problem = _result_problem(frame)
            if problem:
                self._violation(problem)
                return
            self._finish(frame)
        elif isinstance(frame, Ready) and self._booting is not None:
            if not self._booting.done():  # not given up on in this same loop turn
                self._booting.set_result(frame)
        else:
            self._violation(f"unexpected {type(frame).__name__.lower()} frame")

    def _violation(self, detail: str) -> None:
        self._channel_broken = True
        self._loop.remove_reader(self._fds["channel"])
        self.kill("crashed", f"worker broke the channel protocol: {detail}")

    def _refuse_oversized(self, exc: FrameTooLarge) -> None:
        self._channel_broken = True
        self._loop.remove_reader(self._fds["channel"])
        if self._inflight:
            self.kill(
                "invalid_response",
                f"response of {exc.size} bytes exceeds max_response_bytes "
                f"{self._inflight[0].max_response_bytes}",
            )
        else:
            self._violation(str(exc))

    # -- console and exit --------------------------------------------------------------------

    def _drain_console(self, into: LogCollector) -> None:
        """Read what the console pipe holds, if anything, without a read that would fail."""
        fd = self._fds.get("console")
        if fd is not None:
            fcntl.ioctl(fd, termios.FIONREAD, self._waiting)
            if self._waiting[0]:
                self._on_console(into)

    def _on_console(self, into: LogCollector | None = None) -> None:
        """Read what is waiting on the console pipe (non-blocking) into the logs and tail."""
        logs = into
        if logs is None and self._inflight:
            logs = self._inflight[0].logs
        while "console" in self._fds:  # closed once the worker has exited
            try:
                data = os.read(self._fds["console"], 65536)
            except BlockingIOError:
                return
            if not data:
                self._loop.remove_reader(self._fds["console"])
                return
            text = data.decode("utf-8", errors="replace")
            self._console_tail = (self._console_tail + text)[-CONSOLE_TAIL_CHARS:]
            if logs is not None:
                logs.add_console(text)

    def _on_exit(self) -> None:
        returncode = self.process.poll()
        if returncode is None:
            return
        self._loop.remove_reader(self._process_fd)
        self._exiting = True  # whatever its last frames say, it takes no more work
        # Frames and console output the worker wrote before it died are still in the pipes.
        if self._inflight or self._booting is not None:
            self._read_waiting_frames()
        self._on_console()
        failure = self._failure or WorkerFailed("crashed", self._describe_exit(returncode))
        if failure.outcome == "crashed" and self._console_tail.strip():
            failure = WorkerFailed("crashed", f"{failure.error}\n{self._console_tail.strip()}")
        if self._booting is not None and not self._booting.done():
            self._booting.set_exception(failure)
        self._failure = failure
        self._fail_inflight(failure)
        self._close()
        self.exited.set_result(failure.error)

    def _describe_exit(self, returncode: int) -> str:
        # bwrap reports a child killed by signal N as exit status 128 + N.
        signum = returncode - 128 if self._plan.wrapper and returncode > 128 else -returncode
        if signum > 0:
            return f"worker exited with signal {signum} ({signal.Signals(signum).name})"
        return f"worker exited with status {returncode}"

    def _on_info(self) -> None:
        """Learn the host pid of the sandboxed process from bwrap's --info-fd JSON, to kill it
        directly: killing bwrap instead would hide the worker's own exit status."""
        try:
            chunk = os.read(self._fds["info"], 65536)
        except BlockingIOError:
            return
        self._info += chunk
        try:
            pid = json.loads(self._info)["child-pid"]
        except (ValueError, KeyError):
            if chunk:
                return  # more to come
            pid = None
        self._loop.remove_reader(self._fds["info"])
        os.close(self._fds.pop("info"))
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                self._kill_fd = os.pidfd_open(pid)
                self.pid = pid

    def _close(self) -> None:
        if self._waiting_writable:
            self._loop.remove_writer(self._fds["send"])
            self._waiting_writable = False
        self._outbox.clear()
        for fd in self._fds.values():
            self._loop.remove_reader(fd)
        for fd in {*self._fds.values(), self._process_fd, self._kill_fd} - {None}:
            os.close(fd)
        self._fds.clear()
        self._kill_fd = self._process_fd = None


def _failed(failure: WorkerFailed, pending: _Pending) -> Execution:
    logs = pending.logs.lines if pending.logs is not None else []
    return Execution(failure.outcome, 0, [], b"", failure.error, logs)


def _result_problem(result: Result) -> str | None:
    if result.outcome not in WORKER_OUTCOMES:
        return f"outcome {result.outcome!r} is not the worker's to report"
    if result.outcome == "ok" and not 100 <= result.status <= 599:
        return f"status {result.status} is not an HTTP status"
    return None
