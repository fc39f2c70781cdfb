"""Cluster mode: several real `picloud serve` nodes on one PostgreSQL, Caddy in front."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable

import httpx
import psycopg
import pytest

from live_server import LiveServer, free_port
from picloud.cli.caddyfile import render_caddyfile
from picloud.store.notify import CHANNEL

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SCRIPT = 'def handle(req):\n    return {"node_agnostic": True}\n'


def eventually(check: Callable[[], bool], within: float) -> float:
    """Seconds until `check()` held; fails after `within` seconds."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        if check():
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(f"not true within {within} s")


@pytest.fixture
def two_nodes(tmp_path, postgres_url, start_live_server) -> tuple[LiveServer, LiveServer]:
    env = {"PICLOUD_DATABASE_URL": postgres_url}
    return (
        start_live_server(tmp_path / "a", env),
        start_live_server(tmp_path / "b", env),
    )


def deploy(node: LiveServer, path: str) -> None:
    with node.client(headers={"Authorization": f"Bearer {node.login()}"}) as api:
        script = api.post(
            "/api/v1/admin/scripts",
            json={"app_id": "default", "name": path.strip("/"), "source": SCRIPT},
        )
        assert script.status_code == 201, script.text
        route = api.post(
            f"/api/v1/admin/scripts/{script.json()['id']}/routes",
            json={"method": "GET", "host": "", "path": path},
        )
        assert route.status_code == 201, route.text


def test_a_change_on_one_node_reaches_the_other_within_a_second(two_nodes) -> None:
    a, b = two_nodes
    assert httpx.get(f"{b.url}/fresh").status_code == 404
    deploy(a, "/fresh")
    assert httpx.get(f"{a.url}/fresh").status_code == 200
    eventually(lambda: httpx.get(f"{b.url}/fresh").status_code == 200, within=1.0)


def test_a_lost_listener_connection_resynchronises(two_nodes, postgres_url) -> None:
    a, b = two_nodes
    conninfo = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as admin:
        # Cut every node's LISTEN connection, then change configuration while they are away.
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = %s",
            (f"LISTEN {CHANNEL}",),
        )
    deploy(a, "/while-away")
    eventually(lambda: httpx.get(f"{b.url}/while-away").status_code == 200, within=5.0)


def test_caddy_balances_the_nodes_and_survives_one_dying(two_nodes, tmp_path) -> None:
    caddy = shutil.which("caddy")
    if caddy is None:
        if os.environ.get("CI"):
            pytest.fail("caddy is not installed; .ci/run installs it")
        pytest.skip("caddy is not installed (apt-get install caddy)")
    a, b = two_nodes
    port = free_port()
    caddyfile = tmp_path / "Caddyfile"
    caddyfile.write_text(
        render_caddyfile(
            [f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"], http_port=port, admin="off"
        )
    )
    process = subprocess.Popen(
        [caddy, "run", "--config", str(caddyfile), "--adapter", "caddyfile"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        front = f"http://127.0.0.1:{port}"
        eventually(lambda: _answers(f"{front}/healthz"), within=15)
        hello = httpx.get(f"{front}/hello", params={"name": "Caddy"}, headers={"Host": "localhost"})
        assert hello.json() == {"message": "Hello, Caddy!"}
        unclaimed = httpx.get(f"{front}/hello", headers={"Host": "elsewhere.example"})
        assert unclaimed.status_code == 404
        assert "elsewhere.example" in unclaimed.json()["detail"]
        assert httpx.get(f"{front}/metrics").status_code == 404  # metrics stay internal

        a.stop(signal.SIGKILL)
        answers = [
            httpx.get(f"{front}/hello", headers={"Host": "localhost"}, timeout=10).status_code
            for _ in range(10)
        ]
        assert answers == [200] * 10
    finally:
        process.terminate()
        process.wait(10)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_tls_ask_allows_only_claimed_hosts(live_server: LiveServer) -> None:
    ask = f"{live_server.url}/api/v1/tls/ask"
    assert httpx.get(ask, params={"domain": "localhost"}).status_code == 200
    assert httpx.get(ask, params={"domain": "attacker.example"}).status_code == 404
    assert httpx.get(ask).status_code == 404


def test_metrics_count_requests_by_app_script_and_status(live_server: LiveServer) -> None:
    httpx.get(f"{live_server.url}/hello")
    text = httpx.get(f"{live_server.url}/metrics").text
    assert 'picloud_requests_total{app="default",script="hello",status="200"}' in text
    assert "picloud_request_duration_seconds_bucket" in text
    for name in (
        "picloud_live_workers",
        "picloud_cold_starts_total",
        "picloud_gate_rejections_total",
        "picloud_record_writer_pending",
    ):
        assert name in text
