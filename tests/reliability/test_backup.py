"""`picloud backup` / `picloud restore`: every row survives the round trip, on SQLite and
PostgreSQL and across the two; a restored data directory serves what the original served; and a
restore that should not happen changes nothing."""

from __future__ import annotations

import doctest
import os
import sqlite3
import subprocess
import threading
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from live_server import PICLOUD, LiveServer
from picloud.store import (
    api_keys,
    apps,
    domains,
    executions,
    instance,
    migrations,
    routes,
    scripts,
    sessions,
    users,
)
from picloud.store import backup as backup_module
from picloud.store.backup import TABLES, BackupError, backup, inspect_backup, restore
from picloud.store.database import Database
from picloud.store.executions import ExecutionRecord
from picloud.store.new_rows import new_id

T0 = datetime(2025, 3, 4, 5, 6, 7, 891_234, tzinfo=UTC)
SCRIPT = 'def handle(req):\n    return {"shop": req.params.get("item"), "ünï": "cødé ✓"}\n'


def fill_every_table(database: Database) -> None:
    """At least one row in every PiCloud table, with NULLs, JSON, booleans and non-ASCII text."""
    with database.begin() as conn:
        owner = users.create(conn, username="ada", password_hash="$argon2id$x", role="owner")
        users.create(conn, username="bob", password_hash="$argon2id$y", role="admin")
        users.update(conn, owner.id, is_active=False)
        shop = apps.create(conn, slug="shop", name="Shöp", description="sells ✓")
        apps.record_old_slug(conn, "store", shop.id)
        domains.create(
            conn,
            app_id=shop.id,
            pattern="*.shop.test",
            shape="wildcard",
            shape_key="wildcard:shop.test",
        )
        cart = scripts.create(
            conn, app_id=shop.id, name="cart", source=SCRIPT, limits={"timeout_ms": 1500}
        )
        scripts.update(conn, cart.id, source=SCRIPT + "# v2\n")
        routes.create(
            conn, app_id=shop.id, script_id=cart.id, method=None, host="",
            host_kind="any", path="/items/:item", path_kind="param",
        )  # fmt: skip
        executions.insert_many(conn, [_record(shop.id, cart.id, n) for n in range(3)])
        sessions.create(
            conn, token_hash="a" * 64, user_id=owner.id, csrf_token="csrf",
            now=T0, expires_at=T0 + timedelta(hours=24),
        )  # fmt: skip
        api_keys.create(
            conn, name="deploy", prefix="pic_abcdefgh", token_hash="b" * 64,
            scopes=["scripts:write", "script:invoke"], app_id=shop.id,
            expires_at=T0 + timedelta(days=30), created_by=owner.id,
        )  # fmt: skip
        api_keys.create(conn, name="global", prefix="pic_ijklmnop", token_hash="c" * 64, scopes=[])
        instance.set(conn, "hello_world_seeded", "skipped")


def _record(app_id: str, script_id: str, n: int) -> ExecutionRecord:
    return ExecutionRecord(
        id=new_id(),
        app_id=app_id,
        script_id=script_id,
        script_version=2,
        invocation="http",
        method="GET",
        path=f"/items/{n}",
        status_code=200 + n,
        outcome="ok" if n == 0 else "error",
        duration_ms=1.25 * n,
        started_at=T0 + timedelta(seconds=n),
        logs=[{"level": "info", "message": "hi ✓", "fields": {"n": n, "x": [1, None]}, "at": "t"}],
        error=None if n == 0 else "Traceback ...\nValueError: ✗",
    )


def contents(database: Database) -> dict[str, list[dict]]:
    """Every row of every PiCloud table, in an order that does not depend on the database."""
    with database.snapshot() as conn:
        return {
            table.name: sorted(
                (dict(row._mapping) for row in conn.execute(sa.select(table))),
                key=lambda row, table=table: [str(row[c.name]) for c in table.primary_key],
            )
            for table in TABLES
        }


def forget_everything(database: Database) -> None:
    """The database as after a disk loss: no PiCloud tables at all."""
    with database.begin() as conn:
        for table in reversed(TABLES):
            conn.execute(sa.text(f'DROP TABLE "{table.name}"'))
        conn.execute(sa.text("DROP TABLE alembic_version"))


