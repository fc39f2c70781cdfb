"""Tell whoever keeps an in-memory copy of the configuration that it changed.

The manager calls `publish()` after it commits a change to apps, domains, scripts or routes; the
orchestrator subscribes and rebuilds its dispatch tables. Repositories never publish: only the
caller knows when its transaction has committed.

Cluster mode plugs in here without touching either side (`store/notify.py`): `publish()` also
hands the change to a broadcaster that NOTIFYs the other nodes, and their LISTEN loops call
`deliver()`, which runs the local subscribers only, so a change never echoes back and forth.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)

Subscriber = Callable[[], None]


class ChangeFeed:
    """A set of callbacks run, in the publisher's thread, each time `publish()` is called.

    Callbacks must be quick and must not block: an asyncio subscriber should hand over with
    `loop.call_soon_threadsafe`. One failing callback is logged and does not stop the others.
    """

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self._broadcaster: Subscriber | None = None

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Run `callback` on every publish; returns a function that unsubscribes it."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def set_broadcaster(self, broadcaster: Subscriber | None) -> None:
        """Also tell other nodes on every `publish()` (None: this node only)."""
        self._broadcaster = broadcaster

    def publish(self) -> None:
        """This node changed the configuration: tell local subscribers, then the other nodes."""
        self.deliver()
        if self._broadcaster is not None:
            self._broadcaster()

    def deliver(self) -> None:
        """Run every local subscriber (a change made here, or one another node announced)."""
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback()
            except Exception:
                logger.exception("change subscriber %r failed", callback)
