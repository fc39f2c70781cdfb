"""The five-minute path of issue 9, in one go, as a newcomer clicks it: create an app, claim a
domain, write a script, bind a route, test it, call it for real, read its execution records."""

from __future__ import annotations

import uuid

import httpx
import pytest
from playwright.sync_api import expect

from dashboard.browser_tab import Dashboard

pytestmark = pytest.mark.slow

SOURCE = """\
def handle(req, ctx):
    who = req.params.get("who", "stranger")
    ctx.log.info("welcomed", who=who)
    return {"welcome": who}
"""


def test_from_nothing_to_a_working_endpoint(ui: Dashboard, wait_for_executions) -> None:
    page = ui.page
    slug = f"demo-{uuid.uuid4().hex[:6]}"
    host = f"{slug}.localhost"

    ui.goto("/admin/")
    page.get_by_label("Slug").fill(slug)
    ui.submit("form[action='/admin/apps']")
    ui.snap("newcomer-1-app")

    page.get_by_role("link", name="Domains").click()
    page.get_by_label("Host pattern").fill(host)
    ui.submit("form[action$='/domains']")
    expect(page.locator(".flashes")).to_contain_text(f"Claimed {host}")

    page.get_by_role("link", name="Scripts", exact=True).click()
    page.get_by_label("Name").fill("welcome")
    ui.submit("form[action$='/scripts']")
    page.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(SOURCE)
    ui.submit("form[action$='/edit']")
    expect(page.locator(".flashes")).to_contain_text("Saved 'welcome' as version 2")
    ui.snap("newcomer-2-script")

    page.get_by_role("link", name="Routing").click()
    add = page.get_by_role("region", name="Add a route")
    add.get_by_label("Path", exact=True).fill("/welcome/:who")
    expect(page.locator("#route-verdict")).to_contain_text("path kind param")
    ui.submit("#route-form")
    expect(page.locator(".flashes")).to_contain_text("Route added: GET")
    ui.snap("newcomer-3-route")

    page.get_by_role("link", name="Test").click()
    page.get_by_label("Path and query").fill("/welcome/ada")
    ui.submit("form[action$='/test']")
    expect(page.locator(".status-line")).to_have_text("200 OK")
    ui.snap("newcomer-4-test")

    # The real endpoint answers too, on the claimed host.
    answer = httpx.get(f"{ui.server.url}/welcome/grace", headers={"Host": host})
    assert answer.json() == {"welcome": "grace"}
    wait_for_executions(2, app=slug)

    page.get_by_role("link", name="Executions").click()
    rows = page.locator("#executions tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("GET /welcome/grace")
    rows.first.get_by_role("link").click()
    expect(page.get_by_role("log")).to_contain_text('welcomed who="grace"')
    ui.snap("newcomer-5-execution")

    ui.goto(f"/admin/apps/{slug}")
    expect(
        page.get_by_role("cell", name=f"http://{host}:{ui.server.port}/welcome/:who")
    ).to_be_visible()
    ui.snap("newcomer-6-overview")
