"""One database handle for the whole process: engine, transactions, migrations, health.

SQLite (the default, one file in the data directory) and PostgreSQL (cluster mode) behave the
same to callers. Write inside `begin()`; read with `connect()` or, for several reads that must
agree with each other, `snapshot()`.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url

from picloud.store import migrations
from picloud.store.changes import ChangeFeed

#: How long a SQLite writer waits for another process's write lock before giving up.
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: Seconds to wait for a PostgreSQL server to accept a connection (unless the URL says).
POSTGRESQL_CONNECT_TIMEOUT_S = 5
#: First half of the advisory lock key migrations take; the second is the schema's hash.
MIGRATION_LOCK_NAMESPACE = 0x5049_434C  # "PICL"

_SQLITE_SCHEMES = ("sqlite", "sqlite+pysqlite")
_POSTGRESQL_SCHEMES = ("postgres", "postgresql", "postgresql+psycopg")
# Execution option read by the SQLite "begin" hook: writers take the write lock up front.
_SQLITE_BEGIN = "picloud_sqlite_begin"


def normalize_url(url: str) -> str:
    """The URL with the driver PiCloud uses spelled out; anything else is refused.

    >>> normalize_url("postgres://picloud@db:5432/picloud")
    'postgresql+psycopg://picloud@db:5432/picloud'
    >>> normalize_url("sqlite:///picloud-data/picloud.db")
    'sqlite:///picloud-data/picloud.db'
    >>> normalize_url("sqlite://")
    Traceback (most recent call last):
    ...
    ValueError: in-memory SQLite is not supported: give a file, e.g. sqlite:///picloud-data/picloud.db
    """
    scheme, sep, rest = url.partition("://")
    if sep and scheme in _POSTGRESQL_SCHEMES:
        return f"postgresql+psycopg://{rest}"
    if sep and scheme in _SQLITE_SCHEMES:
        database = make_url(url).database
        if not database or database == ":memory:" or "mode=memory" in rest:
            raise ValueError(
                "in-memory SQLite is not supported: give a file, e.g. "
                "sqlite:///picloud-data/picloud.db"
            )
        return f"sqlite://{rest}"
    raise ValueError(
        f"unsupported database URL scheme {scheme!r}: use sqlite:///PATH or postgresql://..."
    )


def _json_dumps(value: Any) -> str:
    # msgspec also encodes Structs (e.g. executor LogLines) and datetimes inside JSON columns.
    return msgspec.json.encode(value).decode()


def _use_wal(dbapi_connection: Any) -> None:
    """Put the database file in WAL mode, which it then keeps.

    Switching needs an exclusive lock, and SQLite answers "database is locked" at once rather
    than waiting out busy_timeout when another connection holds one: two processes opening a
    new file together (both migrating it) meet exactly that. The loser waits until the file is
    in WAL mode, which the winner's switch makes it.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _sqlite_engine(url: URL) -> Engine:
    Path(url.database or "").parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, json_serializer=_json_dumps, json_deserializer=msgspec.json.decode)

    @event.listens_for(engine, "connect")
    def configure(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy, not the sqlite3 module, decides when a transaction begins (see below).
        dbapi_connection.isolation_level = None
        dbapi_connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        dbapi_connection.execute("PRAGMA foreign_keys=ON")
        _use_wal(dbapi_connection)
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    @event.listens_for(engine, "begin")
    def begin(connection: Connection) -> None:
        # A writer asks for the write lock at BEGIN, where SQLite honours busy_timeout; a reader
        # that later tries to write could instead fail at once with "database is locked".
        mode = connection.get_execution_options().get(_SQLITE_BEGIN, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _postgresql_engine(url: URL) -> Engine:
    connect_args = {}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = POSTGRESQL_CONNECT_TIMEOUT_S
    return create_engine(
        url,
        pool_pre_ping=True,
        connect_args=connect_args,
        json_serializer=_json_dumps,
        json_deserializer=msgspec.json.decode,
    )


_sqlite_writer_locks: dict[str, threading.RLock] = {}
_sqlite_writer_locks_guard = threading.Lock()


def _sqlite_writer_lock(path: str) -> threading.RLock:
    # One lock per file for the whole process, however many Database objects open it.
    key = str(Path(path).resolve())
    with _sqlite_writer_locks_guard:
        return _sqlite_writer_locks.setdefault(key, threading.RLock())


class Database:
    """The engine for one database URL plus what every caller needs around it."""

    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        parsed = make_url(self.url)
        self.dialect_name: str = parsed.get_backend_name()
        self.changes = ChangeFeed()
        self._writer_lock: AbstractContextManager[Any]
        if self.dialect_name == "sqlite":
            self.engine: Engine = _sqlite_engine(parsed)
            self._writer_lock = _sqlite_writer_lock(parsed.database or "")
        else:
            self.engine = _postgresql_engine(parsed)
            self._writer_lock = nullcontext()

    def __repr__(self) -> str:
        return f"Database({self.engine.url.render_as_string(hide_password=True)!r})"

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection in one write transaction: committed on exit, rolled back on error.

        On SQLite, writers in this process queue on one lock and writers in other processes
        wait up to `SQLITE_BUSY_TIMEOUT_MS`, so concurrent writes succeed instead of failing.
        """
        with self._writer_lock, self.engine.connect() as connection:
            connection.execution_options(**{_SQLITE_BEGIN: "IMMEDIATE"})
            with connection.begin():
                yield connection

    def connect(self) -> Connection:
        """A connection for reads (`with db.connect() as conn: ...`); write with `begin()`."""
        return self.engine.connect()

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A read-only transaction in which every query sees the same committed state.

        SQLite transactions always do; on PostgreSQL this is REPEATABLE READ, READ ONLY.
        """
        with self.engine.connect() as connection:
            if self.dialect_name == "postgresql":
                connection.execution_options(
                    isolation_level="REPEATABLE READ", postgresql_readonly=True
                )
            with connection.begin():
                yield connection

    def migrate(self, target: str = "head") -> None:
        """Upgrade the schema to `target` (default: the newest revision); a no-op when there.

        Two processes may call this at once: on PostgreSQL the second waits on an advisory
        lock, on SQLite on the write lock, then finds nothing left to do.
        """
        with self._writer_lock, self.engine.connect() as connection:
            connection.execution_options(**{_SQLITE_BEGIN: "IMMEDIATE"})
            with self._foreign_keys_unenforced(connection), connection.begin():
                if self.dialect_name == "postgresql":
                    connection.execute(
                        text(
                            "SELECT pg_advisory_xact_lock(:namespace, hashtext(current_schema()))"
                        ),
                        {"namespace": MIGRATION_LOCK_NAMESPACE},
                    )
                migrations.upgrade(connection, target)
                self._check_foreign_keys(connection)

    @contextmanager
    def _foreign_keys_unenforced(self, connection: Connection) -> Iterator[None]:
        # A batch migration on SQLite rebuilds a table by copy, drop and rename; with foreign
        # keys enforced, dropping a parent would cascade-delete its children. The pragma only
        # takes effect outside a transaction, hence on the raw connection before BEGIN.
        if self.dialect_name != "sqlite":
            yield
            return
        raw = connection.connection.driver_connection
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            yield
        finally:
            raw.execute("PRAGMA foreign_keys=ON")

    def _check_foreign_keys(self, connection: Connection) -> None:
        if self.dialect_name != "sqlite":
            return
        dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
        if dangling:
            raise RuntimeError(f"migration left rows pointing at missing parents: {dangling[:5]}")

    def current_revision(self) -> str | None:
        """The migration the database is at, or None if it was never migrated."""
        with self.engine.connect() as connection:
            return migrations.current_revision(connection)

    @staticmethod
    def head_revision() -> str:
        """The newest migration shipped with this code (no database needed)."""
        return migrations.head_revision()

    def ping(self) -> bool:
        """True when the database answers `SELECT 1`; never raises."""
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except Exception:  # any failure at all means "not reachable" to a health check
            return False
        return True

    def dispose(self) -> None:
        """Close every pooled connection (at shutdown, or after a fork)."""
        self.engine.dispose()