def test_the_worked_examples_hold() -> None:
    assert doctest.testmod(backup_module).failed == 0


def test_a_backup_restores_every_row_exactly(database: Database, tmp_path: Path) -> None:
    fill_every_table(database)
    before = contents(database)
    summary = backup(database, tmp_path / "picloud.backup")
    assert summary.revision == migrations.head_revision()
    assert summary.rows["execution_logs"] == 3
    assert all(summary.rows[table.name] for table in TABLES)
    forget_everything(database)
    restore(database, tmp_path / "picloud.backup")
    assert contents(database) == before
    assert database.current_revision() == migrations.head_revision()


def test_a_sqlite_backup_restores_into_postgresql_and_back(tmp_path: Path, postgres_url: str):
    sqlite = Database(f"sqlite:///{tmp_path / 'a.db'}")
    postgresql = Database(postgres_url)
    again = Database(f"sqlite:///{tmp_path / 'b.db'}")
    try:
        sqlite.migrate()
        fill_every_table(sqlite)
        backup(sqlite, tmp_path / "from-sqlite.backup")
        restore(postgresql, tmp_path / "from-sqlite.backup")
        assert contents(postgresql) == contents(sqlite)
        backup(postgresql, tmp_path / "from-postgresql.backup")
        restore(again, tmp_path / "from-postgresql.backup")
        assert contents(again) == contents(sqlite)
    finally:
        for database in (sqlite, postgresql, again):
            database.dispose()


def test_a_restore_into_a_database_with_data_needs_force(database: Database, tmp_path: Path):
    fill_every_table(database)
    backup(database, tmp_path / "full.backup")
    other = Database(f"sqlite:///{tmp_path / 'other.db'}")
    other.migrate()
    backup(other, tmp_path / "empty.backup")
    other.dispose()
    before = contents(database)
    with pytest.raises(
        BackupError,
        match=r"already holds data \(admin users: 2, API keys: 2, scripts: 1, execution records: 3",
    ):
        restore(database, tmp_path / "empty.backup")
    assert contents(database) == before
    restore(database, tmp_path / "empty.backup", force=True)
    assert [a["slug"] for a in contents(database)["apps"]] == ["default"]
    assert contents(database)["scripts"] == []


def test_a_failing_restore_changes_nothing(database: Database, tmp_path: Path) -> None:
    fill_every_table(database)
    path = tmp_path / "odd.backup"
    backup(database, path)
    with closing(sqlite3.connect(path)) as conn, conn:
        # Readable by SQLite, unreadable as a time: found only while the rows are copied.
        conn.execute("UPDATE execution_logs SET started_at = 'soon' WHERE status_code = 202")
    before = contents(database)
    with pytest.raises(BackupError, match="failed, so nothing was changed"):
        restore(database, path, force=True)
    assert contents(database) == before


def test_a_damaged_backup_is_refused_before_anything_is_touched(tmp_path: Path) -> None:
    source = Database(f"sqlite:///{tmp_path / 'a.db'}")
    source.migrate()
    fill_every_table(source)
    path = tmp_path / "damaged.backup"
    backup(source, path)
    source.dispose()
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE execution_logs SET script_id = 'gone' WHERE status_code = 202")
    with pytest.raises(BackupError, match=r"is damaged \(rows pointing at missing parents"):
        inspect_backup(path)


def test_backups_from_a_newer_picloud_or_not_backups_at_all_are_refused(
    database: Database, tmp_path: Path
) -> None:
    path = tmp_path / "future.backup"
    backup(database, path)
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    with pytest.raises(BackupError, match="made by a newer PiCloud"):
        restore(database, path)
    (tmp_path / "notes.txt").write_text("not a database")
    with pytest.raises(BackupError, match="is not a PiCloud backup"):
        restore(database, tmp_path / "notes.txt")
    with pytest.raises(BackupError, match="no such backup file"):
        restore(database, tmp_path / "missing.backup")
    with pytest.raises(BackupError, match="exists; choose another path"):
        backup(database, path)


