"""A spinner on stderr for calls slower than a moment, and only when stderr is a terminal."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console

# Below this a spinner only flickers; most admin calls on loopback finish well within it.
DELAY_SECONDS = 0.3


@contextmanager
def spinner(console: Console, message: str, delay: float = DELAY_SECONDS) -> Iterator[None]:
    if not console.is_terminal:
        yield
        return
    status = console.status(message)
    lock = threading.Lock()
    state = {"finished": False, "started": False}

    def start() -> None:
        with lock:
            if not state["finished"]:
                status.start()
                state["started"] = True

    timer = threading.Timer(delay, start)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        with lock:
            state["finished"] = True
            if state["started"]:
                status.stop()
