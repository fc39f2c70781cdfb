"""The apps list and an app's tabs: overview, scripts, domains, settings (rename, delete)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from playwright.sync_api import expect

from dashboard.browser_tab import Dashboard

pytestmark = pytest.mark.slow

FAILING = "def handle(req):\n    raise RuntimeError('boom')\n"
HELLO = "def handle(req, ctx):\n    ctx.log.info('hi')\n    return {'ok': True}\n"


def test_apps_list_shows_scripts_activity_and_error_rate(
    ui: Dashboard, api: httpx.Client, new_app: str, new_script, wait_for_executions
) -> None:
    ok = new_script("ok", HELLO)
    failing = new_script("failing", FAILING)
    for script in (ok, ok, ok, failing):
        api.get(f"/api/v1/execute/{script['id']}")
    wait_for_executions(4, app=new_app)

    ui.goto("/admin/")
    row = ui.page.get_by_role("row").filter(has_text=new_app)
    expect(row.get_by_role("cell").nth(1)).to_have_text("2")  # scripts
    expect(row.get_by_role("cell").nth(2)).to_have_text("just now")
    expect(row.get_by_role("cell").nth(3)).to_have_text("4")  # runs in 24 h
    expect(row.get_by_role("cell").nth(4)).to_have_text("25.0%")
    ui.snap("apps-list")

    ui.page.get_by_role("link", name=f"App {new_app}").click()
    expect(ui.page.locator(".stat").filter(has_text="Error rate")).to_contain_text("25.0%")
    recent = ui.page.get_by_role("region", name="Recent executions")
    expect(recent.get_by_role("row")).to_have_count(5)  # header and four records
    expect(recent.get_by_text("error", exact=True)).to_be_visible()


def test_creating_an_app_leads_to_its_overview(ui: Dashboard, api: httpx.Client) -> None:
    slug = f"shop-{uuid.uuid4().hex[:6]}"
    page = ui.page
    ui.goto("/admin/")
    page.get_by_label("Slug").fill("Not A Slug")
    page.get_by_label("Name (optional)").fill("Shop")
    page.evaluate("document.getElementById('slug').removeAttribute('pattern')")  # server check
    ui.submit("form[action='/admin/apps']")
    expect(page.locator("#slug-error")).to_contain_text("is not a valid slug")
    expect(page.get_by_label("Slug")).to_have_attribute("aria-invalid", "true")
    ui.snap("apps-create-error")

    page.get_by_label("Slug").fill(slug)
    ui.submit("form[action='/admin/apps']")
    expect(page).to_have_url(f"{ui.server.url}/admin/apps/{slug}")
    expect(page.locator(".flashes")).to_contain_text(f"App '{slug}' created")
    expect(page.get_by_text("This app claims no domain yet")).to_be_visible()
    ui.snap("app-overview-empty")

    host = f"{slug}.example.test"
    api.post(f"/api/v1/admin/apps/{slug}/domains", json={"pattern": host}).raise_for_status()
    script = api.post(
        "/api/v1/admin/scripts", json={"app_id": slug, "name": "hello", "source": HELLO}
    ).json()
    api.post(
        f"/api/v1/admin/scripts/{script['id']}/routes",
        json={"method": "GET", "host": "", "path": "/hi"},
    ).raise_for_status()
    page.reload()
    url = f"http://{host}:{ui.server.port}/hi"
    expect(page.get_by_role("link", name=url)).to_be_visible()
    ui.snap("app-overview")


def test_domains_claim_conflict_and_release(ui: Dashboard, api: httpx.Client, new_app: str):
    other = f"other-{uuid.uuid4().hex[:6]}"
    api.post("/api/v1/admin/apps", json={"slug": other, "name": other}).raise_for_status()
    pattern = f"*.{new_app}.example.test"
    api.post(f"/api/v1/admin/apps/{other}/domains", json={"pattern": pattern}).raise_for_status()
    page = ui.page

    ui.goto(f"/admin/apps/{new_app}/domains")
    page.get_by_label("Host pattern").fill(pattern)
    ui.submit("form[action$='/domains']")
    error = page.locator("#pattern-error")
    expect(error).to_contain_text("is already claimed")
    expect(error.get_by_role("link", name=other)).to_have_attribute(
        "href", f"/admin/apps/{other}/domains"
    )
    ui.snap("app-domains-conflict")

    page.get_by_label("Host pattern").fill("*.*.example.test")
    ui.submit("form[action$='/domains']")
    expect(error).to_be_visible()

    page.get_by_label("Host pattern").fill(f"api.{new_app}.example.test")
    ui.submit("form[action$='/domains']")
    expect(page.locator(".flashes")).to_contain_text(f"Claimed api.{new_app}.example.test")
    expect(page.get_by_role("cell", name=f"api.{new_app}.example.test", exact=True)).to_be_visible()
    ui.snap("app-domains")

    page.get_by_role("button", name=f"Release api.{new_app}.example.test").click()
    expect(page.locator(".flashes")).to_contain_text("Released")
    expect(page.get_by_text("No domains claimed")).to_be_visible()


def test_rename_keeps_old_links_and_takeover_needs_confirmation(
    ui: Dashboard, api: httpx.Client, new_app: str
) -> None:
    page = ui.page
    renamed = f"{new_app}-v2"
    ui.goto(f"/admin/apps/{new_app}/settings")
    page.get_by_label("Slug").fill(renamed)
    ui.submit("form[action$='/settings']")
    expect(page).to_have_url(f"{ui.server.url}/admin/apps/{renamed}/settings")
    expect(page.locator(".flashes")).to_contain_text("keep working")

    answer = page.goto(f"{ui.server.url}/admin/apps/{new_app}/domains?x=1")
    assert answer.request.redirected_from.response().status == 308
    expect(page).to_have_url(f"{ui.server.url}/admin/apps/{renamed}/domains?x=1")

    # Another app asks for the old slug: the dashboard explains and waits for a confirmation.
    taker = f"taker-{uuid.uuid4().hex[:6]}"
    api.post("/api/v1/admin/apps", json={"slug": taker, "name": "Taker"}).raise_for_status()
    ui.goto(f"/admin/apps/{taker}/settings")
    page.get_by_label("Slug").fill(new_app)
    ui.submit("form[action$='/settings']")
    notice = page.locator("#takeover")
    expect(notice).to_contain_text(f"The slug {new_app} used to belong to app {renamed}")
    expect(page).to_have_url(f"{ui.server.url}/admin/apps/{taker}/settings")
    ui.snap("app-settings-takeover")

    page.get_by_role("button", name="Take over the slug and save").click()
    expect(page).to_have_url(f"{ui.server.url}/admin/apps/{new_app}/settings")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Taker")
    ui.goto(f"/admin/apps/{taker}")  # the taker's own old slug now redirects to it
    expect(page).to_have_url(f"{ui.server.url}/admin/apps/{new_app}")


def test_creating_an_app_on_an_old_slug_asks_first(ui: Dashboard, api: httpx.Client, new_app):
    api.patch(f"/api/v1/admin/apps/{new_app}", json={"slug": f"{new_app}-new"}).raise_for_status()
    page = ui.page
    ui.goto("/admin/")
    page.get_by_label("Slug").fill(new_app)
    ui.submit("form[action='/admin/apps']")
    expect(page.locator("#takeover")).to_contain_text(f"used to belong to app {new_app}-new")
    ui.snap("apps-create-takeover")
    ui.submit("form[action='/admin/apps']")
    expect(page).to_have_url(f"{ui.server.url}/admin/apps/{new_app}")


def test_deleting_an_app_needs_its_slug_typed(ui: Dashboard, new_app: str, new_script) -> None:
    new_script("doomed", HELLO)
    page = ui.page
    ui.goto(f"/admin/apps/{new_app}/settings")
    delete = page.get_by_role("button", name="Delete app")
    expect(delete).to_be_disabled()
    page.get_by_label(f"Type {new_app} to confirm").fill(new_app[:-1])
    expect(delete).to_be_disabled()
    page.get_by_label(f"Type {new_app} to confirm").fill(new_app)
    ui.snap("app-settings")
    with page.expect_navigation():
        delete.click()
    expect(page).to_have_url(f"{ui.server.url}/admin/")
    expect(page.locator(".flashes")).to_contain_text(f"Deleted app '{new_app}' with its 1 script")
    expect(page.get_by_role("row").filter(has_text=new_app)).to_have_count(0)
