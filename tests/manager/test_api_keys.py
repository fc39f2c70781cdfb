"""API keys through the API: minted once, stored hashed, scopes, expiry, app binding."""

from __future__ import annotations

from datetime import timedelta

from picloud.store import api_keys

KEYS = "/api/v1/admin/api-keys"
ADMIN = "/api/v1/admin"
PROBLEM = "https://picloud.dev/problems/"


def test_mint_shows_the_token_once_and_stores_its_hash(ctx, as_owner):
    answer = as_owner.post(KEYS, json={"name": "ci", "scopes": ["app:read", "logs:read"]})
    assert answer.status_code == 201
    key = answer.json()
    assert key["token"].startswith("pic_")
    assert key["prefix"] == key["token"][:12]
    assert key["scopes"] == ["app:read", "logs:read"]
    assert (key["app_id"], key["expires_at"]) == (None, None)
    listed = as_owner.get(KEYS).json()["items"]
    assert [k["id"] for k in listed] == [key["id"]]
    assert "token" not in listed[0]
    with ctx.database.connect() as conn:
        stored = api_keys.get(conn, key["id"])
    assert key["token"] not in (stored.token_hash, stored.prefix)


def test_a_key_authenticates_and_me_describes_it(mint):
    client = mint(["app:read"])
    me = client.get(f"{ADMIN}/auth/me").json()
    assert me["kind"] == "api_key"
    assert me["scopes"] == ["app:read"]
    assert me["username"] == "root"  # its creator


def test_scopes_are_enforced(mint):
    reader = mint(["app:read"])
    assert reader.get(f"{ADMIN}/apps").status_code == 200
    denied = reader.post(f"{ADMIN}/apps", json={"slug": "x", "name": "x"})
    assert denied.status_code == 403
    assert denied.json()["type"] == PROBLEM + "forbidden"
    assert denied.json()["required"] == "app:admin"


def test_unknown_scopes_and_past_expiry_are_refused(as_owner, clock):
    bad = as_owner.post(KEYS, json={"name": "x", "scopes": ["root"]})
    assert (bad.status_code, bad.json()["field"]) == (422, "scopes.0")
    empty = as_owner.post(KEYS, json={"name": "x", "scopes": []})
    assert empty.status_code == 422
    past = (clock() - timedelta(hours=1)).isoformat()
    expired = as_owner.post(KEYS, json={"name": "x", "scopes": ["app:read"], "expires_at": past})
    assert (expired.status_code, expired.json()["field"]) == (422, "expires_at")


def test_an_expired_key_is_401(mint, clock):
    client = mint(["app:read"], expires_at=(clock() + timedelta(hours=1)).isoformat())
    assert client.get(f"{ADMIN}/apps").status_code == 200
    clock.advance(hours=1, seconds=1)
    assert client.get(f"{ADMIN}/apps").status_code == 401


def test_a_bound_key_sees_only_its_app(as_owner, mint, make_app, make_script):
    shop = make_app("shop")
    make_app("blog")
    secret = make_script("blog", "secret")
    mine = make_script("shop", "mine")
    client = mint(["app:read", "script:read", "logs:read"], app_id="shop")
    assert client.key["app_id"] == shop["id"]
    assert [a["slug"] for a in client.get(f"{ADMIN}/apps").json()["items"]] == ["shop"]
    assert client.get(f"{ADMIN}/apps/shop").status_code == 200
    # Another app's resources are 404, exactly like ones that do not exist.
    for url in (f"{ADMIN}/apps/blog", f"{ADMIN}/scripts/{secret['id']}", f"{ADMIN}/apps/nope"):
        answer = client.get(url)
        assert answer.status_code == 404, url
    assert [s["id"] for s in client.get(f"{ADMIN}/scripts").json()["items"]] == [mine["id"]]
    assert client.get(f"{ADMIN}/scripts", params={"app": "blog"}).status_code == 404
    # Instance-wide actions are refused.
    assert client.get(f"{ADMIN}/users").status_code == 403


def test_revoke(as_owner, mint):
    client = mint(["app:read"])
    assert as_owner.delete(f"{KEYS}/{client.key['id']}").status_code == 204
    assert client.get(f"{ADMIN}/apps").status_code == 401
    assert as_owner.delete(f"{KEYS}/{client.key['id']}").status_code == 404


def test_binding_to_an_unknown_app_is_404(as_owner):
    answer = as_owner.post(KEYS, json={"name": "x", "scopes": ["app:read"], "app_id": "nope"})
    assert answer.status_code == 404
