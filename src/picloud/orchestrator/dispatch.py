"""The data plane: a lean ASGI app that turns an HTTP request into one script execution.

Request path: Host -> app (domain table) -> route (that app's table) -> gate -> body within the
script's limit -> executor -> response, then an execution record handed to the batched writer.
No database access and no framework routing on this path.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import msgspec

from picloud.core.problems import (
    FORBIDDEN,
    HOST_NOT_CLAIMED,
    METHOD_NOT_ALLOWED,
    NO_ROUTE,
    NOT_FOUND,
    OUTCOME_PROBLEMS,
    OVERLOADED,
    REQUEST_TIMEOUT,
    REQUEST_TOO_LARGE,
    SCRIPT_CRASHED,
    UNAUTHENTICATED,
    ProblemKind,
)
from picloud.executor.interface import (
    Executor,
    ExecutorOverloaded,
    Invocation,
    InvocationResult,
    ScriptRef,
)
from picloud.logs import execution_id_var, request_id_var
from picloud.orchestrator.gate import ConcurrencyGate
from picloud.orchestrator.records import RecordWriter
from picloud.orchestrator.responses import (
    EXECUTION_ID_HEADER,
    Headers,
    send_problem,
    send_response,
)
from picloud.orchestrator.routing import AppRef, Outcome, RoutingHolder
from picloud.store.executions import ExecutionRecord
from picloud.store.new_rows import new_id

logger = logging.getLogger(__name__)

EXECUTE_PREFIX = "/api/v1/execute/"
_DROPPED_RESPONSE_HEADERS = {"content-length", "transfer-encoding", "connection"}

#: Decides whether the bearer token of an execute call may invoke the script with that id (None
#: when there is no such script): returns None to allow, or the (status, detail) to refuse with
#: (401, 403, or 404 so existence does not leak).
ExecuteGuard = Callable[[str | None, str, ScriptRef | None], Awaitable[tuple[int, str] | None]]


#: A request body must arrive at this rate or better once a grace period is over, so a client
#: trickling bytes cannot hold its connection for ever while a large upload on a slow link fits.
BODY_GRACE_SECONDS = 5.0
BODY_MIN_BYTES_PER_SECOND = 16_384
#: Sent with answers given before the body was read whole: the rest of it is not waited for.
_CLOSE = (b"connection", b"close")


class BodyRefused(Exception):
    """The request body is not taken: over the script's limit (413) or too slow (408)."""

    def __init__(self, kind: ProblemKind, detail: str):
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


class ClientGone(Exception):
    """The client disconnected before its request body was complete."""


async def refuse_all_execute_calls(
    token: str | None, script_id: str, script: ScriptRef | None
) -> tuple[int, str]:
    """The guard in force until an authenticator is wired: nothing runs without a credential."""
    return (401, "authentication required")


