"""A signed-in browser tab on the dashboard, for the end-to-end tests (see conftest.py)."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from live_server import ADMIN_PASSWORD, ADMIN_USERNAME, LiveServer

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}

#: Form controls must have a name a screen reader can read: a <label>, aria-label(ledby).
UNLABELLED_CONTROLS_JS = """() =>
  [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
    .filter((el) => !el.hidden && el.offsetParent !== null)
    .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                    && !el.getAttribute('aria-labelledby'))
    .map((el) => el.outerHTML.slice(0, 120))"""


class Dashboard:
    """A signed-in browser tab on the dashboard, saving a screenshot of each page it visits."""

    def __init__(self, page: Page, server: LiveServer, artifacts: Path, scheme: str):
        self.page = page
        self.server = server
        self.artifacts = artifacts
        self.scheme = scheme
        self.script_errors: list[str] = []
        page.on("pageerror", lambda error: self.script_errors.append(str(error)))

    def goto(self, path: str) -> Page:
        self.page.goto(self.server.url + path)
        return self.page

    def snap(self, name: str) -> None:
        """Save a full-page screenshot and check every visible form control is labelled."""
        self.page.screenshot(path=str(self.artifacts / f"{name}-{self.scheme}.png"), full_page=True)
        assert self.page.evaluate(UNLABELLED_CONTROLS_JS) == [], f"unlabelled controls on {name}"

    def submit(self, form: str) -> None:
        """Click the submit button of the form matching `form` and wait for the next page."""
        with self.page.expect_navigation():
            self.page.locator(form).locator("button[type=submit]").first.click()

    def flash(self) -> str:
        return self.page.locator(".flashes").inner_text()


def sign_in(page: Page, server: LiveServer, next_path: str = "/admin/") -> None:
    page.goto(f"{server.url}{next_path}")
    expect(page).to_have_url(re.compile(r"/admin/login\?next="))
    page.get_by_label("User name").fill(ADMIN_USERNAME)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
