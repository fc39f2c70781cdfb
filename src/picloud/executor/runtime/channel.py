"""The worker's end of the channel: blocking reads of host frames, locked writes of its own."""

from __future__ import annotations

import os
import threading

import msgspec

from picloud.executor.runtime.protocol import HEADER, FrameEncoder, HostFrame


class Channel:
    def __init__(self, read_fd: int, write_fd: int):
        self._read_fd = read_fd
        self._write_fd = write_fd
        self._decoder = msgspec.msgpack.Decoder(HostFrame)
        self._encoder = FrameEncoder()
        # Script threads may log while the main thread answers; frames must not interleave.
        self._write_lock = threading.Lock()

    def receive(self) -> HostFrame | None:
        """The next frame from the host, or None when the host closed the channel."""
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
        chunks = []
        while size:
            chunk = os.read(self._read_fd, min(size, 1 << 20))
            if not chunk:
                return None
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)
