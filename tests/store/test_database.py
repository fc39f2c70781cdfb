import subprocess
import sys
import threading
from pathlib import Path

import pytest

from picloud.store import apps
from picloud.store.database import Database, normalize_url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/pc", "postgresql+psycopg://u:p@db:5432/pc"),
        ("postgresql://u@db/pc?sslmode=require", "postgresql+psycopg://u@db/pc?sslmode=require"),
        ("postgresql+psycopg://u@db/pc", "postgresql+psycopg://u@db/pc"),
        ("sqlite:///data/pc.db", "sqlite:///data/pc.db"),
        ("sqlite:////abs/pc.db", "sqlite:////abs/pc.db"),
    ],
)
def test_urls_are_rewritten_to_the_drivers_picloud_uses(given, expected):
    assert normalize_url(given) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u@db/pc", "unsupported database URL scheme 'mysql'"),
        ("picloud.db", "unsupported database URL scheme"),
        ("sqlite://", "in-memory SQLite is not supported"),
        ("sqlite:///:memory:", "in-memory SQLite is not supported"),
    ],
)
def test_unusable_urls_are_refused_with_a_clear_error(url, message):
    with pytest.raises(ValueError, match=message):
        Database(url)


def test_sqlite_database_gets_its_directory_wal_and_foreign_keys(tmp_path: Path):
    db = Database(f"sqlite:///{tmp_path / 'nested' / 'dir' / 'picloud.db'}")
    with db.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0
    assert (tmp_path / "nested" / "dir" / "picloud.db").exists()
    assert db.dialect_name == "sqlite"
    db.dispose()


def test_migrate_reaches_head_and_is_idempotent(database_url):
    db = Database(database_url)
    assert db.current_revision() is None
    db.migrate()
    assert db.current_revision() == db.head_revision() == Database.head_revision()
    db.migrate()
    with db.connect() as conn:
        assert [a.slug for a in apps.list_all(conn)] == ["default"]
    db.dispose()


def test_ping_answers_true_when_reachable(database):
    assert database.ping() is True


def test_ping_answers_false_instead_of_raising_when_unreachable(tmp_path: Path):
    assert Database("postgresql://nobody@127.0.0.1:1/none").ping() is False
    (tmp_path / "not-a-db").write_bytes(b"this is not a SQLite file" * 100)
    assert Database(f"sqlite:///{tmp_path / 'not-a-db'}").ping() is False


def test_the_password_stays_out_of_repr():
    assert "secret" not in repr(Database("postgresql://u:secret@127.0.0.1:1/pc"))


def test_a_failed_transaction_leaves_nothing_behind(database):
    with pytest.raises(RuntimeError), database.begin() as conn:
        apps.create(conn, slug="half", name="Half")
        raise RuntimeError("step two failed")
    with database.connect() as conn:
        assert apps.get_by_slug(conn, "half") is None


def test_snapshot_sees_one_state_while_others_commit(database):
    with database.snapshot() as reader:
        before = len(apps.list_all(reader))
        with database.begin() as writer:
            apps.create(writer, slug="late", name="Late")
        assert len(apps.list_all(reader)) == before
    with database.connect() as conn:
        assert len(apps.list_all(conn)) == before + 1


def test_concurrent_read_then_write_transactions_in_threads_all_succeed(database):
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(15):
                with database.begin() as conn:
                    # Read first, then write: the pattern that fails with "database is locked"
                    # on SQLite when two deferred transactions race.
                    apps.list_all(conn)
                    apps.create(conn, slug=f"t{n}-{i}", name="x")
        except BaseException as error:  # collect for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with database.connect() as conn:
        assert len(apps.list_all(conn)) == 1 + 6 * 15


WRITER_PROCESS = """
import sys
from picloud.store import apps
from picloud.store.database import Database
db = Database(sys.argv[1])
db.migrate()
for i in range(20):
    with db.begin() as conn:
        apps.list_all(conn)
        apps.create(conn, slug=f"p{sys.argv[2]}-{i}", name="x")
"""


def test_processes_migrating_and_writing_at_once_all_succeed(database_url):
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER_PROCESS, database_url, str(n)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(2)
    ]
    failures = [p.stderr.read() for p in processes if p.wait() != 0]
    assert failures == []
    db = Database(database_url)
    assert db.current_revision() == db.head_revision()
    with db.connect() as conn:
        slugs = [a.slug for a in apps.list_all(conn)]
        assert len(slugs) == 1 + 2 * 20
        assert slugs.count("default") == 1
    db.dispose()
