"""The floor: an ASGI app that answers Hello World's JSON and does nothing else.

Served by the same server software as PiCloud, it shows what the server itself costs per
request; PiCloud's figure over this one is what routing, the sandboxed worker and the execution
record cost.
"""

from __future__ import annotations

from typing import Any

BODY = b'{"message":"Hello, world!"}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope: dict, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
