"""Users and API keys pages, CSRF refusal, dark mode and small screens."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from dashboard.browser_tab import Dashboard
from live_server import LiveServer

pytestmark = pytest.mark.slow


def test_users_create_role_deactivate_and_the_last_owner_guard(ui: Dashboard) -> None:
    page = ui.page
    name = f"ops-{uuid.uuid4().hex[:6]}"
    ui.goto("/admin/users")
    expect(page.get_by_role("row").filter(has_text="(you)")).to_contain_text("owner")

    new_user = page.get_by_role("region", name="Add a user")
    new_user.get_by_label("User name").fill(name)
    new_user.get_by_label("Password").fill("short")
    new_user.get_by_label("Password").evaluate("input => input.removeAttribute('minlength')")
    ui.submit("form[action='/admin/users']")
    expect(page.locator("#password-error")).to_contain_text("at least 8 characters")

    new_user.get_by_label("Password").fill("a fine password")
    new_user.get_by_label("Role").select_option("admin")
    ui.submit("form[action='/admin/users']")
    expect(page.locator(".flashes")).to_contain_text(f"Created admin '{name}'")

    row = page.get_by_role("row").filter(has_text=name)
    row.get_by_label(f"Role of {name}").select_option("owner")
    row.get_by_role("button", name="Set role").click()
    expect(page.locator(".flashes")).to_contain_text(f"'{name}' is now owner")
    page.get_by_role("row").filter(has_text=name).get_by_role("button", name="Deactivate").click()
    expect(page.locator(".flashes")).to_contain_text("is deactivated")
    ui.snap("users")

    # The signed-in owner is now the only active owner: demoting it is refused, clearly.
    me = page.get_by_role("row").filter(has_text="(you)")
    me.get_by_role("combobox").select_option("admin")
    me.get_by_role("button", name="Set role").click()
    expect(page.get_by_role("alert")).to_contain_text("last active owner")

    page.get_by_role("button", name=f"Delete {name}").click()
    expect(page.locator(".flashes")).to_contain_text(f"Deleted '{name}'")


def test_a_new_key_is_shown_once_with_a_copy_button(
    open_dashboard, dashboard_server: LiveServer, new_app: str
) -> None:
    ui = open_dashboard("light", permissions=["clipboard-read", "clipboard-write"])
    page = ui.page
    ui.goto("/admin/api-keys")
    mint = page.get_by_role("region", name="Create a key")
    mint.get_by_label("Name", exact=True).fill("ci deploy")
    for preset in ("script:read", "logs:read"):
        mint.get_by_label(preset).uncheck()
    ui.submit("form[action='/admin/api-keys']")
    expect(page.locator("#scopes-error")).to_contain_text("scopes must be a non-empty list")

    mint.get_by_label("script:read").check()
    mint.get_by_label("logs:read").check()
    mint.get_by_label("App", exact=True).select_option(new_app)
    ui.submit("form[action='/admin/api-keys']")
    token = page.locator("#new-token").inner_text()
    assert re.fullmatch(r"pic_[A-Za-z0-9_-]{40,}", token)
    expect(page.get_by_role("alert")).to_contain_text("shown only this once")
    page.get_by_role("button", name="Copy").click()
    expect(page.locator("#copy-status")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == token
    ui.snap("api-keys-created")

    bearer = {"Authorization": f"Bearer {token}"}
    with dashboard_server.client(headers=bearer) as client:
        assert client.get("/api/v1/admin/scripts", params={"app": new_app}).status_code == 200
        assert client.get("/api/v1/admin/scripts", params={"app": "default"}).status_code == 404

    ui.goto("/admin/api-keys")
    expect(page.locator("#new-token")).to_have_count(0)
    assert token not in page.content()
    row = page.get_by_role("row").filter(has_text="ci deploy")
    expect(row).to_contain_text(token[:12])
    expect(row.get_by_role("link", name=new_app)).to_be_visible()
    ui.snap("api-keys")

    row.get_by_role("button", name="Revoke ci deploy").click()
    expect(page.locator(".flashes")).to_contain_text("Revoked the key 'ci deploy'")
    with dashboard_server.client(headers=bearer) as client:
        assert client.get("/api/v1/admin/scripts").status_code == 401


def test_forms_without_the_session_csrf_token_are_refused(dashboard_server: LiveServer) -> None:
    slug = f"csrf-{uuid.uuid4().hex[:6]}"
    cookies = {"picloud_session": dashboard_server.login()}
    with dashboard_server.client(cookies=cookies) as client:
        for data in ({"slug": slug, "name": "x"}, {"slug": slug, "csrf_token": "forged"}):
            answer = client.post("/admin/apps", data=data)
            assert answer.status_code == 403
            assert "This form has expired" in answer.text
        assert client.get(f"/admin/apps/{slug}").status_code == 404


def test_pages_are_readable_in_dark_mode(open_dashboard, new_app: str, new_script) -> None:
    new_script("hello", "def handle(req):\n    return 'hi'\n", route="GET /hi")
    ui = open_dashboard("dark")
    page = ui.page
    pages = {
        "apps-list": "/admin/",
        "app-overview": f"/admin/apps/{new_app}",
        "app-domains": f"/admin/apps/{new_app}/domains",
        "script-edit": f"/admin/apps/{new_app}/scripts/hello/edit",
        "script-test": f"/admin/apps/{new_app}/scripts/hello/test",
        "script-routing": f"/admin/apps/{new_app}/scripts/hello/routing",
        "script-executions": f"/admin/apps/{new_app}/scripts/hello/executions",
        "script-settings": f"/admin/apps/{new_app}/scripts/hello/settings",
        "users": "/admin/users",
        "api-keys": "/admin/api-keys",
    }
    for name, path in pages.items():
        ui.goto(path)
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(15, 18, 22)"
        assert page.evaluate("getComputedStyle(document.body).color") == "rgb(229, 232, 236)"
        if name == "script-edit":  # the editor follows with its dark theme
            expect(page.locator(".cm-editor")).to_be_visible()
            editor_background = "getComputedStyle(document.querySelector('.cm-editor'))"
            assert page.evaluate(f"{editor_background}.backgroundColor") == "rgb(40, 44, 52)"
        ui.snap(name)
    assert ui.script_errors == []


def test_pages_fit_a_phone_screen(open_dashboard, new_app: str, new_script) -> None:
    new_script("hello", "def handle(req):\n    return 'hi'\n", route="GET /hi")
    ui = open_dashboard("light", viewport={"width": 390, "height": 844})
    for name, path in {
        "mobile-apps-list": "/admin/",
        "mobile-script-routing": f"/admin/apps/{new_app}/scripts/hello/routing",
        "mobile-script-test": f"/admin/apps/{new_app}/scripts/hello/test",
    }.items():
        ui.goto(path)
        # Wide tables scroll inside their card; the page itself never scrolls sideways.
        assert ui.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        ui.snap(name)