def test_an_older_backup_is_brought_up_to_this_schema(tmp_path: Path) -> None:
    old = Database(f"sqlite:///{tmp_path / 'old.db'}")
    old.migrate("0003_auth")
    with old.begin() as conn:
        apps.create(conn, slug="legacy", name="Legacy")
    backup(old, tmp_path / "old.backup")
    old.dispose()
    assert inspect_backup(tmp_path / "old.backup").revision == "0003_auth"
    target = Database(f"sqlite:///{tmp_path / 'new.db'}")
    summary = restore(target, tmp_path / "old.backup")
    assert summary.revision == migrations.head_revision()
    assert {a["slug"] for a in contents(target)["apps"]} == {"legacy", "default"}
    target.dispose()


# -- end to end: the commands and real servers ---------------------------------------------------


def picloud(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PICLOUD, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def deploy_shop(server: LiveServer) -> tuple[str, str]:
    """An app with a script on a param route; answers (an API key, the script's id)."""
    with server.client(headers={"Authorization": f"Bearer {server.login()}"}) as api:
        shop = api.post("/api/v1/admin/apps", json={"slug": "shop", "name": "Shop"}).json()
        api.post(f"/api/v1/admin/apps/{shop['id']}/domains", json={"pattern": "shop.test"})
        script = api.post(
            "/api/v1/admin/scripts", json={"app_id": shop["id"], "name": "cart", "source": SCRIPT}
        ).json()
        api.post(
            f"/api/v1/admin/scripts/{script['id']}/routes",
            json={"method": "GET", "host": "", "path": "/items/:item"},
        ).raise_for_status()
        key = api.post(
            "/api/v1/admin/api-keys", json={"name": "ci", "scopes": ["script:invoke"]}
        ).json()["token"]
    return key, script["id"]


def test_a_restored_data_directory_serves_what_the_original_served(
    tmp_path: Path, start_live_server
) -> None:
    original = start_live_server(tmp_path / "original")
    key, script_id = deploy_shop(original)
    answer = httpx.get(f"{original.url}/items/42", headers={"Host": "shop.test"})
    assert answer.status_code == 200
    served_id = answer.headers["x-picloud-execution-id"]

    # Back up while requests keep arriving: the online backup is one consistent read.
    stop = threading.Event()

    def keep_calling() -> None:
        with httpx.Client(headers={"Host": "shop.test"}) as client:
            while not stop.is_set():
                client.get(f"{original.url}/items/1")

    caller = threading.Thread(target=keep_calling)
    caller.start()
    try:
        made = picloud("backup", str(tmp_path / "site.backup"), env=original.env)
    finally:
        stop.set()
        caller.join()
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("backed up ") and "scripts 2" in made.stdout
    with closing(sqlite3.connect(tmp_path / "site.backup")) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []

    fresh_env = {**original.env, "PICLOUD_DATA_DIR": str(tmp_path / "restored")}
    loaded = picloud("restore", str(tmp_path / "site.backup"), env=fresh_env)
    assert loaded.returncode == 0, loaded.stderr
    again = picloud("restore", str(tmp_path / "site.backup"), env=fresh_env)
    assert again.returncode == 1
    assert "already holds data" in again.stderr and "--force" in again.stderr

    restored = start_live_server(tmp_path / "restored")
    answer = httpx.get(f"{restored.url}/items/42", headers={"Host": "shop.test"})
    assert answer.json() == {"shop": "42", "ünï": "cødé ✓"}
    with restored.client(headers={"Authorization": f"Bearer {restored.login()}"}) as api:
        assert api.get(f"/api/v1/admin/executions/{served_id}").json()["path"] == "/items/42"
    by_key = httpx.get(
        f"{restored.url}/api/v1/execute/{script_id}", headers={"Authorization": f"Bearer {key}"}
    )
    assert by_key.status_code == 200


def test_the_commands_refuse_clearly(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "PICLOUD_DATA_DIR": str(tmp_path / "data")}
    nothing = picloud("backup", str(tmp_path / "b.backup"), env=env)
    assert nothing.returncode == 1
    assert "nothing to back up" in nothing.stderr
    (tmp_path / "junk").write_bytes(b"\x00" * 200)
    junk = picloud("restore", str(tmp_path / "junk"), env=env)
    assert junk.returncode == 1
    assert junk.stderr.startswith("picloud: ") and "is not a PiCloud backup" in junk.stderr
