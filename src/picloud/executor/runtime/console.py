"""Turns what a script prints into log lines, so nothing it writes can reach the channel.

`sys.stdout` lines become `info` lines and `sys.stderr` lines `error` lines, each with a
`stream` field. Output outside an invocation (there is none in a well-behaved script) is dropped.
"""

from __future__ import annotations

import io
import sys

from picloud.sdk.context import LogSink

#: A line longer than this is sent in pieces rather than buffered without bound.
MAX_LINE_CHARS = 16_384


class _Stream(io.TextIOBase):
    def __init__(self, console: Console, level: str, name: str):
        self._console = console
        self._level = level
        self._name = name
        self._partial = ""

    @property
    def encoding(self) -> str:
        return "utf-8"

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        *lines, self._partial = (self._partial + text).split("\n")
        for line in lines:
            self._emit(line)
        while len(self._partial) > MAX_LINE_CHARS:
            self._emit(self._partial[:MAX_LINE_CHARS])
            self._partial = self._partial[MAX_LINE_CHARS:]
        return len(text)

    def flush(self) -> None:
        if self._partial:
            self._emit(self._partial)
            self._partial = ""

    def _emit(self, line: str) -> None:
        sink = self._console.sink
        if sink is not None:
            sink(self._level, line, {"stream": self._name})


class Console:
    """The script's stdout and stderr; `sink` is the running invocation's log, or None."""

    def __init__(self) -> None:
        self.sink: LogSink | None = None
        self.stdout = _Stream(self, "info", "stdout")
        self.stderr = _Stream(self, "error", "stderr")

    def install(self) -> None:
        sys.stdout = self.stdout
        sys.stderr = self.stderr

    def flush(self) -> None:
        self.stdout.flush()
        self.stderr.flush()