class DataPlane:
    def __init__(
        self,
        routing: RoutingHolder,
        executor: Executor,
        gate: ConcurrencyGate,
        records: RecordWriter,
        *,
        admin_hosts: tuple[str, ...] = (),
        execute_guard: ExecuteGuard = refuse_all_execute_calls,
        on_executed: Callable[[AppRef, ScriptRef, InvocationResult], None] | None = None,
    ):
        self.routing = routing
        self.executor = executor
        self.gate = gate
        self.records = records
        self.admin_hosts = frozenset(admin_hosts)
        self.execute_guard = execute_guard
        self.on_executed = on_executed

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        execution_id = new_id()
        execution_id_var.set(execution_id)
        request_id_var.set(execution_id)
        method: str = scope["method"]
        path: str = scope["path"]
        host = _header(scope, b"host") or ""
        if path.startswith(EXECUTE_PREFIX):
            await self._execute_by_id(scope, receive, send, execution_id, host)
            return
        found = self.routing.current.resolve(method, host, path)
        if found.outcome is Outcome.MATCHED:
            assert found.app and found.script
            await self._run(
                scope,
                receive,
                send,
                execution_id,
                found.app,
                found.script,
                invocation="http",
                host=found.host,
                path=path,
                params=found.params,
                rest=found.rest,
            )
            return
        if path == "/" and found.host in self.admin_hosts:
            await send_response(
                send,
                302,
                [(b"location", b"/admin/"), (EXECUTION_ID_HEADER, execution_id.encode())],
                b"",
            )
            return
        if found.outcome is Outcome.METHOD_NOT_ALLOWED:
            await send_problem(
                send,
                METHOD_NOT_ALLOWED,
                f"{method} is not allowed here; allowed: {', '.join(found.allow)}",
                execution_id=execution_id,
                headers=[(b"allow", ", ".join(found.allow).encode())],
            )
            return
        kind = HOST_NOT_CLAIMED if found.outcome is Outcome.NO_APP else NO_ROUTE
        await send_problem(send, kind, found.reason or "not found", execution_id=execution_id)

    async def _execute_by_id(
        self, scope: dict, receive: Any, send: Any, execution_id: str, host: str
    ) -> None:
        script_id, _, rest = scope["path"][len(EXECUTE_PREFIX) :].partition("/")
        routing = self.routing.current
        script = routing.scripts.get(script_id)
        # The guard authenticates before it says whether the id exists, so an unknown or bad
        # token learns nothing about which scripts there are.
        refusal = await self.execute_guard(_bearer_token(scope), script_id, script)
        if refusal is not None:
            status, detail = refusal
            kind = {401: UNAUTHENTICATED, 403: FORBIDDEN}.get(status, NOT_FOUND)
            headers = [(b"www-authenticate", b"Bearer")] if status == 401 else None
            await send_problem(send, kind, detail, execution_id=execution_id, headers=headers)
            return
        assert script is not None
        await self._run(
            scope,
            receive,
            send,
            execution_id,
            routing.apps[script.app_id],
            script,
            invocation="execute",
            host=host,
            path="/" + rest,
            params={},
            rest=None,
        )

    async def _run(
        self,
        scope: dict,
        receive: Any,
        send: Any,
        execution_id: str,
        app: AppRef,
        script: ScriptRef,
        *,
        invocation: str,
        host: str,
        path: str,
        params: dict[str, str],
        rest: str | None,
    ) -> None:
        # The body is read before the gate: a client that sends it slowly holds a connection,
        # never one of the gate's places (nor a worker), and is cut off by the body deadline.
        limit = script.limits.max_request_bytes
        try:
            body = await _read_body(scope, receive, limit)
        except ClientGone:
            return  # nobody to answer, and a script must never run on half a body
        except BodyRefused as refused:
            await send_problem(
                send, refused.kind, refused.detail, execution_id=execution_id, headers=[_CLOSE]
            )
            return
        if not self.gate.try_enter():
            await send_problem(
                send,
                OVERLOADED,
                "too many executions in flight; retry shortly",
                execution_id=execution_id,
                headers=[(b"retry-after", b"1")],
            )
            return
        try:
            query_string = scope.get("query_string", b"").decode("latin-1")
            raw_path = scope.get("raw_path") or scope["path"].encode()
            url = f"{scope.get('scheme', 'http')}://{host}{raw_path.decode('latin-1')}"
            if query_string:
                url += "?" + query_string
            job = Invocation(
                execution_id=execution_id,
                app_id=app.id,
                app_slug=app.slug,
                script=script,
                invocation=invocation,
                method=scope["method"],
                url=url,
                path=path,
                host=host,
                headers=script_headers(scope["headers"], by_id=invocation == "execute"),
                query_string=query_string,
                params=params,
                rest=rest,
                body=body,
            )
            started_at = datetime.now(UTC)
            started = time.perf_counter()
            try:
                result = await self.executor.invoke(job)
            except ExecutorOverloaded as exc:
                await send_problem(
                    send,
                    OVERLOADED,
                    f"script '{script.name}' is at its concurrency limit; retry shortly",
                    execution_id=execution_id,
                    headers=[(b"retry-after", str(exc.retry_after).encode())],
                )
                return
            except Exception:
                logger.exception("executor failed on execution %s", execution_id)
                result = InvocationResult(
                    status=502,
                    headers=[],
                    body=b"",
                    outcome="crashed",
                    logs=[],
                    error="the executor failed before the script answered",
                    duration_ms=(time.perf_counter() - started) * 1000,
                )
        finally:
            self.gate.leave()
        headers: Headers = []
        if result.outcome == "ok":
            try:
                headers = response_headers(result.headers, on_admin_host=host in self.admin_hosts)
            except InvalidHeader as exc:
                result = msgspec.structs.replace(
                    result,
                    status=502,
                    headers=[],
                    body=b"",
                    outcome="invalid_response",
                    error=f"invalid response header: {exc}",
                )
        await self._respond(send, execution_id, scope["method"], result, headers)
        self.records.submit(
            ExecutionRecord(
                id=execution_id,
                app_id=app.id,
                script_id=script.id,
                script_version=script.version,
                invocation=invocation,
                method=scope["method"],
                path=storable(path),
                status_code=result.status,
                outcome=result.outcome,
                duration_ms=result.duration_ms,
                started_at=started_at,
                logs=[
                    {"level": x.level, "message": x.message, "fields": x.fields, "at": x.at}
                    for x in result.logs
                ],
                error=storable(result.error) if result.error else None,
            )
        )
        if self.on_executed:
            self.on_executed(app, script, result)

    async def _respond(
        self,
        send: Any,
        execution_id: str,
        method: str,
        result: InvocationResult,
        headers: Headers,
    ) -> None:
        if result.outcome != "ok":
            kind = OUTCOME_PROBLEMS.get(result.outcome, SCRIPT_CRASHED)
            await send_problem(send, kind, _FAILURE_DETAIL[kind.name], execution_id=execution_id)
            return
        headers.append((EXECUTION_ID_HEADER, execution_id.encode()))
        await send_response(send, result.status, headers, result.body, head=method == "HEAD")


