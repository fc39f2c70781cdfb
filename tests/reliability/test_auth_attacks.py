"""Attacks on sign-in and credentials against a real server: password guessing is throttled,
a planted session never becomes the victim's, cookie-authenticated writes need the CSRF token,
and no token shows up in the server's log, in URLs, in error bodies, or in a user's script."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import httpx
import pytest

from live_server import ADMIN_PASSWORD, ADMIN_USERNAME, LiveServer
from reliability.live_platform import admin, deploy

pytestmark = pytest.mark.slow

LOGIN = "/api/v1/admin/auth/login"
ME = "/api/v1/admin/auth/me"
OWNER = {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
#: A script that shows everything it is given about the caller.
MIRROR = """
def handle(req):
    return {"cookie": req.headers.get("cookie"), "authorization": req.headers.get("authorization")}
"""


@pytest.fixture
def server(tmp_path: Path, start_live_server) -> LiveServer:
    # A server of its own per test: the failed-login budget is per process and per address.
    return start_live_server(tmp_path / "data", {"PICLOUD_LOG_LEVEL": "debug"})


def dashboard_login(
    client: httpx.Client, username: str, password: str, *, plant: str | None = None
) -> httpx.Response:
    """Sign in through the login form; `plant` is a session cookie an attacker set meanwhile."""
    form = client.get("/admin/login")
    token = re.search(r'name="form_token" value="([^"]+)"', form.text)
    assert token, form.text
    if plant:
        client.cookies.set("picloud_session", plant)
    return client.post(
        "/admin/login",
        data={"username": username, "password": password, "form_token": token.group(1)},
    )


def new_session(answer: httpx.Response) -> str | None:
    """The session token the answer sets as a cookie, if it sets one."""
    for cookie in answer.headers.get_list("set-cookie"):
        name, _, rest = cookie.partition("=")
        if name == "picloud_session":
            return rest.split(";")[0]
    return None


def test_password_guessing_is_throttled_per_user_whatever_the_claimed_address(
    server: LiveServer,
) -> None:
    with server.client() as client:
        for attempt in range(5):
            spoofed = {"X-Forwarded-For": f"203.0.113.{attempt}"}
            wrong = client.post(LOGIN, json={**OWNER, "password": "guess"}, headers=spoofed)
            assert wrong.status_code == 401
        right = client.post(LOGIN, json=OWNER, headers={"X-Forwarded-For": "198.51.100.7"})
        assert right.status_code == 429
        assert int(right.headers["retry-after"]) > 0
        assert right.json()["type"].endswith("/rate-limited")
    # The dashboard's form draws on the same budget.
    with server.client(follow_redirects=False) as browser:
        form = dashboard_login(browser, ADMIN_USERNAME, ADMIN_PASSWORD)
        assert form.status_code == 429
        assert new_session(form) is None


def test_guessing_many_user_names_from_one_address_is_throttled(server: LiveServer) -> None:
    with server.client() as client:
        for attempt in range(20):
            client.post(LOGIN, json={"username": f"user{attempt}", "password": "guess"})
        assert client.post(LOGIN, json=OWNER).status_code == 429


def test_a_planted_session_never_becomes_the_victims(server: LiveServer) -> None:
    with admin(server) as api:
        eve = api.post(
            "/api/v1/admin/users",
            json={"username": "eve", "password": "eve's own password", "role": "admin"},
        )
        assert eve.status_code == 201, eve.text
    with server.client() as attacker:
        planted = attacker.post(
            LOGIN, json={"username": "eve", "password": "eve's own password"}
        ).json()["token"]
    for cookie in (planted, secrets.token_urlsafe(32)):  # a live session, or a made-up one
        with server.client(cookies={"picloud_session": cookie}) as victim:
            signed = victim.post(LOGIN, json=OWNER)
            assert signed.status_code == 200
            assert signed.json()["token"] != cookie
            assert new_session(signed) == signed.json()["token"]
        with server.client(follow_redirects=False) as browser:
            answer = dashboard_login(browser, ADMIN_USERNAME, ADMIN_PASSWORD, plant=cookie)
            assert answer.status_code == 303
            assert new_session(answer) not in (None, cookie)
        with server.client(headers={"Authorization": f"Bearer {cookie}"}) as as_planted:
            me = as_planted.get(ME)
            assert me.status_code == 401 or me.json()["username"] == "eve"


def test_cookie_authenticated_writes_need_the_csrf_token(server: LiveServer) -> None:
    with server.client() as browser:
        login = browser.post(LOGIN, json=OWNER)
        cookie = login.headers["set-cookie"]
        assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
        assert browser.get("/api/v1/admin/apps").status_code == 200  # reads need no token
        for headers in ({}, {"X-CSRF-Token": "forged"}):
            refused = browser.post(
                "/api/v1/admin/apps", json={"slug": "shop", "name": "Shop"}, headers=headers
            )
            assert refused.status_code == 403
            assert refused.json()["type"].endswith("/csrf-failed")
        deleted = browser.delete("/api/v1/admin/apps/default?force=true")
        assert deleted.status_code == 403
        made = browser.post(
            "/api/v1/admin/apps",
            json={"slug": "shop", "name": "Shop"},
            headers={"X-CSRF-Token": login.json()["csrf_token"]},
        )
        assert made.status_code == 201
    # A dashboard form posted from elsewhere carries the cookie but not the form's token.
    with server.client(follow_redirects=False) as browser:
        assert dashboard_login(browser, ADMIN_USERNAME, ADMIN_PASSWORD).status_code == 303
        forged = browser.post("/admin/apps", data={"slug": "forged", "name": "Forged"})
        assert forged.status_code == 403
    with admin(server) as api:
        assert api.get("/api/v1/admin/apps/forged").status_code == 404


def test_tokens_never_leak_into_logs_urls_error_bodies_or_scripts(server: LiveServer) -> None:
    secrets_seen: list[str] = [ADMIN_PASSWORD]
    with server.client(follow_redirects=False) as browser:
        signed = dashboard_login(browser, ADMIN_USERNAME, ADMIN_PASSWORD)
        assert signed.status_code == 303
        assert browser.cookies["picloud_session"] not in signed.headers["location"]
        secrets_seen.append(browser.cookies["picloud_session"])
    with admin(server) as api:
        login = api.post(LOGIN, json=OWNER).json()
        secrets_seen += [login["token"], login["csrf_token"]]
        script = deploy(api, MIRROR, "/mirror")
        key = api.post("/api/v1/admin/api-keys", json={"name": "ci", "scopes": ["script:invoke"]})
        assert key.status_code == 201
        token = key.json()["token"]
        secrets_seen.append(token)
        # Shown once: never again, e.g. in the listing, which shows the prefix only.
        listing = api.get("/api/v1/admin/api-keys").text
        assert token not in listing and key.json()["prefix"] in listing

        # A wrong credential is refused without being echoed.
        bogus = "pic_" + secrets.token_urlsafe(24)
        bearer = {"Authorization": f"Bearer {bogus}"}
        for answer in (
            httpx.get(f"{server.url}{ME}", headers=bearer),
            httpx.get(f"{server.url}/api/v1/execute/{script['id']}", headers=bearer),
            httpx.get(f"{server.url}{ME}", cookies={"picloud_session": bogus}),
        ):
            assert answer.status_code == 401
            assert bogus not in answer.text

        # The platform's credentials are not handed to user scripts.
        by_key = httpx.get(
            f"{server.url}/api/v1/execute/{script['id']}",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert by_key.status_code == 200
        assert token not in by_key.text
        with server.client() as browser:
            browser.post(LOGIN, json=OWNER)
            session = browser.cookies["picloud_session"]
            secrets_seen.append(session)
            mirrored = browser.get(
                "/mirror", headers={"Cookie": f"theme=dark; picloud_session={session}"}
            )
            assert session not in mirrored.text
            assert "theme=dark" in mirrored.text  # the app's own cookies still reach it
    log = server.log()
    assert "DEBUG" in log  # the most talkative level was on
    for secret in secrets_seen:
        assert secret not in log
