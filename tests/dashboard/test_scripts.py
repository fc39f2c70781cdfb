"""A script's tabs: create, Edit (compile errors at their line), Test, Routing, Executions,
Settings."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from dashboard.browser_tab import Dashboard

pytestmark = pytest.mark.slow

ECHO = """\
def handle(req, ctx):
    ctx.log.info("echo", demo=req.headers.get("x-demo"))
    return {"method": req.method, "path": req.path, "body": req.text}
"""
FLAKY = """\
def handle(req, ctx):
    ctx.log.warning("called", fail=req.query.get("fail"))
    if req.query.get("fail"):
        raise ValueError("asked to fail")
    return "fine"
"""


def test_creating_a_script_opens_its_editor(ui: Dashboard, new_app: str) -> None:
    page = ui.page
    ui.goto(f"/admin/apps/{new_app}/scripts")
    expect(page.get_by_text("No scripts yet")).to_be_visible()
    page.get_by_label("Name").fill("greeter")
    ui.submit("form[action$='/scripts']")
    expect(page).to_have_url(f"{ui.server.url}/admin/apps/{new_app}/scripts/greeter/edit")
    expect(page.locator(".flashes")).to_contain_text("Script 'greeter' created")

    ui.goto(f"/admin/apps/{new_app}/scripts")
    page.get_by_label("Name").fill("greeter")
    ui.submit("form[action$='/scripts']")
    expect(page.locator("#name-error")).to_contain_text("already has a script named 'greeter'")
    ui.snap("app-scripts")


def test_editor_highlights_python_and_shows_compile_errors_at_their_line(
    ui: Dashboard, new_app: str, new_script
) -> None:
    new_script("calc", ECHO)
    page = ui.page
    ui.goto(f"/admin/apps/{new_app}/scripts/calc/edit")
    editor = page.locator(".cm-editor")
    expect(editor).to_be_visible()
    expect(page.locator(".cm-lineNumbers .cm-gutterElement").filter(has_text="3")).to_be_visible()
    # Python highlighting: keywords and strings are styled spans inside the lines.
    expect(page.locator(".cm-line span").filter(has_text="def").first).to_be_visible()
    expect(page.locator(".cm-line span").filter(has_text='"echo"')).to_be_visible()
    ui.snap("script-edit")

    page.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text("def handle(req):\n    total = 1\n    return total +\n")
    with page.expect_navigation():
        page.keyboard.press("Control+s")  # the editor's save shortcut submits the form
    notice = page.locator("#source-error")
    expect(notice).to_contain_text("Not saved")
    expect(notice).to_contain_text("at line 3")
    expect(page.locator(".cm-lintRange-error")).to_have_text("    return total +")
    expect(page.locator(".cm-lint-marker-error")).to_be_visible()  # and in the gutter
    expect(page.locator(".cm-content")).to_contain_text("return total +")  # nothing lost
    ui.snap("script-edit-error")

    page.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text("def handle(req):\n    total = 1\n    return {'total': total + 1}\n")
    ui.submit("form[action$='/edit']")
    expect(page.locator(".flashes")).to_contain_text("Saved 'calc' as version 2")
    expect(page.get_by_role("heading", level=1)).to_contain_text("v2")


def test_test_tab_shows_status_headers_body_and_the_execution_record(
    ui: Dashboard, new_app: str, new_script
) -> None:
    new_script("echo", ECHO, route="GET /echo")
    new_script("broken", FLAKY)
    page = ui.page
    ui.goto(f"/admin/apps/{new_app}/scripts/echo/test")
    expect(page.get_by_label("Path and query")).to_have_value("/echo")  # from its route

    page.get_by_label("Headers").fill("not a header")
    ui.submit("form[action$='/test']")
    expect(page.locator("#headers-error")).to_contain_text("expected 'Name: value'")

    page.get_by_label("Method").select_option("POST")
    page.get_by_label("Path and query").fill("/echo?x=1")
    page.get_by_label("Headers").fill("X-Demo: yes please")
    page.get_by_label("Body").fill("hello body")
    ui.submit("form[action$='/test']")
    expect(page.locator(".status-line")).to_have_text("200 OK")
    body = page.locator(".response-body")
    expect(body).to_contain_text('"method": "POST"')
    expect(body).to_contain_text('"body": "hello body"')
    page.locator("summary").filter(has_text="Headers (").click()
    expect(page.get_by_text("x-picloud-execution-id")).to_be_visible()
    record = page.get_by_role("region", name="Execution record")
    expect(record.get_by_role("log")).to_contain_text('echo demo="yes please"')
    expect(record).to_contain_text("POST /echo")
    ui.snap("script-test")

    ui.goto(f"/admin/apps/{new_app}/scripts/broken/test")
    page.get_by_label("Path and query").fill("/?fail=1")
    ui.submit("form[action$='/test']")
    expect(page.locator(".status-line")).to_have_text("500 Internal Server Error")
    expect(page.locator(".traceback")).to_contain_text("ValueError: asked to fail")


def test_routing_detects_kinds_live_shows_conflicts_and_previews_matches(
    ui: Dashboard, api: httpx.Client, new_app: str, new_script
) -> None:
    host = f"{new_app}.example.test"
    api.post(f"/api/v1/admin/apps/{new_app}/domains", json={"pattern": host}).raise_for_status()
    new_script("items", ECHO, route="GET /items/:id")
    new_script("files", ECHO)
    page = ui.page
    ui.goto(f"/admin/apps/{new_app}/scripts/files/routing")
    add = page.get_by_role("region", name="Add a route")
    verdict = page.locator("#route-verdict")

    add.get_by_label("Path", exact=True).fill(
        "/items/:name"
    )  # same shape as /items/:id: a conflict
    expect(verdict).to_contain_text("Conflicting route: GET (every claimed host) /items/:id")
    expect(verdict.get_by_role("link", name="items")).to_be_visible()
    ui.snap("script-routing-conflict")

    add.get_by_label("Path", exact=True).fill("/files/*")
    expect(verdict).to_contain_text("path kind prefix on every claimed host")
    add.get_by_label("Path", exact=True).fill("/files/latest")
    expect(verdict).to_contain_text("path kind exact")
    add.get_by_label("Path", exact=True).fill("/files/*")
    add.get_by_label("Method").select_option("ANY")
    ui.submit("#route-form")
    expect(page.locator(".flashes")).to_contain_text("Route added: ANY")
    expect(page.get_by_role("cell", name="/files/*", exact=True)).to_be_visible()

    add.get_by_label("Path", exact=True).fill(
        "/items/:other"
    )  # posted without waiting for the live check
    ui.submit("#route-form")
    expect(page.locator("#route-verdict")).to_contain_text("Conflicting route")
    expect(add.get_by_label("Path", exact=True)).to_have_attribute("aria-invalid", "true")

    page.get_by_label("URL").fill(f"http://{host}/files/css/site.css")
    page.get_by_role("button", name="Preview").click()
    result = page.locator("#match-result")
    expect(result).to_contain_text(f"Reaches app {new_app}, script files")
    expect(result).to_contain_text("Rest: css/site.css")
    page.get_by_label("URL").fill(f"http://{host}/nowhere")
    page.get_by_role("button", name="Preview").click()
    expect(result).to_contain_text("No script answers")
    ui.snap("script-routing")

    page.get_by_role("button", name="Remove ANY /files/*").click()
    expect(page.locator(".flashes")).to_contain_text("Removed route ANY /files/*")
    expect(page.get_by_text("No routes: this script is reachable only")).to_be_visible()


def test_executions_filter_detail_and_live_follow(
    ui: Dashboard, api: httpx.Client, new_app: str, new_script, wait_for_executions
) -> None:
    script = new_script("flaky", FLAKY)
    execute = f"/api/v1/execute/{script['id']}"
    api.get(execute)
    api.get(execute, params={"fail": "1"})
    wait_for_executions(2, script=script["id"])
    page = ui.page
    rows = page.locator("#executions tr")

    ui.goto(f"/admin/apps/{new_app}/scripts/flaky/executions")
    expect(rows).to_have_count(2)
    with page.expect_navigation():
        page.get_by_label("Outcome").select_option("error")  # the filter applies at once
    expect(page).to_have_url(re.compile(r"outcome=error"))
    expect(rows).to_have_count(1)
    ui.snap("script-executions-filtered")

    with page.expect_navigation():
        page.get_by_label("Started within").select_option("1 h")
    expect(page).to_have_url(re.compile(r"outcome=error&period=1\+h"))
    expect(rows).to_have_count(1)

    rows.first.get_by_role("link").click()
    expect(page.get_by_role("log")).to_contain_text('called fail="1"')
    expect(page.locator(".traceback")).to_contain_text("ValueError: asked to fail")
    ui.snap("script-execution")

    ui.goto(f"/admin/apps/{new_app}/scripts/flaky/executions")
    follow = page.get_by_role("button", name="Follow live")
    follow.click()
    expect(page.locator("#follow-status")).to_contain_text("Following")
    api.get(execute, params={"live": "yes"})
    expect(rows).to_have_count(3, timeout=15_000)
    expect(rows.first).to_contain_text("200")
    expect(page.locator("#follow-status")).to_contain_text("New execution")
    ui.snap("script-executions")
    page.get_by_role("button", name="Stop following").click()
    expect(page.locator("#follow-status")).to_have_text("Stopped following.")


def test_settings_show_ceilings_and_refuse_limits_above_them(
    ui: Dashboard, new_app: str, new_script
) -> None:
    new_script("tuned", ECHO)
    page = ui.page
    ui.goto(f"/admin/apps/{new_app}/scripts/tuned/settings")
    timeout = page.get_by_label("timeout_ms")
    expect(page.locator("#ceiling-timeout_ms")).to_have_text("ceiling 60000")
    timeout.evaluate("input => input.removeAttribute('max')")  # let the server refuse it
    timeout.fill("999999")
    ui.submit("form[action$='/settings']")
    expect(page.locator("#timeout_ms-error")).to_contain_text("exceeds the ceiling 60000")
    expect(page.get_by_label("timeout_ms")).to_have_attribute("aria-invalid", "true")
    ui.snap("script-settings-error")

    page.get_by_label("timeout_ms").fill("2500")
    page.get_by_label("Description").fill("Tuned for speed")
    page.get_by_label("Name").fill("tuned-v2")
    ui.submit("form[action$='/settings']")
    expect(page).to_have_url(f"{ui.server.url}/admin/apps/{new_app}/scripts/tuned-v2/settings")
    expect(page.locator(".flashes")).to_contain_text("Saved the settings of 'tuned-v2'")
    expect(page.get_by_label("timeout_ms")).to_have_value("2500")
    expect(page.locator(".subtitle")).to_have_text("Tuned for speed")
    ui.snap("script-settings")

    delete = page.get_by_role("button", name="Delete script")
    expect(delete).to_be_disabled()
    page.get_by_label("Type tuned-v2 to confirm").fill("tuned-v2")
    with page.expect_navigation():
        delete.click()
    expect(page).to_have_url(f"{ui.server.url}/admin/apps/{new_app}/scripts")
    expect(page.locator(".flashes")).to_contain_text("Deleted script 'tuned-v2'")


def test_a_long_script_list_is_paged_and_searchable(
    ui: Dashboard, api: httpx.Client, new_app: str
) -> None:
    for number in range(105):
        api.post(
            "/api/v1/admin/scripts",
            json={"app_id": new_app, "name": f"job-{number:03d}", "source": ECHO},
        ).raise_for_status()
    page = ui.page
    rows = page.locator("table tbody tr")
    ui.goto(f"/admin/apps/{new_app}/scripts")
    expect(rows).to_have_count(100)
    expect(page.get_by_text("Scripts 1–100 of 105")).to_be_visible()
    page.get_by_role("link", name="Next").click()
    expect(rows).to_have_count(5)
    expect(rows.first).to_contain_text("job-100")

    page.get_by_label("Find a script").fill("job-04")
    page.get_by_role("button", name="Find").click()
    expect(rows).to_have_count(10)
    expect(page.get_by_role("navigation", name="Pages of scripts")).to_have_count(0)
    ui.snap("app-scripts-search")