_FAILURE_DETAIL = {
    "script-error": "the script raised an exception; see its execution record",
    "script-timeout": "the script did not answer within its time limit",
    "script-memory": "the script exceeded its memory limit",
    "script-crashed": "the script's worker stopped before it answered",
    "invalid-response": "the script returned a value that is not a valid response",
}


PLATFORM_COOKIE_PREFIX = "picloud_"
#: Script answers on an admin host run in a sandboxed origin, so a script's page cannot act as
#: the dashboard (read its pages with the owner's cookie, take its CSRF token).
ADMIN_HOST_SANDBOX = (b"content-security-policy", b"sandbox allow-scripts allow-forms allow-popups")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")


class InvalidHeader(ValueError):
    """A response header no HTTP/1.1 client could receive as the script meant it."""


def response_headers(
    headers: list[tuple[str, str]], on_admin_host: bool
) -> list[tuple[bytes, bytes]]:
    """A script's response headers as sent: framing headers dropped (the server frames the
    body), no `picloud_*` cookie set (no session fixation), a sandbox on admin hosts::

        >>> response_headers([("X-A", "1"), ("Set-Cookie", "picloud_session=x")], False)
        [(b'x-a', b'1')]
        >>> response_headers([("X-A", "é")], on_admin_host=True)[1][0]
        b'content-security-policy'
        >>> response_headers([("X-A", "€")], on_admin_host=False)
        Traceback (most recent call last):
        ...
        picloud.orchestrator.dispatch.InvalidHeader: X-A: the value is not Latin-1 text without...

    """
    out: list[tuple[bytes, bytes]] = []
    for name, value in headers:
        lowered = name.lower()
        if lowered in _DROPPED_RESPONSE_HEADERS:
            continue
        if not _HEADER_NAME.fullmatch(name):
            raise InvalidHeader(f"{name!r} is not a valid header name")
        if not _HEADER_VALUE.fullmatch(value):
            raise InvalidHeader(f"{name}: the value is not Latin-1 text without control characters")
        if lowered == "set-cookie" and value.lstrip().lower().startswith(PLATFORM_COOKIE_PREFIX):
            continue
        out.append((lowered.encode("latin-1"), value.encode("latin-1")))
    if on_admin_host:
        out.append(ADMIN_HOST_SANDBOX)
    return out


def script_headers(raw: list[tuple[bytes, bytes]], *, by_id: bool) -> list[tuple[str, str]]:
    """The request headers a script may see: never the platform's own credentials.

    The dashboard's cookies (`picloud_*`) are dropped wherever they appear, since the admin host
    is often also an app's host; on `/api/v1/execute` the Authorization header is PiCloud's
    bearer token, not the script's business, and is dropped too::

        >>> script_headers([(b"cookie", b"a=1; picloud_session=s3cret"), (b"x", b"y")], by_id=False)
        [('cookie', 'a=1'), ('x', 'y')]
        >>> script_headers([(b"authorization", b"Bearer pic_x")], by_id=True)
        []
    """
    headers = []
    for key, value in raw:
        name, text = key.decode("latin-1"), value.decode("latin-1")
        if name == "authorization" and by_id:
            continue
        if name == "cookie" and PLATFORM_COOKIE_PREFIX in text:
            kept = [
                part.strip()
                for part in text.split(";")
                if not part.strip().startswith(PLATFORM_COOKIE_PREFIX)
            ]
            if not kept:
                continue
            text = "; ".join(kept)
        headers.append((name, text))
    return headers


def storable(text: str) -> str:
    """Text every database stores: PostgreSQL refuses NUL in text columns, and a request path
    (`/users/%00`) or a traceback may carry one."""
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


def _header(scope: dict, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def _has_no_body(scope: dict) -> bool:
    """An HTTP/1 request without Content-Length has a body only if it is chunked (RFC 9112,
    6.3), so most GETs skip the receive loop and its deadline. HTTP/2 bodies need neither."""
    return (
        scope.get("http_version") in ("1.1", "1.0") and _header(scope, b"transfer-encoding") is None
    )


def _bearer_token(scope: dict) -> str | None:
    value = _header(scope, b"authorization")
    if value and value[:7].lower() == "bearer ":
        return value[7:].strip() or None
    return None


async def _read_body(scope: dict, receive: Any, limit: int) -> bytes:
    declared = _header(scope, b"content-length")
    if declared is None and _has_no_body(scope):
        return b""
    expected = int(declared) if declared and declared.isdigit() else 0
    too_large = BodyRefused(
        REQUEST_TOO_LARGE, f"the request body exceeds this script's limit of {limit} bytes"
    )
    if expected > limit:
        raise too_large
    started = asyncio.get_running_loop().time()
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        allowed = BODY_GRACE_SECONDS + max(expected, size) / BODY_MIN_BYTES_PER_SECOND
        try:
            async with asyncio.timeout_at(started + allowed):
                message = await receive()
        except TimeoutError:
            raise BodyRefused(REQUEST_TIMEOUT, "the request body did not arrive in time") from None
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)
