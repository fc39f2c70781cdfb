"""Raw ASGI response helpers for the data plane (no framework on the hot path)."""

from __future__ import annotations

from typing import Any

import msgspec

from picloud.core.problems import problem_body

Headers = list[tuple[bytes, bytes]]

_json = msgspec.json.Encoder()
EXECUTION_ID_HEADER = b"x-picloud-execution-id"


async def send_response(
    send: Any, status: int, headers: Headers, body: bytes, *, head: bool = False
) -> None:
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


async def send_problem(
    send: Any,
    status: int,
    kind: str,
    title: str,
    detail: str,
    *,
    execution_id: str | None = None,
    headers: Headers | None = None,
    **extra: Any,
) -> None:
    body = problem_body(status, kind, title, detail, execution_id=execution_id, **extra)
    out: Headers = [(b"content-type", b"application/problem+json")]
    if execution_id:
        out.append((EXECUTION_ID_HEADER, execution_id.encode()))
    out.extend(headers or ())
    await send_response(send, status, out, _json.encode(body))


async def send_text(send: Any, status: int, text: str, headers: Headers | None = None) -> None:
    out: Headers = [(b"content-type", b"text/plain; charset=utf-8"), *(headers or ())]
    await send_response(send, status, out, text.encode())


async def send_json(send: Any, status: int, payload: Any) -> None:
    await send_response(
        send, status, [(b"content-type", b"application/json")], _json.encode(payload)
    )
