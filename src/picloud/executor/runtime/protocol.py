"""The channel between the host and one worker: length-prefixed msgpack frames over two pipes.

A frame is a 4-byte big-endian payload length, then the payload: one tagged msgspec struct. The
pipes sit on their own file descriptors, never the script's stdin/stdout/stderr.

Frames from a worker name no app, script or execution: the host knows which worker a frame came
from, hence which app it belongs to. A worker that sends anything else (an unknown field, a frame
out of turn, one over the size limit) is killed. Later platform services (key-value store,
secrets, outbound HTTP) become more worker -> host frame types, answered for the worker's app.
"""

from __future__ import annotations

import struct
from typing import Any

import msgspec

HEADER = struct.Struct(">I")


class _Frame(msgspec.Struct, tag_field="type", forbid_unknown_fields=True, omit_defaults=True):
    pass


# -- host -> worker -----------------------------------------------------------------------------


class Boot(_Frame, tag="boot"):
    """Seal the worker before it may run any script; it answers `Ready`."""

    uid: int | None  # drop to this uid/gid first (when the sandbox starts as root)
    gid: int | None
    max_open_files: int
    max_threads: int | None  # RLIMIT_NPROC: None where the uid is shared with the server
    max_file_bytes: int
    cpu_seconds: int  # lifetime CPU backstop; the host kills on timeouts long before
    seccomp_filter: bytes | None  # a compiled BPF program, loaded last


class Bind(_Frame, tag="bind"):
    """Bind the worker to one app for life, with the address space its scripts may use."""

    app_id: str
    app_slug: str
    memory_bytes: int


class Invoke(_Frame, tag="invoke"):
    execution_id: str
    script_id: str
    script_name: str
    script_version: int
    source: str | None  # None when the worker already holds this version
    handler: str
    invocation: str
    method: str
    url: str
    path: str
    host: str
    headers: list[tuple[str, str]]
    query_string: str
    params: dict[str, str]
    rest: str | None
    body: bytes
    max_response_bytes: int
    max_log_bytes: int


# -- worker -> host -----------------------------------------------------------------------------


class Ready(_Frame, tag="ready"):
    pass


class Log(_Frame, tag="log"):
    level: str
    message: str
    fields: dict[str, Any]


class Result(_Frame, tag="result"):
    outcome: str  # ok, error, memory or invalid_response
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    error: str | None
    cpu_seconds: float  # the worker's CPU time so far, to retire it before its rlimit


HostFrame = Boot | Bind | Invoke
WorkerFrame = Ready | Log | Result


class FrameTooLarge(ValueError):
    def __init__(self, size: int, limit: int, complete: list[bytes] | None = None):
        super().__init__(f"frame of {size} bytes exceeds the limit of {limit} bytes")
        self.size = size
        self.limit = limit
        #: The whole payloads that came before it in the same feed.
        self.complete = complete or []


class FrameEncoder:
    """Encodes frames with their length header.

    >>> FrameEncoder().encode(Ready())
    b'\\x00\\x00\\x00\\x0c\\x81\\xa4type\\xa5ready'
    """

    def __init__(self) -> None:
        self._encoder = msgspec.msgpack.Encoder()

    def encode(self, frame: msgspec.Struct) -> bytes:
        buffer = bytearray()
        self.encode_into(frame, buffer)
        return bytes(buffer)

    def encode_into(self, frame: msgspec.Struct, buffer: bytearray) -> None:
        """Append the frame to `buffer`."""
        start = len(buffer)
        self._encoder.encode_into(frame, buffer, start + HEADER.size)
        HEADER.pack_into(buffer, start, len(buffer) - start - HEADER.size)


class FrameReader:
    """Splits a byte stream into frame payloads, refusing any payload over `limit` bytes.

    >>> reader = FrameReader(limit=8)
    >>> reader.feed(b"\\x00\\x00\\x00\\x02hi\\x00\\x00")
    [b'hi']
    >>> reader.feed(b"\\x00\\x01!")
    [b'!']
    """

    def __init__(self, limit: int):
        self.limit = limit
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        payloads = []
        while len(self._buffer) >= HEADER.size:
            (size,) = HEADER.unpack_from(self._buffer)
            if size > self.limit:
                raise FrameTooLarge(size, self.limit, payloads)
            end = HEADER.size + size
            if len(self._buffer) < end:
                break
            payloads.append(bytes(self._buffer[HEADER.size : end]))
            del self._buffer[:end]
        return payloads
