"""`picloud backup` and `picloud restore`: a consistent, portable snapshot of all PiCloud data.

A backup is one SQLite database file holding PiCloud's tables and its schema revision, whatever
the source database:

- from SQLite it is SQLite's online backup (pages copied under one read lock, so a running
  server may keep writing);
- from PostgreSQL it is a logical copy of every PiCloud table read in one REPEATABLE READ
  snapshot through SQLAlchemy, so no `pg_dump` of the server's exact version is needed.

A restore loads such a file into the configured database, SQLite or PostgreSQL, so a backup
moves between the two. The backup is first brought to this PiCloud's schema (in a scratch copy;
a backup from a newer PiCloud is refused), then every table of the target is emptied and
refilled in one transaction: it either lands whole or not at all. A target that already holds
anything a user made is refused unless `force` is given.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Connection

from picloud.store import migrations
from picloud.store.database import Database
from picloud.store.notify import CHANNEL
from picloud.store.schema import admin_users, api_keys, apps, execution_logs, metadata, scripts

#: Rows read and written per statement while copying a table.
COPY_BATCH_ROWS = 1_000
#: Tables in an order where every row's parents come before it (delete in reverse).
TABLES: tuple[sa.Table, ...] = tuple(metadata.sorted_tables)


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupSummary:
    """What a backup holds: its schema revision and the row count of every table."""

    path: Path
    revision: str
    rows: dict[str, int]

    def describe(self) -> str:
        """One line for the command's output.

        >>> BackupSummary(Path("b.db"), "0004_default_app", {"apps": 2, "scripts": 0}).describe()
        '2 rows at schema revision 0004_default_app (apps 2, scripts 0)'
        """
        counts = ", ".join(f"{table} {count}" for table, count in self.rows.items())
        return f"{sum(self.rows.values())} rows at schema revision {self.revision} ({counts})"


def backup(database: Database, path: Path, *, overwrite: bool = False) -> BackupSummary:
    """Write a consistent snapshot of `database` to the SQLite file `path`.

    The file appears whole or not at all: it is written beside `path` and renamed into place.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise BackupError(f"{path} exists; choose another path or overwrite it with --force")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        if database.dialect_name == "sqlite":
            _copy_sqlite_online(database, partial)
        else:
            _copy_logically(database, partial)
        summary = inspect_backup(partial)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return BackupSummary(path, summary.revision, summary.rows)


