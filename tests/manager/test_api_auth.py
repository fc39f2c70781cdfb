"""Sign in and out, sessions (bearer and cookie), CSRF, expiry slide, rate limit, setup."""

from __future__ import annotations

from starlette.testclient import TestClient

from picloud.manager.api import create_admin_api
from picloud.manager.auth.rate_limit import LoginRateLimiter
from picloud.manager.bootstrap import ensure_first_owner
from picloud.store import sessions, users

LOGIN = "/api/v1/admin/auth/login"
ME = "/api/v1/admin/auth/me"
PASSWORD = "correct horse battery staple"


def test_login_answers_token_user_and_an_httponly_session_cookie(ctx, api, new_user):
    new_user("ada", "owner")
    answer = api.post(LOGIN, json={"username": "ada", "password": PASSWORD})
    assert answer.status_code == 200
    body = answer.json()
    assert body["user"]["username"] == "ada"
    assert body["user"]["role"] == "owner"
    assert set(body["user"]) >= {"id", "username", "role"}
    assert body["token"] and body["csrf_token"]
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"picloud_session={body['token']}")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
    # The same token works as a bearer token.
    me = api.get(ME, headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == "ada"
    assert me.json()["kind"] == "user"


def test_the_token_is_stored_hashed(ctx, api, new_user):
    new_user("ada", "owner")
    token = api.post(LOGIN, json={"username": "ada", "password": PASSWORD}).json()["token"]
    with ctx.database.connect() as conn:
        stored = conn.exec_driver_sql("SELECT token_hash FROM admin_sessions").scalars().all()
        user = users.get_by_username(conn, "ada")
    assert token not in stored
    assert len(stored[0]) == 64
    assert user.password_hash.startswith("$argon2id$")


def test_wrong_password_and_unknown_user_get_the_same_401(ctx, api, new_user):
    new_user("ada", "owner")
    wrong = api.post(LOGIN, json={"username": "ada", "password": "nope nope nope"})
    unknown = api.post(LOGIN, json={"username": "bob", "password": PASSWORD})
    for answer in (wrong, unknown):
        assert answer.status_code == 401
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["type"] == "https://picloud.dev/problems/invalid-credentials"
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_logout_ends_the_session(as_owner, owner_token):
    assert as_owner.post("/api/v1/admin/auth/logout").status_code == 204
    answer = as_owner.get(ME)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"


def test_no_credential_is_401_problem(api):
    answer = api.get("/api/v1/admin/apps")
    assert answer.status_code == 401
    assert answer.json()["type"] == "https://picloud.dev/problems/unauthenticated"


def test_cookie_sessions_need_the_csrf_token_for_unsafe_requests(ctx, api, new_user):
    new_user("ada", "owner")
    login = api.post(LOGIN, json={"username": "ada", "password": PASSWORD}).json()
    # The TestClient keeps the cookie, like a browser.
    assert api.get("/api/v1/admin/apps").status_code == 200
    refused = api.post("/api/v1/admin/apps", json={"slug": "shop", "name": "Shop"})
    assert refused.status_code == 403
    assert refused.json()["type"] == "https://picloud.dev/problems/csrf-failed"
    wrong = api.post(
        "/api/v1/admin/apps",
        json={"slug": "shop", "name": "Shop"},
        headers={"X-CSRF-Token": "guess"},
    )
    assert wrong.status_code == 403
    accepted = api.post(
        "/api/v1/admin/apps",
        json={"slug": "shop", "name": "Shop"},
        headers={"X-CSRF-Token": login["csrf_token"]},
    )
    assert accepted.status_code == 201
    # Nothing was created by the refused attempts.
    assert [a["slug"] for a in api.get("/api/v1/admin/apps").json()["items"]] == [
        "default",
        "shop",
    ]


def test_bearer_requests_need_no_csrf_token(as_owner):
    answer = as_owner.post("/api/v1/admin/apps", json={"slug": "shop", "name": "Shop"})
    assert answer.status_code == 201


def test_me_tells_a_cookie_session_its_csrf_token(ctx, api, new_user):
    new_user("ada", "admin")
    login = api.post(LOGIN, json={"username": "ada", "password": PASSWORD}).json()
    me = api.get(ME).json()
    assert me["csrf_token"] == login["csrf_token"]
    assert me["role"] == "admin"


def test_session_expiry_slides_with_use(ctx, api, clock, owner_token):
    headers = {"Authorization": f"Bearer {owner_token}"}
    for _ in range(3):  # 69 hours in all, never 24 hours idle
        clock.advance(hours=23)
        assert api.get(ME, headers=headers).status_code == 200
    clock.advance(hours=24, seconds=1)
    assert api.get(ME, headers=headers).status_code == 401


def test_an_idle_session_expires(api, clock, owner_token):
    clock.advance(hours=24, seconds=1)
    answer = api.get(ME, headers={"Authorization": f"Bearer {owner_token}"})
    assert answer.status_code == 401


def test_failed_logins_are_rate_limited_per_username(ctx, api, new_user):
    ctx.login_limiter = LoginRateLimiter(per_username=3, per_ip=10)
    new_user("ada", "owner")
    for _ in range(3):
        answer = api.post(LOGIN, json={"username": "ada", "password": "wrong password"})
        assert answer.status_code == 401
    limited = api.post(LOGIN, json={"username": "ada", "password": PASSWORD})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert limited.json()["type"] == "https://picloud.dev/problems/rate-limited"
    # Another user from the same address is not locked out.
    new_user("bob", "admin")
    assert api.post(LOGIN, json={"username": "bob", "password": PASSWORD}).status_code == 200


def test_failed_logins_are_rate_limited_per_client_address(ctx, api, new_user):
    ctx.login_limiter = LoginRateLimiter(per_username=3, per_ip=4)
    for attempt in range(4):
        answer = api.post(LOGIN, json={"username": f"user{attempt}", "password": "x" * 8})
        assert answer.status_code == 401
    new_user("ada", "owner")
    limited = api.post(LOGIN, json={"username": "ada", "password": PASSWORD})
    assert limited.status_code == 429


def test_a_success_resets_the_username_budget(ctx, api, new_user):
    ctx.login_limiter = LoginRateLimiter(per_username=3, per_ip=10)
    new_user("ada", "owner")
    for _ in range(2):
        for _ in range(2):
            api.post(LOGIN, json={"username": "ada", "password": "wrong password"})
        assert api.post(LOGIN, json={"username": "ada", "password": PASSWORD}).status_code == 200


def test_the_default_budget_is_five_per_user_and_twenty_per_address():
    limiter = LoginRateLimiter()
    for _ in range(5):
        assert limiter.retry_after("ada", "10.0.0.1") == 0
        limiter.record_failure("ada", "10.0.0.1")
    assert limiter.retry_after("ada", "10.0.0.1") > 0
    assert limiter.retry_after("ADA", "10.0.0.2") > 0  # user names share a budget across case
    for n in range(15):
        limiter.record_failure(f"user{n}", "10.0.0.1")
    assert limiter.retry_after("someone", "10.0.0.1") > 0
    assert limiter.retry_after("someone", "10.0.0.3") == 0


def test_setup_token_creates_the_first_owner_once(ctx, api):
    token = ensure_first_owner(ctx)
    assert token and ctx.setup_token == token
    bad = api.post(
        "/api/v1/admin/auth/setup",
        json={"token": "wrong", "username": "ada", "password": PASSWORD},
    )
    assert bad.status_code == 403
    assert bad.json()["type"] == "https://picloud.dev/problems/setup-token-invalid"
    made = api.post(
        "/api/v1/admin/auth/setup", json={"token": token, "username": "ada", "password": PASSWORD}
    )
    assert made.status_code == 201
    assert made.json()["user"]["role"] == "owner"
    assert (
        api.get(ME, headers={"Authorization": f"Bearer {made.json()['token']}"}).json()["username"]
        == "ada"
    )
    again = api.post(
        "/api/v1/admin/auth/setup", json={"token": token, "username": "eve", "password": PASSWORD}
    )
    assert again.status_code == 403
    assert ctx.setup_token is None
    assert ensure_first_owner(ctx) is None


def test_setup_refuses_a_short_password(ctx, api):
    token = ensure_first_owner(ctx)
    answer = api.post(
        "/api/v1/admin/auth/setup", json={"token": token, "username": "ada", "password": "short"}
    )
    assert answer.status_code == 422
    assert answer.json()["field"] == "password"
    assert ctx.setup_token == token  # still usable


def test_deactivated_users_sessions_end(ctx, as_owner, api, new_user):
    new_user("bob", "admin")
    bob = api.post(LOGIN, json={"username": "bob", "password": PASSWORD}).json()
    api.cookies.clear()
    headers = {"Authorization": f"Bearer {bob['token']}"}
    assert api.get(ME, headers=headers).status_code == 200
    changed = as_owner.patch(f"/api/v1/admin/users/{bob['user']['id']}", json={"is_active": False})
    assert changed.status_code == 200
    assert api.get(ME, headers=headers).status_code == 401
    assert api.post(LOGIN, json={"username": "bob", "password": PASSWORD}).status_code == 401
    with ctx.database.connect() as conn:
        assert sessions.get_by_token_hash(conn, "x") is None


def test_a_fresh_client_without_cookies_is_anonymous(ctx, owner_token):
    with TestClient(create_admin_api(ctx)) as client:
        assert client.get(ME).status_code == 401


def test_an_unreachable_database_is_a_503_with_retry_after() -> None:
    from starlette.testclient import TestClient

    from picloud.config import load_settings
    from picloud.manager.api import create_admin_api
    from picloud.manager.context import ManagerContext
    from picloud.store.database import Database

    settings = load_settings({})
    gone = Database("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")
    ctx = ManagerContext(settings=settings, database=gone, match_preview=lambda m, u: {})
    # Starlette re-raises after the catch-all handler answered; the client should see the answer.
    with TestClient(create_admin_api(ctx), raise_server_exceptions=False) as client:
        answer = client.get("/api/v1/admin/apps", headers={"Authorization": "Bearer pic_x"})
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    assert answer.json()["type"].endswith("/database-unavailable")
