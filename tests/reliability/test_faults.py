"""Faults, each on real processes: a worker killed mid-request, the server killed while it
writes, PostgreSQL out of reach, the SQLite disk full, and SIGTERM with work in flight."""

from __future__ import annotations

import contextlib
import errno
import signal
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy.engine import make_url

from live_server import PICLOUD, LiveServer
from picloud.store import migrations
from reliability.live_platform import (
    Traffic,
    admin,
    deploy,
    eventually,
    metric,
    recorded_ids,
    worker_processes,
)
from reliability.tcp_proxy import TcpProxy

pytestmark = pytest.mark.slow

SLOW = """
import time

def handle(req):
    time.sleep(float(req.query.get("seconds", "0")))
    return {"slept": req.query.get("seconds", "0")}
"""


def in_flight(server: LiveServer) -> bool:
    return metric(server, "picloud_executions_in_flight") >= 1


def test_a_worker_killed_mid_request_answers_502_and_the_next_request_works(
    tmp_path: Path, start_live_server
) -> None:
    # No spare workers: the only worker process is the one serving the request.
    server = start_live_server(tmp_path / "data", {"PICLOUD_SPARE_WORKERS": "0"})
    with admin(server) as api:
        deploy(api, SLOW, "/slow")
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(httpx.get, f"{server.url}/slow?seconds=30", timeout=60)
        eventually(lambda: in_flight(server) and len(worker_processes(server)) == 1, within=10)
        (worker,) = worker_processes(server)
        eventually(lambda: worker.status() == psutil.STATUS_SLEEPING, within=5)
        worker.send_signal(signal.SIGKILL)
        answer = pending.result()
    assert answer.status_code == 502
    assert answer.json()["type"].endswith("/script-crashed")
    execution_id = answer.headers["x-picloud-execution-id"]
    after = httpx.get(f"{server.url}/slow", params={"seconds": "0"})
    assert (after.status_code, after.json()) == (200, {"slept": "0"})
    with admin(server) as api:
        record = eventually(lambda: api.get(f"/api/v1/admin/executions/{execution_id}"), 10)
        assert record.status_code == 200
        assert (record.json()["outcome"], record.json()["status_code"]) == ("crashed", 502)


def test_a_server_killed_while_writing_restarts_consistent(
    tmp_path: Path, database_url: str, start_live_server
) -> None:
    env = {"PICLOUD_DATABASE_URL": database_url, "PICLOUD_LOG_FLUSH_MS": "5"}
    server = start_live_server(tmp_path / "data", env)
    acknowledged: list[str] = []
    stop = threading.Event()

    def create_apps() -> None:
        with contextlib.suppress(httpx.TransportError), admin(server) as api:
            for n in range(10_000):
                if stop.is_set():
                    return
                answer = api.post("/api/v1/admin/apps", json={"slug": f"a{n}", "name": "n"})
                if answer.status_code == 201:
                    acknowledged.append(answer.json()["slug"])

    writer = threading.Thread(target=create_apps)
    with Traffic(f"{server.url}/hello") as traffic:
        writer.start()
        eventually(lambda: len(acknowledged) >= 5 and len(traffic.served) >= 20, within=30)
        workers = worker_processes(server)
        server.stop(signal.SIGKILL)
        stop.set()
        writer.join(30)
    # Workers die with the server (bwrap --die-with-parent): nothing is left behind.
    eventually(lambda: not any(w.is_running() for w in workers), within=10)

    for _ in range(2):  # migrating is idempotent, also right after a crash
        migrated = subprocess.run(
            [PICLOUD, "migrate"], env=server.env, capture_output=True, text=True, timeout=60
        )
        assert migrated.returncode == 0, migrated.stderr
        assert migrated.stdout.strip() == f"database at revision {migrations.head_revision()}"
    if database_url.startswith("sqlite"):
        with closing(sqlite3.connect(make_url(database_url).database)) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []

    restarted = start_live_server(tmp_path / "data", env)
    with admin(restarted) as api:
        slugs = {a["slug"] for a in api.get("/api/v1/admin/apps").json()["items"]}
    assert set(acknowledged) <= slugs  # every answered write survived the crash
    assert httpx.get(f"{restarted.url}/hello").status_code == 200


