"""What the reliability tests do to a real server: deploy scripts through the admin API, find
its worker processes, count the execution records it wrote, wait for something to hold."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import psutil
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from live_server import LiveServer
from picloud.store.database import Database
from picloud.store.schema import execution_logs

#: Marks the command line of a worker process (inside bwrap in strict mode).
WORKER_MARK = "picloud.executor.runtime.main"


def admin(server: LiveServer) -> httpx.Client:
    """An admin API client signed in as the first owner (a bearer token: no CSRF needed)."""
    return server.client(headers={"Authorization": f"Bearer {server.login()}"})


def deploy(
    api: httpx.Client,
    source: str,
    path: str,
    *,
    app: str = "default",
    name: str | None = None,
    method: str | None = "GET",
    limits: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Create a script in `app` (an id or slug) bound to `path` on every host it claims."""
    app_id = api.get(f"/api/v1/admin/apps/{app}").json()["id"]
    body = {"app_id": app_id, "name": name or path.strip("/") or "root", "source": source}
    if limits:
        body["limits"] = limits
    script = api.post("/api/v1/admin/scripts", json=body)
    assert script.status_code == 201, script.text
    route = api.post(
        f"/api/v1/admin/scripts/{script.json()['id']}/routes",
        json={"method": method, "host": "", "path": path},
    )
    assert route.status_code == 201, route.text
    return script.json()


def create_app(api: httpx.Client, slug: str, host: str) -> dict[str, Any]:
    """A new app claiming `host`."""
    app = api.post("/api/v1/admin/apps", json={"slug": slug, "name": slug})
    assert app.status_code == 201, app.text
    claim = api.post(f"/api/v1/admin/apps/{slug}/domains", json={"pattern": host})
    assert claim.status_code == 201, claim.text
    return app.json()


def worker_processes(server: LiveServer) -> list[psutil.Process]:
    """The processes running scripts (not their bwrap monitors), children of the server."""
    found = []
    for process in psutil.Process(server.process.pid).children(recursive=True):
        try:
            # bwrap's own command line names the worker's, so tell them apart by name.
            if process.name() != "bwrap" and any(WORKER_MARK in a for a in process.cmdline()):
                found.append(process)
        except psutil.NoSuchProcess:
            continue
    return found


def metric(server: LiveServer, name: str) -> float:
    """The value of one unlabelled metric on the server's /metrics page."""
    text = httpx.get(f"{server.url}/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                return sample.value
    raise AssertionError(f"no metric {name} in /metrics")


def recorded_ids(database_url: str) -> set[str]:
    """The ids of every execution record in the database."""
    database = Database(database_url)
    try:
        with database.connect() as conn:
            return set(conn.execute(sa.select(execution_logs.c.id)).scalars())
    finally:
        database.dispose()


class Traffic:
    """Requests sent one after another from a thread until the `with` block ends.

    `statuses` has every answer's status, `served` the execution ids of the 200s, `errors` the
    transport failures (no answer at all).
    """

    def __init__(self, url: str, *, headers: dict[str, str] | None = None):
        self.url = url
        self.headers = headers or {}
        self.statuses: list[int] = []
        self.served: list[str] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        with httpx.Client(headers=self.headers, timeout=10) as client:
            while not self._stop.is_set():
                try:
                    answer = client.get(self.url)
                except httpx.TransportError as exc:
                    self.errors.append(repr(exc))
                    time.sleep(0.05)
                    continue
                self.statuses.append(answer.status_code)
                if answer.status_code == 200:
                    self.served.append(answer.headers["x-picloud-execution-id"])


def eventually(check: Callable[[], Any], within: float, step: float = 0.05) -> Any:
    """The first truthy value of `check()`; fails if none comes within `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{check} did not hold within {within} s")
        time.sleep(step)
