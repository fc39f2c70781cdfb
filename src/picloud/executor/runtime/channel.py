"""The worker's end of the channel: blocking reads of host frames, locked writes of its own."""

from __future__ import annotations

import os
import threading

import msgspec

from picloud.executor.runtime.protocol import HEADER, FrameEncoder, HostFrame

#: One read of the channel: an invocation frame, and usually the next one too.
READ_BYTES = 1 << 16


class Channel:
    def __init__(self, read_fd: int, write_fd: int):
        self._read_fd = read_fd
        self._write_fd = write_fd
        self._decoder = msgspec.msgpack.Decoder(HostFrame)
        self._encoder = FrameEncoder()
        # Script threads may log while the main thread answers; frames must not interleave.
        self._write_lock = threading.Lock()
        self._buffer = bytearray()

    def receive(self) -> HostFrame | None:
        """The next frame from the host, or None when the host closed the channel.

        Reads are buffered: the host may have sent the next invocation while this one ran, and
        one read then brings both.
        """
        header = self._read_exactly(HEADER.size)
        if header is None:
            return None
        (size,) = HEADER.unpack(header)
        payload = self._read_exactly(size)
        if payload is None:
            return None
        return self._decoder.decode(payload)

    def encode(self, frame: msgspec.Struct) -> bytes:
        return self._encoder.encode(frame)

    def send(self, frame: msgspec.Struct) -> None:
        self.send_encoded(self._encoder.encode(frame))

    def send_encoded(self, data: bytes) -> None:
        view = memoryview(data)
        with self._write_lock:
            while view:
                view = view[os.write(self._write_fd, view) :]

    def _read_exactly(self, size: int) -> bytes | None:
        while len(self._buffer) < size:
            chunk = os.read(self._read_fd, max(size - len(self._buffer), READ_BYTES))
            if not chunk:
                return None
            self._buffer += chunk
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data
