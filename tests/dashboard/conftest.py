"""End-to-end fixtures for the dashboard: a real `picloud serve`, Debian's Chromium driven by
Playwright, and a screenshot of every page a test visits under `test-artifacts/dashboard/`.

- `chromium_path`: `PICLOUD_TEST_CHROMIUM` (default `/usr/bin/chromium`); without it the tests
  skip with the reason, except in CI (`CI` set), where a missing browser is a failure.
- `dashboard_server`: one server for the whole session (weak sandbox: these tests are about the
  pages, not isolation); `api`: an httpx client signed in as its owner, to arrange data fast.
- `browser`, then `ui` (light) and `dark_ui`: a fresh browser context signed in through the
  login form, wrapped in `Dashboard` (goto / snap / field helpers).
- `new_app`: a fresh app (unique slug) made through the admin API; `new_script` adds a script;
  `wait_for_executions` waits until execution records are written.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, sync_playwright

from dashboard.browser_tab import CHROMIUM_ARGS, DESKTOP, Dashboard, sign_in
from live_server import LiveServer, start_server


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("PICLOUD_TEST_CHROMIUM", "/usr/bin/chromium")
    if not Path(path).exists():
        reason = f"no Chromium at {path} (apt-get install chromium, or set PICLOUD_TEST_CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def artifacts(pytestconfig: pytest.Config) -> Path:
    directory = pytestconfig.rootpath / "test-artifacts" / "dashboard"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Browser]:
    # Module scope, not session: Playwright's sync API keeps an asyncio loop running in this
    # thread while it is open, which would break every async test run after it in the process.
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def dashboard_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(
        tmp_path_factory.mktemp("dashboard") / "data", {"PICLOUD_SANDBOX": "weak"}
    )
    yield server
    server.stop()


@pytest.fixture(scope="session")
def api(dashboard_server: LiveServer) -> Iterator[httpx.Client]:
    token = dashboard_server.login()
    with dashboard_server.client(headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


def _context(browser: Browser, scheme: str, **options) -> BrowserContext:
    return browser.new_context(
        color_scheme=scheme, viewport=options.pop("viewport", DESKTOP), **options
    )


@pytest.fixture
def open_dashboard(
    browser: Browser, dashboard_server: LiveServer, artifacts: Path
) -> Iterator[Callable[..., Dashboard]]:
    """`open_dashboard(scheme="light", **context_options)` -> a signed-in `Dashboard`."""
    contexts: list[BrowserContext] = []

    def open_one(scheme: str = "light", **options) -> Dashboard:
        context = _context(browser, scheme, **options)
        contexts.append(context)
        dashboard = Dashboard(context.new_page(), dashboard_server, artifacts, scheme)
        sign_in(dashboard.page, dashboard_server)
        return dashboard

    yield open_one
    for context in contexts:
        context.close()


@pytest.fixture
def ui(open_dashboard: Callable[..., Dashboard]) -> Iterator[Dashboard]:
    dashboard = open_dashboard("light")
    yield dashboard
    assert dashboard.script_errors == [], "JavaScript errors on the pages"


@pytest.fixture
def new_app(api: httpx.Client) -> str:
    slug = f"app-{uuid.uuid4().hex[:8]}"
    api.post("/api/v1/admin/apps", json={"slug": slug, "name": f"App {slug}"}).raise_for_status()
    return slug


@pytest.fixture
def new_script(api: httpx.Client, new_app: str) -> Callable[..., dict]:
    """`new_script(name, source, route=None)` -> the script's JSON (route: "METHOD /path")."""

    def create(name: str, source: str, route: str | None = None) -> dict:
        answer = api.post(
            "/api/v1/admin/scripts", json={"app_id": new_app, "name": name, "source": source}
        )
        answer.raise_for_status()
        script = answer.json()
        if route:
            method, path = route.split(" ", 1)
            api.post(
                f"/api/v1/admin/scripts/{script['id']}/routes",
                json={"method": method, "host": "", "path": path},
            ).raise_for_status()
        return script

    return create


@pytest.fixture
def wait_for_executions(api: httpx.Client) -> Callable[..., list[dict]]:
    """`wait_for_executions(count, app=..., script=...)`: the records, once `count` are written
    (they land in batches a few milliseconds after the response)."""

    def wait(count: int, **filters: str) -> list[dict]:
        deadline = time.monotonic() + 10
        while True:
            items = api.get("/api/v1/admin/executions", params=filters).json()["items"]
            if len(items) >= count:
                return items
            assert time.monotonic() < deadline, f"{count} records of {filters} never arrived"
            time.sleep(0.05)

    return wait