def test_postgresql_out_of_reach_fails_fast_and_recovers_without_a_restart(
    tmp_path: Path, postgres_url: str, start_live_server
) -> None:
    target = make_url(postgres_url)
    with TcpProxy(target.host or "127.0.0.1", target.port or 5432) as proxy:
        through_proxy = target.set(port=proxy.port).render_as_string(hide_password=False)
        server = start_live_server(tmp_path / "data", {"PICLOUD_DATABASE_URL": through_proxy})
        with admin(server) as api, Traffic(f"{server.url}/hello") as traffic:
            eventually(lambda: len(traffic.served) >= 5, within=10)
            proxy.cut()
            health = httpx.get(f"{server.url}/healthz", timeout=3)
            assert (health.status_code, health.text) == (503, "database unreachable")
            cut_at = len(traffic.served)
            # Dispatch answers from memory; only what needs the database fails, and fast.
            eventually(lambda: len(traffic.served) >= cut_at + 10, within=10)
            listing = api.get("/api/v1/admin/apps", timeout=10)
            assert listing.status_code >= 500
            assert listing.headers["content-type"] == "application/problem+json"

            proxy.restore()
            eventually(lambda: httpx.get(f"{server.url}/healthz").status_code == 200, within=5)
            assert api.get("/api/v1/admin/apps").status_code == 200
        assert set(traffic.statuses) == {200}
        assert traffic.errors == []
        # Records made while the database was away were kept and written when it came back.
        eventually(lambda: set(traffic.served) <= recorded_ids(postgres_url), within=10)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs (mounting needs root, which CI has)."""
    disk = tmp_path / "data"
    disk.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)]
    if subprocess.run(mount, capture_output=True, check=False).returncode != 0:
        pytest.skip("mounting a small tmpfs needs root")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=True)


def fill(disk: Path) -> Path:
    """Write a file until the filesystem has no room left; answers the file."""
    filler = disk / "filler"
    with filler.open("wb") as out, pytest.raises(OSError) as full:
        while True:
            out.write(b"\0" * 65_536)
            out.flush()
    assert full.value.errno == errno.ENOSPC
    return filler


def test_a_full_disk_gives_clear_errors_and_corrupts_nothing(
    small_disk: Path, start_live_server
) -> None:
    data_dir = small_disk  # the server's log goes beside it, on a disk with room
    server = start_live_server(data_dir, {"PICLOUD_LOG_FLUSH_MS": "20"})
    with admin(server) as api:
        filler = fill(small_disk)
        # Big enough to need new pages, so the write cannot fit in free space SQLite kept.
        source = 'def handle(req):\n    return "big"\n' + "#" * 500_000 + "\n"
        refused = api.post(
            "/api/v1/admin/scripts", json={"app_id": "default", "name": "big", "source": source}
        )
        assert refused.status_code >= 500
        assert refused.headers["content-type"] == "application/problem+json"
        assert "database or disk is full" in server.log()
        # The data plane goes on answering while its records wait in memory.
        served = [httpx.get(f"{server.url}/hello") for _ in range(5)]
        assert [a.status_code for a in served] == [200] * 5
        eventually(lambda: metric(server, "picloud_record_writer_pending") >= 1, within=10)

        filler.unlink()
        again = api.post(
            "/api/v1/admin/scripts", json={"app_id": "default", "name": "big", "source": source}
        )
        assert again.status_code == 201
        ids = {a.headers["x-picloud-execution-id"] for a in served}
        database_url = f"sqlite:///{data_dir / 'picloud.db'}"
        eventually(lambda: ids <= recorded_ids(database_url), within=10)
    server.stop()
    with closing(sqlite3.connect(data_dir / "picloud.db")) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_sigterm_lets_a_slow_request_finish_and_writes_every_record(
    tmp_path: Path, start_live_server
) -> None:
    # Records wait in memory for a minute: only the shutdown can have written them.
    server = start_live_server(tmp_path / "data", {"PICLOUD_LOG_FLUSH_MS": "60000"})
    with admin(server) as api:
        deploy(api, SLOW, "/slow")
    quick = [httpx.get(f"{server.url}/hello").headers["x-picloud-execution-id"] for _ in range(3)]
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(httpx.get, f"{server.url}/slow?seconds=1.5", timeout=30)
        eventually(lambda: in_flight(server), within=10)
        server.process.send_signal(signal.SIGTERM)
        answer = pending.result()
    assert (answer.status_code, answer.json()) == (200, {"slept": "1.5"})
    assert server.process.wait(30) in (0, -signal.SIGTERM)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/hello")
    database_url = f"sqlite:///{tmp_path / 'data' / 'picloud.db'}"
    assert {*quick, answer.headers["x-picloud-execution-id"]} <= recorded_ids(database_url)
