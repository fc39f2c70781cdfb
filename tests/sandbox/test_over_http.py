"""The sandbox seen by a user: attacks deployed through the admin API, run over real HTTP against
a real `picloud serve`, answered with the status codes of SPEC section 5."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from executor.harness import needs_bubblewrap
from live_server import LiveServer, start_server

pytestmark = [pytest.mark.slow, needs_bubblewrap]

SECRET = f"http-secret-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("server") / "data"
    started = start_server(data_dir, {"PICLOUD_SANDBOX": "strict", "PICLOUD_TEST_SECRET": SECRET})
    yield started
    started.stop()


@pytest.fixture(scope="module")
def admin(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client(headers={"Authorization": f"Bearer {server.login()}"}) as client:
        yield client


def deploy(admin: httpx.Client, source: str, **limits: int) -> str:
    """Deploy `source` in the default app on GET /<random path>; answer that path."""
    name = f"attack-{uuid.uuid4().hex[:8]}"
    script = admin.post(
        "/api/v1/admin/scripts",
        json={"app_id": "default", "name": name, "source": source, "limits": limits},
    )
    assert script.status_code == 201, script.text
    route = admin.post(
        f"/api/v1/admin/scripts/{script.json()['id']}/routes",
        json={"method": "GET", "host": "", "path": f"/{name}"},
    )
    assert route.status_code == 201, route.text
    return f"/{name}"


def record(admin: httpx.Client, execution_id: str) -> dict:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        answer = admin.get(f"/api/v1/admin/executions/{execution_id}")
        if answer.status_code == 200:
            return answer.json()
        time.sleep(0.05)
    raise AssertionError(f"execution {execution_id} was never recorded")


@pytest.mark.parametrize(
    ("source", "limits", "status", "outcome", "error"),
    [
        ("def handle(req):\n    raise RuntimeError('hidden detail')\n", {}, 500, "error",
         "RuntimeError: hidden detail"),
        ("def handle(req):\n    while True:\n        pass\n", {"timeout_ms": 300}, 504,
         "timeout", "timed out after 300 ms"),
        ("def handle(req):\n    return bytearray(1 << 30)\n", {"memory_mb": 64}, 507, "memory",
         "memory limit of 64 MB"),
        ("import os\n\ndef handle(req):\n    os._exit(9)\n", {}, 502, "crashed",
         "worker exited with status 9"),
        ("def handle(req):\n    return 'x' * 5000\n", {"max_response_bytes": 1000}, 502,
         "invalid_response", "response body of 5000 bytes exceeds max_response_bytes 1000"),
    ],
)  # fmt: skip
def test_failures_answer_their_status_and_keep_details_in_the_record(
    server: LiveServer, admin: httpx.Client, source, limits, status, outcome, error
):
    path = deploy(admin, source, **limits)
    answer = httpx.get(f"{server.url}{path}")
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    execution_id = answer.headers["x-picloud-execution-id"]
    assert execution_id in answer.text
    assert error not in answer.text  # tracebacks and reasons stay in the execution record
    entry = record(admin, execution_id)
    assert (entry["outcome"], entry["status_code"]) == (outcome, status)
    assert error in entry["error"]


def test_a_script_sees_neither_the_server_environment_nor_its_database(
    server: LiveServer, admin: httpx.Client
):
    database = server.data_dir / "picloud.db"
    assert database.exists()
    source = f"""
import os

def attempt(action):
    try:
        return repr(action())[:500]
    except OSError as exc:
        return type(exc).__name__

def handle(req):
    return {{
        "environ": dict(os.environ),
        "database": attempt(lambda: open({str(database)!r}, "rb").read(100)),
        "data_dir": attempt(lambda: os.listdir({str(server.data_dir)!r})),
    }}
"""
    answer = httpx.get(f"{server.url}{deploy(admin, source)}")
    assert answer.status_code == 200
    found = answer.json()
    assert SECRET not in json.dumps(found)
    assert not any(name.startswith("PICLOUD_") for name in found["environ"])
    assert found["database"] == found["data_dir"] == "FileNotFoundError"


def test_version_reports_the_strict_sandbox(server: LiveServer):
    assert httpx.get(f"{server.url}/version").json()["sandbox"] == "strict"
