"""HTTP/1.1 spoken by hand over a socket, to send what a well-behaved client library refuses to
(odd bytes in the Host header, raw `..` and `%2F` in paths, invalid UTF-8, oversized heads)."""

from __future__ import annotations

import contextlib
import http.client
import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class RawAnswer:
    """The status and body of an answer; status None when the server closed without one."""

    status: int | None
    body: bytes = b""


def raw_request(
    method: bytes,
    target: bytes,
    headers: list[tuple[bytes, bytes]],
    body: bytes = b"",
) -> bytes:
    """The bytes of one request that closes its connection after the answer.

    >>> raw_request(b"GET", b"/x", [(b"Host", b"a")])
    b'GET /x HTTP/1.1\\r\\nHost: a\\r\\nConnection: close\\r\\nContent-Length: 0\\r\\n\\r\\n'
    """
    lines = [method + b" " + target + b" HTTP/1.1"]
    lines += [name + b": " + value for name, value in headers]
    lines += [b"Connection: close", b"Content-Length: " + str(len(body)).encode()]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def exchange(port: int, request: bytes, *, head: bool = False, timeout: float = 15) -> RawAnswer:
    """Send `request` as it is and read the answer, if the server gives one."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        # The server may answer and close before taking it all, e.g. with a 431.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request)
        answer = http.client.HTTPResponse(sock, method="HEAD" if head else "GET")
        try:
            answer.begin()
            return RawAnswer(answer.status, answer.read())
        except (http.client.RemoteDisconnected, ConnectionResetError):
            return RawAnswer(None)
