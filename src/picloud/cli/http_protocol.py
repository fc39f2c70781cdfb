"""The HTTP/1.1 protocol `picloud serve` runs uvicorn with: uvicorn's httptools protocol plus the
two guards on the request head that it lacks, and one write per response.

- A deadline: uvicorn closes a kept-alive connection that stays idle, but a new connection that
  sends nothing, or one that trickles a request head a byte at a time (slowloris), is kept for
  ever. Here the head must be complete within the keep-alive timeout of the connection opening
  or of the first byte of a later request; else the answer is 408 and the connection closes.
- A size bound: httptools gathers the request line and headers without limit, so one client
  could make the server buffer gigabytes. Past `MAX_HEAD_BYTES` the answer is 431.

Bodies are the data plane's to bound (its script's `max_request_bytes` and a minimum rate).

uvicorn writes a response's head and its body with two `write()` calls, each a system call and a
TCP segment of its own that wakes the client. `CoalescingTransport` joins the writes made in one
turn of the event loop into one (docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

#: Request line plus headers. Browsers send a few KiB; proxies commonly refuse past 8-64 KiB.
MAX_HEAD_BYTES = 65_536


class HeadTooLarge(Exception):
    """Raised inside the parser to stop it; uvicorn's error path then answers (431, here)."""


class CoalescingTransport:
    """A transport whose writes in one turn of the event loop reach the socket as one write.

    Everything but writing is the wrapped transport's; closing writes what is held first.
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop):
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._held:
            self._loop.call_soon(self.flush)
        self._held.append(data)

    def writelines(self, lines: Iterable[bytes]) -> None:
        for data in lines:
            self.write(data)

    def flush(self) -> None:
        if self._held:
            data = b"".join(self._held) if len(self._held) > 1 else self._held[0]
            self._held.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._head_deadline: asyncio.TimerHandle | None = None
        self._head_started = False
        self._head_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]
        self._start_head_clock()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_clock()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        # uvicorn answers 400 to every parser error, ours included: tell ours apart.
        if self._head_bytes > MAX_HEAD_BYTES:
            self._refuse(431, b"Request Header Fields Too Large")
        else:
            super().send_400_response(msg)

    # -- parser callbacks ----------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_started = True
        self._head_bytes = 0
        if self._head_deadline is None:  # a later request on a kept-alive connection
            self._start_head_clock()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._stop_head_clock()
        self._head_started = False
        super().on_headers_complete()

    # -- the guards ----------------------------------------------------------------------------

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > MAX_HEAD_BYTES:
            raise HeadTooLarge

    def _start_head_clock(self) -> None:
        self._head_deadline = self.loop.call_later(self.timeout_keep_alive, self._head_too_slow)

    def _stop_head_clock(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_slow(self) -> None:
        self._head_deadline = None
        if self.cycle is not None and not self.cycle.response_complete:
            self.transport.close()  # a pipelined answer is still being written: no 408 in it
        elif self._head_started:
            self._refuse(408, b"Request Timeout")
        else:
            self.transport.close()  # nothing was asked: nothing to answer

    def _refuse(self, status: int, reason: bytes) -> None:
        self._stop_head_clock()
        if self.transport.is_closing():
            return
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s"
            % (status, reason, len(reason), reason)
        )
        self.transport.close()
