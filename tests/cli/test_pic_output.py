"""How `pic` prints results and failures, checked in-process with canned HTTP answers.

The answers are served by `httpx.MockTransport`; everything that needs a real server is in
test_pic_against_server.py and test_pic_executable.py.
"""

from __future__ import annotations

import doctest
import io
import json
import socket
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from rich.console import Console
from typer.testing import CliRunner

from picloud.cli.client import app
from picloud.cli.pic import credentials, examples, output, refs
from picloud.cli.pic.commands import deploy, invoke, keys, logs, routes, scripts
from picloud.cli.pic.credentials import Credentials, save
from picloud.cli.pic.session import Session
from picloud.cli.pic.spinner import spinner

APPS = [
    {"id": "a1", "slug": "default", "name": "Default", "script_count": 1},
    {"id": "a2", "slug": "shop", "name": "Shop\tfront", "script_count": 0},
]
Handler = Callable[[httpx.Request], httpx.Response]


def problem(status: int, title: str, detail: str, **extra: object) -> httpx.Response:
    body = {"type": "https://picloud.dev/problems/x", "title": title, "status": status}
    return httpx.Response(
        status,
        json={**body, "detail": detail, **extra},
        headers={"content-type": "application/problem+json"},
    )


def run(handler: Handler, *args: str, tmp_path: Path, token: str | None = "tok"):
    environ = {"PICLOUD_URL": "http://pic.test", "PICLOUD_CONFIG_DIR": str(tmp_path)}
    if token:
        environ["PICLOUD_TOKEN"] = token
    session = Session(environ=environ, transport=httpx.MockTransport(handler))
    return CliRunner().invoke(app, list(args), obj=session)


def apps_list(request: httpx.Request) -> httpx.Response:
    assert request.headers["authorization"] == "Bearer tok"
    assert request.url.path == "/api/v1/admin/apps"
    return httpx.Response(200, json={"items": APPS})


def test_json_is_the_default_when_stdout_is_not_a_terminal(tmp_path: Path) -> None:
    result = run(apps_list, "apps", "ls", tmp_path=tmp_path)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == APPS
    assert result.stderr == ""


def test_tsv_has_one_clean_line_per_row(tmp_path: Path) -> None:
    result = run(apps_list, "-o", "tsv", "apps", "ls", tmp_path=tmp_path)
    assert result.stdout.splitlines() == ["default\tDefault\t1\ta1", "shop\tShop front\t0\ta2"]


def test_table_has_headers_and_rows(tmp_path: Path) -> None:
    result = run(apps_list, "--output", "table", "apps", "ls", tmp_path=tmp_path)
    header, *rows = [line.split() for line in result.stdout.splitlines()]
    assert header == ["slug", "name", "scripts", "id"]
    assert rows[0] == ["default", "Default", "1", "a1"]


def test_a_problem_is_one_line_with_title_and_detail(tmp_path: Path) -> None:
    result = run(
        lambda r: problem(404, "Not found", "no app 'nope'"), "apps", "show", "nope",
        tmp_path=tmp_path,
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr == "error: Not found: no app 'nope'\n"
    assert result.stdout == ""


def test_an_error_that_is_not_a_problem_still_reads_well(tmp_path: Path) -> None:
    result = run(
        lambda r: httpx.Response(502, text="upstream down\n"), "apps", "ls", tmp_path=tmp_path
    )
    assert result.stderr == "error: Bad Gateway: upstream down\n"


def test_a_url_that_is_not_picloud_is_named(tmp_path: Path) -> None:
    page = httpx.Response(200, html="<html>welcome</html>")
    result = run(lambda r: page, "apps", "ls", tmp_path=tmp_path)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: Not a PiCloud answer: GET http://pic.test/api/v1/admin/apps answered "
        "text/html; charset=utf-8, not JSON; is the URL right?\n"
    )


def test_rename_to_a_historical_slug_needs_force_takeover(tmp_path: Path) -> None:
    sent: list[dict] = []

    def server(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/slug:check"):
            check = {"slug": "old", "status": "historical", "app": {"id": "a9", "slug": "blog"}}
            return httpx.Response(200, json=check)
        sent.append(json.loads(request.content))
        return httpx.Response(200, json={**APPS[1], "slug": "old"})

    refused = run(server, "apps", "rename", "shop", "old", tmp_path=tmp_path)
    assert refused.exit_code == 1
    assert "old slug of app 'blog'" in refused.stderr
    assert "--force-takeover" in refused.stderr
    assert sent == []

    taken = run(server, "apps", "rename", "shop", "old", "--force-takeover", tmp_path=tmp_path)
    assert taken.exit_code == 0
    assert sent == [{"slug": "old", "force_takeover": True}]


def test_without_a_token_commands_ask_for_a_login(tmp_path: Path) -> None:
    result = run(apps_list, "apps", "ls", tmp_path=tmp_path, token=None)
    assert result.exit_code == 1
    assert result.stderr == "error: not logged in: run `pic login URL`, or set PICLOUD_TOKEN\n"


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"  # nothing listens once closed


def test_a_server_that_is_down_is_named(tmp_path: Path) -> None:
    url = closed_port_url()
    environ = {
        "PICLOUD_URL": url,
        "PICLOUD_TOKEN": "tok",
        "PICLOUD_CONFIG_DIR": str(tmp_path),
    }
    result = CliRunner().invoke(app, ["apps", "ls"], obj=Session(environ=environ))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: cannot reach PiCloud at {url}: ")
    assert "\n" not in result.stderr.rstrip("\n")


def test_logout_forgets_the_token_even_when_the_server_is_down(tmp_path: Path) -> None:
    url = closed_port_url()
    save(tmp_path / "credentials.json", Credentials(url, "tok", "ann"))
    result = CliRunner().invoke(
        app, ["logout"], obj=Session(environ={"PICLOUD_CONFIG_DIR": str(tmp_path)})
    )
    assert result.exit_code == 0
    told, done = result.stderr.splitlines()
    assert told.startswith(
        f"note: the server did not end the session (cannot reach PiCloud at {url}"
    )
    assert done == f"logged out of {url}"
    assert not (tmp_path / "credentials.json").exists()


def test_a_bad_argument_is_refused_before_any_call(tmp_path: Path) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no call expected")

    result = run(server, "routes", "add", "shop/api", "FETCH", tmp_path=tmp_path)
    assert result.exit_code == 1
    assert result.stderr == (
        'error: route \'FETCH\' is not "METHOD PATH" (for example "GET /hello")\n'
    )


def test_spinner_draws_nothing_when_stderr_is_not_a_terminal() -> None:
    stream = io.StringIO()
    with spinner(Console(file=stream, force_terminal=False), "working", delay=0):
        time.sleep(0.2)
    assert stream.getvalue() == ""


def test_spinner_draws_on_a_terminal_only_for_slow_calls() -> None:
    slow, fast = io.StringIO(), io.StringIO()
    with spinner(Console(file=slow, force_terminal=True), "deploying", delay=0):
        time.sleep(0.3)
    with spinner(Console(file=fast, force_terminal=True), "deploying", delay=60):
        pass
    assert "deploying" in slow.getvalue()
    assert fast.getvalue() == ""


@pytest.mark.parametrize(
    "module",
    [credentials, examples, output, refs, deploy, invoke, keys, logs, routes, scripts],
    ids=lambda m: m.__name__.rsplit(".", 1)[-1],
)  # fmt: skip
def test_docstring_examples_hold(module: object) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0
