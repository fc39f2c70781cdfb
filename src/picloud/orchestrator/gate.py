"""The global concurrency gate: at most N executions in flight, the rest refused at once.

Refusing (503 with Retry-After) instead of queueing keeps latency bounded on a small box and
tells clients and the load balancer the truth. Dispatch runs on one event loop, so a plain
counter is enough.
"""

from __future__ import annotations


class ConcurrencyGate:
    def __init__(self, limit: int):
        self.limit = limit
        self.in_flight = 0
        self.rejected = 0

    def try_enter(self) -> bool:
        if self.in_flight >= self.limit:
            self.rejected += 1
            return False
        self.in_flight += 1
        return True

    def leave(self) -> None:
        self.in_flight -= 1
