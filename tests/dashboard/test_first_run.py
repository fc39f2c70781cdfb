"""First run and signing in: the setup link, the login page, `next`, sign out, keyboard use."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Browser, expect

from dashboard.browser_tab import DESKTOP, Dashboard
from live_server import ADMIN_PASSWORD, ADMIN_USERNAME

pytestmark = pytest.mark.slow

SETUP_LINK = re.compile(r"http://\S+/admin/setup\?token=\S+")


def test_setup_link_creates_the_first_owner_and_signs_in(
    tmp_path, start_live_server, browser: Browser, artifacts
) -> None:
    server = start_live_server(
        tmp_path / "data",
        {"PICLOUD_SANDBOX": "weak", "PICLOUD_ADMIN_USERNAME": "", "PICLOUD_ADMIN_PASSWORD": ""},
    )
    link = SETUP_LINK.search(server.log()).group(0)
    context = browser.new_context(viewport=DESKTOP)
    ui = Dashboard(context.new_page(), server, artifacts, "light")
    page = ui.page

    ui.goto("/admin/setup?token=not-the-token")
    expect(page.get_by_role("alert")).to_contain_text("This setup link is not valid")
    ui.snap("setup-invalid-token")

    ui.goto("/admin/")  # the login page says where to go while no admin exists
    expect(page.locator(".notice.info")).to_contain_text("setup link")

    page.goto(link)
    page.get_by_label("User name").fill("first")
    page.get_by_label("Password", exact=True).fill("a long password")
    page.get_by_label("Password, again").fill("another password")
    ui.submit("form")
    expect(page.locator("#password_again-error")).to_have_text("The two passwords differ.")
    ui.snap("setup")

    page.get_by_label("Password", exact=True).fill("a long password")
    page.get_by_label("Password, again").fill("a long password")
    ui.submit("form")
    expect(page).to_have_url(f"{server.url}/admin/")
    expect(page.locator(".flashes")).to_contain_text("Welcome, first")
    expect(page.locator(".whoami")).to_contain_text("first")
    ui.snap("setup-done")

    page.goto(link)  # the link is spent once the owner exists
    expect(page).to_have_url(f"{server.url}/admin/")
    expect(page.locator(".flashes")).to_contain_text("Setup is complete")
    context.close()


def test_login_returns_to_the_page_asked_for(browser: Browser, dashboard_server, artifacts):
    context = browser.new_context(viewport=DESKTOP)
    ui = Dashboard(context.new_page(), dashboard_server, artifacts, "light")
    page = ui.page
    ui.goto("/admin/apps/default/domains")
    expect(page).to_have_url(re.compile(r"/admin/login\?next=%2Fadmin%2Fapps%2Fdefault%2Fdomains"))

    page.get_by_label("User name").fill(ADMIN_USERNAME)
    page.get_by_label("Password").fill("not the password")
    ui.submit("form")
    expect(page.get_by_role("alert")).to_contain_text("Wrong username or password")
    ui.snap("login-failed")

    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    ui.submit("form")
    expect(page).to_have_url(f"{dashboard_server.url}/admin/apps/default/domains")
    expect(page.locator(".flashes")).to_contain_text(f"Signed in as {ADMIN_USERNAME}")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{dashboard_server.url}/admin/login")
    expect(page.locator(".flashes")).to_contain_text("You are signed out")
    ui.snap("login")
    ui.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login"))
    context.close()


def test_signing_in_with_the_keyboard_only(browser: Browser, dashboard_server) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{dashboard_server.url}/admin/login")
    expect(page.get_by_label("User name")).to_be_focused()
    page.keyboard.type(ADMIN_USERNAME)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(ADMIN_PASSWORD)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign in")).to_be_focused()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page).to_have_url(f"{dashboard_server.url}/admin/")
    # The first Tab on a signed-in page reaches the skip link, which jumps to the content.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    context.close()


def test_anonymous_requests_never_reach_a_page(dashboard_server) -> None:
    with httpx.Client(base_url=dashboard_server.url) as client:
        answer = client.get("/admin/apps/default")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/admin/login?next=%2Fadmin%2Fapps%2Fdefault"
        posted = client.post("/admin/apps", data={"slug": "sneaky", "name": "x"})
        assert posted.status_code == 303
        assert posted.headers["location"].startswith("/admin/login")
        # After signing in, `next` never leads off the dashboard.
        login_page = client.get("/admin/login", params={"next": "https://evil.example/"})
        assert 'name="next" value="/admin/"' in login_page.text
