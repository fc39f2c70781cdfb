"""Raw ASGI response helpers for the data plane (no framework on the hot path)."""

from __future__ import annotations

from typing import Any

import msgspec

from picloud.core.problems import PROBLEM_CONTENT_TYPE, ProblemKind

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
    kind: ProblemKind,
    detail: str,
    *,
    execution_id: str,
    headers: Headers | None = None,
) -> None:
    body = kind.body(detail, execution_id=execution_id)
    out: Headers = [
        (b"content-type", PROBLEM_CONTENT_TYPE.encode()),
        (EXECUTION_ID_HEADER, execution_id.encode()),
        *(headers or ()),
    ]
    await send_response(send, kind.status, out, _json.encode(body))


async def send_text(send: Any, status: int, text: str, headers: Headers | None = None) -> None:
    out: Headers = [(b"content-type", b"text/plain; charset=utf-8"), *(headers or ())]
    await send_response(send, status, out, text.encode())


async def send_json(send: Any, status: int, payload: Any) -> None:
    await send_response(
        send, status, [(b"content-type", b"application/json")], _json.encode(payload)
    )
