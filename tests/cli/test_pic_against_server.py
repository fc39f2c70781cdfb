"""`pic` commands run in-process (Typer's CliRunner) against a real `picloud serve`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from live_server import ADMIN_PASSWORD, ADMIN_USERNAME, LiveServer, start_server
from picloud.cli.client import app
from picloud.cli.pic.session import Session

pytestmark = pytest.mark.slow

HELLO = "def handle(req):\n    return 'hi'\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(tmp_path_factory.mktemp("pic") / "data", {"PICLOUD_SANDBOX": "weak"})
    yield live
    live.stop()


@pytest.fixture(scope="module")
def token(server: LiveServer) -> str:
    return server.login()


def pic(server: LiveServer, token: str | None, *args: str, stdin: str | None = None) -> Result:
    environ = {"PICLOUD_URL": server.url, "PICLOUD_CONFIG_DIR": "/nonexistent/pic-tests"}
    if token:
        environ["PICLOUD_TOKEN"] = token
    return CliRunner().invoke(app, list(args), obj=Session(environ=environ), input=stdin)


@pytest.fixture
def run(server: LiveServer, token: str):
    """`pic ARGS...` as the owner; asserts success and returns the parsed JSON (or None)."""

    def call(*args: str) -> object:
        result = pic(server, token, "-o", "json", *args)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout) if result.stdout.strip() else None

    return call


def fails(server: LiveServer, token: str, *args: str) -> str:
    """The one stderr line of a `pic` command that must fail."""
    result = pic(server, token, *args)
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr.strip()


def deploy(run, tmp_path: Path, app_slug: str, name: str, *route: str) -> dict:
    source = tmp_path / f"{name}.py"
    source.write_text(HELLO)
    extra = ("--route", route[0]) if route else ()
    return run("deploy", str(source), "--app", app_slug, *extra)


def test_login_prompts_for_the_password_without_echoing_it(
    server: LiveServer, tmp_path: Path
) -> None:
    environ = {"PICLOUD_CONFIG_DIR": str(tmp_path)}
    result = CliRunner().invoke(
        app,
        ["login", server.url, "-u", ADMIN_USERNAME],
        obj=Session(environ=environ),
        input=f"{ADMIN_PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Password:" in result.output
    assert ADMIN_PASSWORD not in result.output
    assert json.loads((tmp_path / "credentials.json").read_text())["username"] == ADMIN_USERNAME


def test_app_lifecycle_with_rename_history_and_forced_delete(
    server: LiveServer, token: str, run, tmp_path: Path
) -> None:
    created = run("apps", "create", "cafe", "--name", "Café", "--description", "coffee")
    assert (created["slug"], created["name"], created["description"]) == ("cafe", "Café", "coffee")
    assert "cafe" in [a["slug"] for a in run("apps", "ls")]

    assert run("apps", "rename", "cafe", "bistro")["slug"] == "bistro"
    assert run("apps", "show", "cafe")["id"] == created["id"]  # the old slug still finds it

    run("apps", "create", "diner")
    refusal = fails(server, token, "apps", "rename", "diner", "cafe")
    assert "old slug of app 'bistro'" in refusal
    assert "--force-takeover" in refusal
    assert run("apps", "rename", "diner", "cafe", "--force-takeover")["slug"] == "cafe"

    deploy(run, tmp_path, "bistro", "menu")
    refusal = fails(server, token, "apps", "delete", "bistro")
    assert refusal == (
        "error: app 'bistro' still has 1 script(s); "
        "`pic apps delete bistro --force` deletes it with everything it owns"
    )
    assert run("apps", "delete", "bistro", "--force") is None
    assert "bistro" not in [a["slug"] for a in run("apps", "ls")]
    assert fails(server, token, "apps", "show", "bistro").startswith("error: Not found")


@pytest.mark.parametrize(
    ("source", "place", "message"),
    [
        ("def handle(req):\n    return (\n", ":2:12", "'(' was never closed"),
        ("def main(req):\n    return 1\n", "", "no top-level function 'handle'"),
    ],
    ids=["syntax", "no-handler"],
)
def test_a_refused_source_is_reported_like_a_compiler_would(
    server: LiveServer, token: str, tmp_path: Path, source: str, place: str, message: str
) -> None:
    file = tmp_path / "bad.py"
    file.write_text(source)
    line = fails(server, token, "deploy", str(file), "--app", "default")
    assert line.startswith(f"{file}{place}: {message}")


def test_invalid_slug_is_refused_with_the_rule(server: LiveServer, token: str) -> None:
    refusal = fails(server, token, "apps", "create", "Not A Slug")
    assert refusal.startswith("error: Invalid slug: ")


def test_domains_add_list_remove_and_conflict(server: LiveServer, token: str, run) -> None:
    run("apps", "create", "tenants")
    run("apps", "create", "rival")
    claim = run("domains", "add", "tenants", "*.Tenants.Test")
    assert claim["pattern"] == "*.tenants.test"
    assert [d["pattern"] for d in run("domains", "ls", "tenants")] == ["*.tenants.test"]

    conflict = fails(server, token, "domains", "add", "rival", "*.tenants.test")
    assert conflict.startswith("error: Domain already claimed")

    assert run("domains", "rm", "tenants", "*.TENANTS.test.") is None
    assert run("domains", "ls", "tenants") == []
    missing = fails(server, token, "domains", "rm", "tenants", "*.tenants.test")
    assert missing == "error: app 'tenants' does not claim '*.tenants.test'"


def test_routes_add_list_match_conflict_remove(
    server: LiveServer, token: str, run, tmp_path: Path
) -> None:
    deploy(run, tmp_path, "default", "users")
    route = run("routes", "add", "default/users", "GET /users/:id")
    assert (route["method"], route["path"], route["path_kind"]) == ("GET", "/users/:id", "param")
    assert [r["id"] for r in run("routes", "ls", "default/users")] == [route["id"]]

    matched = run("routes", "match", f"{server.url}/users/42")
    assert matched["matched"] is True
    assert matched["params"] == {"id": "42"}
    tsv = pic(server, token, "-o", "tsv", "routes", "match", f"{server.url}/users/42")
    assert "default\tusers\tGET /users/:id\tid=42" in tsv.stdout

    nowhere = pic(server, token, "-o", "json", "routes", "match", f"{server.url}/nowhere")
    assert nowhere.exit_code == 1
    assert json.loads(nowhere.stdout)["matched"] is False

    deploy(run, tmp_path, "default", "people")
    conflict = fails(server, token, "routes", "add", "default/people", "GET /users/:name")
    assert conflict.startswith("error: Route conflicts with an existing route")
    clash = tmp_path / "clash.py"
    clash.write_text(HELLO)
    told = pic(server, token, "deploy", str(clash), "--app", "default", "--route", "GET /users/:x")
    assert told.exit_code == 1
    saved, refused = told.stderr.splitlines()
    assert saved == "default/clash is saved (version 1) but has no new route:"
    assert refused.startswith("error: Route conflicts with an existing route")

    assert run("routes", "rm", route["id"]) is None
    assert run("routes", "ls", "default/users") == []


def test_scripts_list_show_source_and_remove(
    server: LiveServer, token: str, run, tmp_path: Path
) -> None:
    run("apps", "create", "library")
    deploy(run, tmp_path, "library", "books", "GET /books")
    [listed] = run("scripts", "ls", "--app", "library")
    assert (listed["app"], listed["name"], listed["version"]) == ("library", "books", 1)

    shown = run("scripts", "show", "library/books")
    assert shown["routes"] == ["GET /books"]
    source = pic(server, token, "scripts", "show", "library/books", "--source")
    assert source.stdout == HELLO

    assert run("scripts", "rm", "library/books") is None
    missing = fails(server, token, "scripts", "show", "library/books")
    assert missing == (
        "error: app 'library' has no script 'books' (see `pic scripts ls --app library`)"
    )


def test_a_minted_key_invokes_until_it_is_revoked(
    server: LiveServer, token: str, run, tmp_path: Path
) -> None:
    run("apps", "create", "keyed")
    ping = deploy(run, tmp_path, "keyed", "ping")["id"]
    key = run("keys", "mint", "smoke", "--scope", "script:invoke", "--app", "keyed")
    assert key["token"].startswith("pic_")
    assert key["scopes"] == ["script:invoke"]

    login = CliRunner().invoke(
        app,
        ["login", server.url, "--token", key["token"]],
        obj=Session(environ={"PICLOUD_CONFIG_DIR": str(tmp_path / "config")}),
    )
    assert login.stderr == f"logged in to {server.url} with API key 'smoke'\n"

    listed = next(k for k in run("keys", "ls") if k["id"] == key["id"])
    assert listed["app"] == "keyed"
    assert "token" not in listed

    # By id no lookup is needed; by name the key would also need script:read.
    invoked = pic(server, key["token"], "invoke", ping)
    assert invoked.exit_code == 0, invoked.output
    assert invoked.stdout == "hi"
    assert "script:read" in fails(server, key["token"], "invoke", "keyed/ping")

    assert run("keys", "rm", key["id"]) is None
    revoked = fails(server, key["token"], "invoke", ping)
    assert revoked.endswith("(log in again with `pic login`, or check PICLOUD_TOKEN)")


def test_a_bad_expiry_is_refused_before_the_call(server: LiveServer, token: str) -> None:
    refusal = fails(server, token, "keys", "mint", "x", "--scope", "app:read", "--expires", "soon")
    assert refusal == "error: --expires 'soon' is not an ISO 8601 date or time"
