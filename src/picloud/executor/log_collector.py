"""An invocation's log lines as the host keeps them: timestamped on arrival, cut at a byte budget.

A line is sized by its frame payload (what the worker's `LogSender` counts too); console output
by its UTF-8 length. The first line past the budget is replaced by one marker line and
everything after it is dropped::

    >>> logs = LogCollector(max_bytes=10)
    >>> logs.add("info", "hello", {}, size=6)
    >>> logs.add("info", "world", {}, size=6)
    >>> logs.add("info", "again", {}, size=6)
    >>> [line.message for line in logs.lines]
    ['hello', 'log output truncated: this script may log at most 10 bytes per execution']
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from picloud.executor.interface import LogLine

LEVELS = frozenset({"debug", "info", "warning", "error"})


class LogCollector:
    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.lines: list[LogLine] = []
        self._total = 0
        self._cut = False

    def add(self, level: str, message: str, fields: dict[str, Any], *, size: int) -> None:
        if self._cut:
            return
        if self._total + size > self.max_bytes:
            self._cut = True
            message = (
                f"log output truncated: this script may log at most {self.max_bytes} bytes "
                "per execution"
            )
            self.lines.append(LogLine("warning", message, {}, _now()))
            return
        self._total += size
        self.lines.append(LogLine(level, message, fields, _now()))

    def add_console(self, text: str) -> None:
        """Output the worker wrote to its file descriptors 1 and 2 directly (not via sys.stdout)."""
        for line in text.splitlines():
            self.add("info", line, {"stream": "console"}, size=len(line.encode()))


_clock: tuple[int, str] = (0, "")


def _now() -> str:
    """The time in ISO 8601 to the millisecond; lines of one millisecond share the text."""
    global _clock
    millis = time.time_ns() // 1_000_000
    if millis != _clock[0]:
        moment = datetime.fromtimestamp(millis / 1000, UTC)
        _clock = (millis, moment.isoformat(timespec="milliseconds"))
    return _clock[1]
