"""End to end: the real `pic` executable against a real `picloud serve`, over loopback.

The whole developer loop (login -> deploy -> invoke -> logs), with the failures a developer
meets: a syntax error on deploy, a script that raises, a wrong token, a server that is down.
"""

from __future__ import annotations

import json
import os
import re
import selectors
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from live_server import ADMIN_PASSWORD, ADMIN_USERNAME, LiveServer, start_server

pytestmark = pytest.mark.slow

PIC = str(Path(sys.executable).with_name("pic"))
EXECUTION_LINE = re.compile(r"^(\d{3}) .* · execution ([0-9a-f-]{36})", re.M)

GREET = """\
def handle(req, ctx):
    name = req.query.get("name", "world")
    ctx.log.info("greeting", name=name)
    return {"message": f"Hello, {name}!"}
"""
BOOM = """\
def handle(req):
    raise ValueError("boom")
"""
BROKEN = """\
def handle(req):
    return {"unclosed": [1, 2}
"""


@dataclass
class Pic:
    """Runs `pic` with its own config directory and no PICLOUD_* variables but those given."""

    config_dir: Path
    extra_env: dict[str, str]

    def env(self, **overrides: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PICLOUD_")}
        env.update(PICLOUD_CONFIG_DIR=str(self.config_dir), **self.extra_env, **overrides)
        return env

    def __call__(
        self, *args: str, stdin: str | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PIC, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env(**env),
            timeout=60,
        )

    def ok(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        done = self(*args, **env)
        assert done.returncode == 0, done.stderr
        return done


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(tmp_path_factory.mktemp("pic") / "data", {"PICLOUD_SANDBOX": "weak"})
    yield live
    live.stop()


@pytest.fixture(scope="module")
def pic(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Pic:
    """`pic`, logged in as the owner."""
    runner = Pic(tmp_path_factory.mktemp("pic-config"), {})
    runner.ok("login", server.url, "-u", ADMIN_USERNAME, "-p", ADMIN_PASSWORD)
    return runner


def wait_for_records(pic: Pic, ref: str, count: int, *extra: str) -> list[dict]:
    """The script's records once `count` are there (they are written in batches)."""
    deadline = time.monotonic() + 15
    while True:
        records = json.loads(pic.ok("-o", "json", "logs", ref, *extra).stdout)
        if len(records) >= count or time.monotonic() > deadline:
            return records
        time.sleep(0.05)


def test_login_saves_owner_only_credentials_that_whoami_and_logout_use(
    server: LiveServer, tmp_path: Path
) -> None:
    fresh = Pic(tmp_path / "config", {})
    login = fresh("login", server.url, "-u", ADMIN_USERNAME, "-p", ADMIN_PASSWORD)
    assert login.returncode == 0, login.stderr
    assert login.stderr == f"logged in to {server.url} as {ADMIN_USERNAME} (owner)\n"
    saved = tmp_path / "config" / "credentials.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert json.loads(saved.read_text())["url"] == server.url

    me = json.loads(fresh.ok("whoami").stdout)
    assert (me["username"], me["role"], me["server"]) == (ADMIN_USERNAME, "owner", server.url)

    assert fresh.ok("logout").stderr == f"logged out of {server.url}\n"
    assert not saved.exists()
    after = fresh("whoami")
    assert after.returncode == 1
    assert after.stderr == "error: not logged in: run `pic login URL`, or set PICLOUD_TOKEN\n"


def test_a_wrong_password_is_one_clear_line(server: LiveServer, tmp_path: Path) -> None:
    done = Pic(tmp_path, {})("login", server.url, "-u", ADMIN_USERNAME, "-p", "nope")
    assert done.returncode == 1
    assert done.stderr.startswith("error: Wrong username or password")
    assert done.stderr.count("\n") == 1
    assert not (tmp_path / "credentials.json").exists()


def test_a_wrong_token_is_refused_with_a_hint(pic: Pic, server: LiveServer) -> None:
    done = pic("apps", "ls", PICLOUD_URL=server.url, PICLOUD_TOKEN="pic_not_a_real_key")
    assert done.returncode == 1
    assert done.stderr.startswith("error: Authentication required")
    assert done.stderr.rstrip().endswith("(log in again with `pic login`, or check PICLOUD_TOKEN)")
    assert done.stderr.count("\n") == 1
    assert done.stdout == ""


def test_deploy_invoke_logs_loop(pic: Pic, tmp_path: Path) -> None:
    source = tmp_path / "greet.py"
    source.write_text(GREET)

    deployed = json.loads(
        pic.ok(
            "-o", "json", "deploy", str(source), "--app", "default", "--route", "GET /greet"
        ).stdout
    )
    assert deployed["script"] == "default/greet"
    assert (deployed["action"], deployed["route"], deployed["route_action"]) == (
        "created", "GET /greet", "added",
    )  # fmt: skip
    answer = httpx.get(deployed["url"], params={"name": "Grace"})
    assert answer.json() == {"message": "Hello, Grace!"}

    invoked = pic("invoke", "default/greet", "--path", "/?name=Ada")
    assert invoked.returncode == 0, invoked.stderr
    assert json.loads(invoked.stdout) == {"message": "Hello, Ada!"}
    status, execution_id = EXECUTION_LINE.search(invoked.stderr).groups()
    assert status == "200"

    records = wait_for_records(pic, "default/greet", 2)
    record = next(r for r in records if r["id"] == execution_id)
    assert record["outcome"] == "ok"
    assert record["logs"][0]["message"] == "greeting"
    assert record["logs"][0]["fields"] == {"name": "Ada"}
    human = pic.ok("-o", "table", "logs", "default/greet").stdout
    assert "greeting name=Ada" in human
    assert execution_id in human

    source.write_text(GREET.replace("Hello", "Hi"))
    again = json.loads(
        pic.ok(
            "-o", "json", "deploy", str(source), "--app", "default", "--route", "GET /greet"
        ).stdout
    )
    assert (again["action"], again["version"], again["route_action"]) == ("updated", 2, "exists")
    assert json.loads(pic.ok("invoke", "default/greet").stdout) == {"message": "Hi, world!"}


def test_a_syntax_error_on_deploy_points_at_the_line(pic: Pic, tmp_path: Path) -> None:
    source = tmp_path / "broken.py"
    source.write_text(BROKEN)
    done = pic("deploy", str(source), "--app", "default")
    assert done.returncode == 1
    assert re.fullmatch(rf"{re.escape(str(source))}:2:\d+: .+\n", done.stderr), done.stderr
    listed = json.loads(pic.ok("scripts", "ls", "--app", "default").stdout)
    assert "broken" not in [s["name"] for s in listed]


def test_a_failing_script_exits_non_zero_and_its_traceback_is_in_the_logs(
    pic: Pic, tmp_path: Path
) -> None:
    source = tmp_path / "boom.py"
    source.write_text(BOOM)
    pic.ok("deploy", str(source), "--app", "default")

    done = pic("invoke", "default/boom", "-X", "POST", "-d", '{"x": 1}')
    assert done.returncode == 1
    status, execution_id = EXECUTION_LINE.search(done.stderr).groups()
    assert status == "500"
    assert "see `pic logs default/boom`" in done.stderr
    assert execution_id in done.stdout  # the platform's answer names the execution too

    [record] = wait_for_records(pic, "default/boom", 1, "--outcome", "error")
    assert record["id"] == execution_id
    assert "ValueError: boom" in record["error"]
    human = pic.ok("-o", "table", "logs", "default/boom", "--outcome", "error").stdout
    assert "ValueError: boom" in human


def test_follow_prints_new_executions_as_they_happen(pic: Pic, tmp_path: Path) -> None:
    source = tmp_path / "tick.py"
    source.write_text("def handle(req):\n    return 'tick'\n")
    pic.ok("deploy", str(source), "--app", "default")
    first = EXECUTION_LINE.search(pic.ok("invoke", "default/tick").stderr).group(2)
    wait_for_records(pic, "default/tick", 1)

    follower = subprocess.Popen(
        [PIC, "-o", "json", "logs", "default/tick", "--follow"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=pic.env(),
    )
    try:
        lines = _lines(follower)
        assert json.loads(next(lines))["id"] == first  # history printed: subscribed by now
        second = EXECUTION_LINE.search(pic.ok("invoke", "default/tick").stderr).group(2)
        assert json.loads(next(lines))["id"] == second
    finally:
        follower.send_signal(signal.SIGINT)
        follower.wait(10)
    assert follower.returncode == 0


def _lines(process: subprocess.Popen, timeout: float = 20) -> Iterator[str]:
    """Lines of a process's stdout, failing instead of hanging when none comes."""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while True:
            if not selector.select(timeout):
                raise AssertionError(f"no output within {timeout}s")
            line = process.stdout.readline()
            if not line:
                raise AssertionError(f"pic exited: {process.stderr.read()}")
            yield line


def test_a_server_that_is_down_is_named(pic: Pic) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    done = pic("apps", "ls", PICLOUD_URL=url)
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: cannot reach PiCloud at {url}: ")
    assert done.stderr.count("\n") == 1


def test_invoke_reads_the_body_from_stdin_and_passes_headers(pic: Pic, tmp_path: Path) -> None:
    source = tmp_path / "echo.py"
    source.write_text(
        "def handle(req):\n"
        "    return {'method': req.method, 'path': req.path, 'body': req.text,\n"
        "            'trace': req.headers.get('x-trace'), 'q': req.query.get('q')}\n"
    )
    pic.ok("deploy", str(source), "--app", "default")
    done = pic.ok(
        "invoke", "default/echo", "-X", "put", "-d", "@-", "-H", "X-Trace: t-1",
        "--path", "/a/b?q=1", stdin="from stdin",
    )  # fmt: skip
    assert json.loads(done.stdout) == {
        "method": "PUT", "path": "/a/b", "body": "from stdin", "trace": "t-1", "q": "1",
    }  # fmt: skip


def test_shell_completion_knows_commands_and_scopes(tmp_path: Path) -> None:
    def complete(words: str) -> list[str]:
        env = Pic(tmp_path, {}).env(
            _PIC_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD=str(len(words.split()) - 1)
        )
        done = subprocess.run([PIC], env=env, capture_output=True, text=True, timeout=60)
        return done.stdout.split()

    assert complete("pic ro") == ["routes"]
    assert complete("pic keys mint ci --scope script:") == [
        "script:read", "script:write", "script:invoke",
    ]  # fmt: skip
