"""End to end: a real `picloud serve` process, real HTTP over loopback, a real worker."""

from __future__ import annotations

import signal
import subprocess
import time

import httpx
import pytest

from live_server import PICLOUD, LiveServer

pytestmark = pytest.mark.slow


def wait_for_execution(server: LiveServer, token: str, execution_id: str) -> dict:
    with server.client(headers={"Authorization": f"Bearer {token}"}) as client:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            answer = client.get(f"/api/v1/admin/executions/{execution_id}")
            if answer.status_code == 200:
                return answer.json()
            time.sleep(0.05)
    raise AssertionError(f"execution {execution_id} was never recorded")


def test_hello_world_answers_on_localhost(live_server: LiveServer) -> None:
    answer = httpx.get(f"http://localhost:{live_server.port}/hello", params={"name": "Ada"})
    assert answer.status_code == 200
    assert answer.json() == {"message": "Hello, Ada!"}
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["x-picloud-execution-id"]


def test_hello_world_reads_a_json_body(live_server: LiveServer) -> None:
    answer = httpx.request("GET", f"{live_server.url}/hello", json={"name": "Grace"})
    assert answer.json() == {"message": "Hello, Grace!"}


def test_unclaimed_host_is_404_naming_the_host(live_server: LiveServer) -> None:
    answer = httpx.get(f"{live_server.url}/hello", headers={"Host": "nobody.example.org"})
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"] == "no app claims host 'nobody.example.org'"
    assert answer.headers["x-picloud-execution-id"]


def test_unknown_path_and_wrong_method(live_server: LiveServer) -> None:
    missing = httpx.get(f"{live_server.url}/nothing-here")
    assert missing.status_code == 404
    assert "no route" in missing.json()["detail"]
    wrong = httpx.delete(f"{live_server.url}/hello")
    assert wrong.status_code == 405
    assert "GET" in wrong.headers["allow"]


def test_root_redirects_to_the_dashboard(live_server: LiveServer) -> None:
    answer = httpx.get(f"{live_server.url}/", follow_redirects=False)
    assert answer.status_code in (302, 307, 308)
    assert answer.headers["location"] == "/admin/"


def test_health_and_version(live_server: LiveServer) -> None:
    health = httpx.get(f"{live_server.url}/healthz")
    assert (health.status_code, health.text) == (200, "ok")
    version = httpx.get(f"{live_server.url}/version").json()
    assert version["product"] == "picloud"
    assert version["api"] == 1
    assert version["schema"]
    assert version["sdk"].count(".") == 1
    assert version["sandbox"] in ("strict", "weak")


def test_execution_record_has_status_duration_and_log_lines(live_server: LiveServer) -> None:
    answer = httpx.get(f"{live_server.url}/hello", params={"name": "Lin"})
    record = wait_for_execution(
        live_server, live_server.login(), answer.headers["x-picloud-execution-id"]
    )
    assert record["status_code"] == 200
    assert record["outcome"] == "ok"
    assert record["duration_ms"] > 0
    assert record["invocation"] == "http"
    assert record["path"] == "/hello"
    assert [(line["level"], line["message"], line["fields"]) for line in record["logs"]] == [
        ("info", "greeting", {"name": "Lin"})
    ]


def test_execute_by_id_needs_a_credential(live_server: LiveServer) -> None:
    token = live_server.login()
    auth = {"Authorization": f"Bearer {token}"}
    scripts = httpx.get(f"{live_server.url}/api/v1/admin/scripts?app=default", headers=auth)
    script_id = next(s["id"] for s in scripts.json()["items"] if s["name"] == "hello")
    url = f"{live_server.url}/api/v1/execute/{script_id}"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer pic_wrong"}).status_code == 401
    answer = httpx.get(url, params={"name": "Bo"}, headers=auth)
    assert answer.status_code == 200
    assert answer.json() == {"message": "Hello, Bo!"}


def test_sigterm_writes_every_buffered_record(tmp_path, start_live_server) -> None:
    server = start_live_server(tmp_path / "data", {"PICLOUD_LOG_FLUSH_MS": "60000"})
    ids = [httpx.get(f"{server.url}/hello").headers["x-picloud-execution-id"] for _ in range(5)]
    # uvicorn re-raises SIGTERM after its graceful shutdown, so -SIGTERM is a clean exit.
    assert server.stop() in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in server.log()
    restarted = start_live_server(tmp_path / "data")
    token = restarted.login()
    for execution_id in ids:
        assert wait_for_execution(restarted, token, execution_id)["status_code"] == 200


def test_bad_configuration_stops_with_one_line(tmp_path) -> None:
    result = subprocess.run(
        [PICLOUD, "serve"],
        env={"PATH": "/usr/bin:/bin", "PICLOUD_BIND": "nowhere", "PICLOUD_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "picloud: PICLOUD_BIND='nowhere' is not valid: expected HOST:PORT"
    )


def test_control_plane_answers_carry_a_request_id(live_server: LiveServer) -> None:
    first = httpx.get(f"{live_server.url}/api/v1/admin/auth/me")
    second = httpx.get(f"{live_server.url}/api/v1/admin/auth/me")
    assert first.status_code == 401
    assert len(first.headers["x-request-id"]) == 32
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


def test_the_control_plane_answers_only_on_admin_hosts(live_server: LiveServer) -> None:
    for path in ("/api/v1/admin/auth/me", "/admin/login", "/metrics", "/api/v1/openapi.json"):
        answer = httpx.get(f"{live_server.url}{path}", headers={"Host": "tenant.example"})
        assert answer.status_code == 404, path
        assert answer.headers["content-type"] == "application/problem+json"


def test_execute_authenticates_before_saying_whether_a_script_exists(
    live_server: LiveServer,
) -> None:
    url = f"{live_server.url}/api/v1/execute/no-such-script"
    assert httpx.get(url, headers={"Authorization": "Bearer pic_bad"}).status_code == 401
    token = live_server.login()
    assert httpx.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 404