def inspect_backup(path: Path) -> BackupSummary:
    """The revision and row counts of a backup file; refuses a file that is not one."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path}: no such backup file")
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            damage = conn.execute("PRAGMA quick_check").fetchone()[0]
            dangling = conn.execute("PRAGMA foreign_key_check").fetchall()
            present = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
            # An older backup lacks the tables later revisions added.
            rows = {
                table.name: conn.execute(f'SELECT count(*) FROM "{table.name}"').fetchone()[0]
                for table in TABLES
                if table.name in present
            }
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a PiCloud backup ({exc})") from None
    if revision is None:
        raise BackupError(f"{path} is not a PiCloud backup (it has no schema revision)")
    if damage != "ok" or dangling:
        found = damage if damage != "ok" else f"rows pointing at missing parents: {dangling[:3]}"
        raise BackupError(f"{path} is damaged ({found}); restore another backup")
    return BackupSummary(path, revision[0], rows)


def restore(database: Database, path: Path, *, force: bool = False) -> BackupSummary:
    """Replace everything in `database` with the contents of the backup at `path`.

    The target is migrated to this PiCloud's schema first (a no-op when it is there); then one
    transaction empties every table and loads the backup's rows, so a failure changes nothing.
    """
    inspect_backup(path)
    with tempfile.TemporaryDirectory(prefix="picloud-restore-") as scratch:
        source = _upgraded_copy(Path(path), Path(scratch))
        try:
            database.migrate()
            try:
                with source.snapshot() as reading, database.begin() as writing:
                    rows = _load(reading, writing, force=force)
            except (sa.exc.SQLAlchemyError, ValueError) as exc:
                raise BackupError(f"loading {path} failed, so nothing was changed: {exc}") from exc
        finally:
            source.dispose()
    return BackupSummary(Path(path), migrations.head_revision(), rows)


def _upgraded_copy(path: Path, scratch: Path) -> Database:
    # Upgrade a copy, never the user's file: an older backup gains the newer tables and columns.
    copy = scratch / "backup.db"
    shutil.copyfile(path, copy)
    source = Database(f"sqlite:///{copy}")
    try:
        source.migrate()
    except migrations.SchemaTooNew:
        source.dispose()
        raise BackupError(
            f"{path} was made by a newer PiCloud than this one (which knows schema revisions "
            f"up to {migrations.head_revision()!r}): restore it with that version or a newer one"
        ) from None
    return source


def _load(reading: Connection, writing: Connection, *, force: bool) -> dict[str, int]:
    postgresql = writing.dialect.name == "postgresql"
    if postgresql:
        _lock_out_writers(writing)
    held = user_data(writing)
    if held and not force:
        raise BackupError(
            f"the database already holds data ({held}); restoring would replace all of it: "
            "pass --force to do so"
        )
    rows = _replace_rows(reading, writing)
    if postgresql:
        # Delivered on commit: running nodes reload their dispatch tables.
        writing.execute(sa.select(sa.func.pg_notify(CHANNEL, "restore")))
    return rows


def user_data(conn: Connection) -> str:
    """What in the database a user made, e.g. `'admin users: 1, scripts: 2'`; '' for nothing.

    A freshly migrated database holds only the seeded `default` app and its claims: empty.
    """

    def count(table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
        return conn.scalar(sa.select(sa.func.count()).select_from(table).where(*where)) or 0

    counts = {
        "admin users": count(admin_users),
        "API keys": count(api_keys),
        "scripts": count(scripts),
        "execution records": count(execution_logs),
        "apps besides default": count(apps, apps.c.slug != "default"),
    }
    return ", ".join(f"{what}: {n}" for what, n in counts.items() if n)


def _copy_sqlite_online(database: Database, target: Path) -> None:
    if not Path(database.engine.url.database or "").is_file():
        raise BackupError(f"nothing to back up: there is no database at {database.engine.url}")
    with database.connect() as conn:
        if migrations.current_revision(conn) is None:
            raise BackupError(f"nothing to back up: {database.url} has no PiCloud schema")
        source: sqlite3.Connection = conn.connection.driver_connection  # type: ignore[assignment]
        with closing(sqlite3.connect(target)) as copy:
            source.backup(copy)  # all pages in one step: one consistent read
    _make_self_contained(target)


def _copy_logically(database: Database, target: Path) -> None:
    with database.snapshot() as reading:
        revision = migrations.current_revision(reading)
        if revision is None:
            raise BackupError(f"nothing to back up: {database!r} has no PiCloud schema")
        copy = Database(f"sqlite:///{target}")
        try:
            copy.migrate(revision)
            with copy.begin() as writing:
                _replace_rows(reading, writing)
        finally:
            copy.dispose()
    _make_self_contained(target)


def _make_self_contained(path: Path) -> None:
    # One file, rather than a database that expects a -wal file beside it.
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")


def _replace_rows(source: Connection, target: Connection) -> dict[str, int]:
    """Empty every PiCloud table of `target`, then copy every row of `source` into it."""
    for table in reversed(TABLES):
        target.execute(table.delete())
    return {table.name: _copy_table(source, target, table) for table in TABLES}


def _copy_table(source: Connection, target: Connection, table: sa.Table) -> int:
    copied = 0
    result = source.execution_options(yield_per=COPY_BATCH_ROWS).execute(
        sa.select(table).order_by(*table.primary_key.columns)
    )
    for batch in result.partitions():
        target.execute(table.insert(), _as_dicts(batch))
        copied += len(batch)
    return copied


def _as_dicts(rows: Iterable[sa.Row]) -> list[dict]:
    return [dict(row._mapping) for row in rows]


def _lock_out_writers(conn: Connection) -> None:
    names = ", ".join(f'"{table.name}"' for table in TABLES)
    conn.exec_driver_sql(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE")
