"""Running one invocation inside the worker: load (cached), call, render, report.

Compiled scripts are cached per script id; a new version replaces the old one on its first
request, and its top-level code runs once per worker and version. Async handlers run on the
worker's one event loop; tasks a handler leaves behind are cancelled before the next request.
"""

from __future__ import annotations

import asyncio
import builtins
import inspect
import linecache
import resource
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from picloud.executor.runtime.channel import Channel
from picloud.executor.runtime.console import Console
from picloud.executor.runtime.protocol import HEADER, Invoke, Log, Result
from picloud.sdk import SDK_VERSION
from picloud.sdk.context import AppInfo, Context, ScriptInfo
from picloud.sdk.context import Log as ContextLog
from picloud.sdk.datastructures import Headers, QueryParams
from picloud.sdk.request import Request
from picloud.sdk.response import InvalidResponse, render

#: Longest error text (traceback) sent to the host.
MAX_ERROR_CHARS = 65_536
#: How much of an over-budget log line still goes out, to tell the host the budget is spent.
OVERFLOW_PREVIEW_CHARS = 200


@dataclass(frozen=True)
class LoadedScript:
    version: int
    filename: str
    handler: Callable[..., Any]
    wants_context: bool


class LogSender:
    """The running invocation's log: frames to the host until `budget` payload bytes are spent.

    The host counts the same bytes and cuts at the same place; stopping here only spares the
    channel. The line that crosses the budget still goes out (shortened), so the host sees the
    crossing and adds its marker.
    """

    def __init__(self, channel: Channel, budget: int):
        self._channel = channel
        self._budget = budget
        self._sent = 0
        self.open = True

    def __call__(self, level: str, message: str, fields: dict[str, Any]) -> None:
        if not self.open or self._sent > self._budget:
            return
        frame = self._channel.encode(Log(level, message, _plain(fields)))
        size = len(frame) - HEADER.size
        if self._sent + size > self._budget:
            frame = self._channel.encode(Log(level, message[:OVERFLOW_PREVIEW_CHARS], {}))
            size = self._budget + 1
        self._sent += size
        self._channel.send_encoded(frame)


class InvocationRunner:
    def __init__(self, channel: Channel, console: Console, app: AppInfo, memory_bytes: int):
        self._channel = channel
        self._console = console
        self._app = app
        self._memory_exceeded = (
            f"the script exceeded its memory limit of {memory_bytes // (1024 * 1024)} MB"
        )
        self._sources: dict[str, tuple[int, str]] = {}
        self._scripts: dict[str, LoadedScript] = {}
        self._loop = asyncio.new_event_loop()

    def run(self, invoke: Invoke) -> Result:
        log = LogSender(self._channel, invoke.max_log_bytes)
        self._console.sink = log
        try:
            result = self._run(invoke, log)
        except MemoryError:  # raised while rendering or reporting, outside the script
            result = _failure("memory", self._memory_exceeded)
        finally:
            self._console.flush()
            self._console.sink = None
            log.open = False
        result.cpu_seconds = _cpu_seconds()
        return result

    def _run(self, invoke: Invoke, log: LogSender) -> Result:
        filename = f"<script {invoke.script_name} v{invoke.script_version}>"
        try:
            value = self._call(self._load(invoke, filename), invoke, log)
        except MemoryError as exc:
            return _failure("memory", f"{self._memory_exceeded}\n{_traceback(exc, filename)}")
        except BaseException as exc:
            return _failure("error", _traceback(exc, filename))
        try:
            status, headers, body = render(value, invoke.max_response_bytes)
        except InvalidResponse as exc:
            return _failure("invalid_response", str(exc))
        return Result("ok", status, headers, body, None, 0.0)

    def _load(self, invoke: Invoke, filename: str) -> LoadedScript:
        # The host sends a version's source once per worker; a version whose top-level code
        # failed is loaded again from the kept source on its next request.
        if invoke.source is not None:
            self._sources[invoke.script_id] = (invoke.script_version, invoke.source)
        cached = self._scripts.get(invoke.script_id)
        if cached is not None and cached.version == invoke.script_version:
            return cached
        version, source = self._sources.get(invoke.script_id, (None, ""))
        if version != invoke.script_version:
            raise LookupError(f"the worker holds no source for version {invoke.script_version}")
        code = compile(source, filename, "exec", dont_inherit=True)
        # Tracebacks show the script's own lines.
        linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
        namespace: dict[str, Any] = {"__name__": "__script__", "__builtins__": builtins}
        replaced = self._scripts.pop(invoke.script_id, None)
        if replaced is not None:
            linecache.cache.pop(replaced.filename, None)
        exec(code, namespace)
        handler = namespace.get(invoke.handler)
        if not callable(handler):
            raise LookupError(f"the script defines no function {invoke.handler!r}")
        loaded = LoadedScript(invoke.script_version, filename, handler, _takes_context(handler))
        self._scripts[invoke.script_id] = loaded
        return loaded

    def _call(self, script: LoadedScript, invoke: Invoke, log: LogSender) -> Any:
        request = Request(
            method=invoke.method,
            url=invoke.url,
            path=invoke.path,
            host=invoke.host,
            headers=Headers(invoke.headers),
            query=QueryParams.parse(invoke.query_string),
            params=invoke.params,
            rest=invoke.rest,
            body=invoke.body,
        )
        if not script.wants_context:
            value = script.handler(request)
        else:
            context = Context(
                execution_id=invoke.execution_id,
                app=self._app,
                script=ScriptInfo(invoke.script_id, invoke.script_name, invoke.script_version),
                invocation=invoke.invocation,
                log=ContextLog(log),
                sdk_version=SDK_VERSION,
            )
            value = script.handler(request, context)
        if inspect.isawaitable(value):
            value = self._await(value)
        return value

    def _await(self, awaitable: Any) -> Any:
        try:
            return self._loop.run_until_complete(awaitable)
        finally:
            leftovers = asyncio.all_tasks(self._loop)
            for task in leftovers:
                task.cancel()
            if leftovers:
                self._loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))


def _failure(outcome: str, error: str) -> Result:
    return Result(outcome, 0, [], b"", error, 0.0)


def _takes_context(handler: Callable[..., Any]) -> bool:
    """Whether the handler can take a second positional argument (then it gets `ctx`)."""
    try:
        parameters = inspect.signature(handler).parameters.values()
    except (TypeError, ValueError):
        return True
    kinds = [p.kind for p in parameters]
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(k in positional for k in kinds) >= 2 or inspect.Parameter.VAR_POSITIONAL in kinds


def _traceback(exc: BaseException, filename: str) -> str:
    """The traceback from the script's first frame on: the worker's own frames are noise."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next
    text = "".join(traceback.format_exception(type(exc), exc, tb))
    if len(text) > MAX_ERROR_CHARS:
        text = text[:MAX_ERROR_CHARS] + "\n... (traceback truncated)"
    return text


def _plain(fields: dict[str, Any]) -> dict[str, Any]:
    """Fields as JSON-friendly builtins; anything else becomes its repr()."""
    return msgspec.to_builtins(fields, enc_hook=repr, str_keys=True)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
