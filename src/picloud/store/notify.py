"""Carry configuration changes between nodes through PostgreSQL LISTEN/NOTIFY.

Every node LISTENs on one channel. When a node publishes a change (after its commit), the relay
sends a NOTIFY; every other node receives it within milliseconds and delivers it to its local
subscribers, which rebuild their dispatch tables. A node ignores its own notifications: it has
already delivered them locally. After a lost connection the relay reconnects and delivers one
change anyway (a full resynchronisation), because notifications sent while it was away are gone.
"""

from __future__ import annotations

import logging
import threading
import uuid

import psycopg
from sqlalchemy.engine import URL, Engine

from picloud.store.changes import ChangeFeed

logger = logging.getLogger(__name__)

CHANNEL = "picloud_config"
RECONNECT_SECONDS = 1.0


def libpq_url(url: URL) -> str:
    """A SQLAlchemy URL as libpq understands it (no driver suffix such as `+psycopg`)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class NotifyRelay:
    def __init__(self, engine: Engine, feed: ChangeFeed):
        self._conninfo = libpq_url(engine.url)
        self._feed = feed
        self.node_id = uuid.uuid4().hex
        self._stopping = threading.Event()
        self._listener: psycopg.Connection | None = None
        self._thread: threading.Thread | None = None
        self._notify_lock = threading.Lock()
        self._sender: psycopg.Connection | None = None
        self.received = 0

    def start(self) -> None:
        self._feed.set_broadcaster(self.broadcast)
        self._thread = threading.Thread(target=self._listen_forever, name="picloud-listen")
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._feed.set_broadcaster(None)
        for conn in (self._listener, self._sender):
            if conn is not None:
                conn.close()  # wakes the listener out of its blocking wait
        if self._thread is not None:
            self._thread.join(timeout=5)

    def broadcast(self) -> None:
        """Tell the other nodes; called by the feed after local subscribers have run."""
        with self._notify_lock:
            try:
                if self._sender is None or self._sender.closed:
                    self._sender = psycopg.connect(self._conninfo, autocommit=True)
                self._sender.execute("SELECT pg_notify(%s, %s)", (CHANNEL, self.node_id))
            except psycopg.Error:
                # The other nodes resynchronise when their own connection comes back.
                logger.warning("could not notify other nodes of a change", exc_info=True)
                self._sender = None

    def _listen_forever(self) -> None:
        first = True
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    self._listener = conn
                    conn.execute(f"LISTEN {CHANNEL}")
                    if not first:
                        logger.info("change listener reconnected; resynchronising")
                        self._feed.deliver()
                    first = False
                    for note in conn.notifies():
                        if note.payload != self.node_id:
                            self.received += 1
                            self._feed.deliver()
            except psycopg.Error:
                if self._stopping.is_set():
                    return
                logger.warning("change listener lost its connection; retrying", exc_info=True)
                first = False
            self._stopping.wait(RECONNECT_SECONDS)
