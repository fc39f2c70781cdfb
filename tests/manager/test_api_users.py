"""Admin users through the API: CRUD, roles, the last-owner guard, deactivation."""

from __future__ import annotations

USERS = "/api/v1/admin/users"
ME = "/api/v1/admin/auth/me"
PROBLEM = "https://picloud.dev/problems/"
PASSWORD = "correct horse battery staple"


def test_create_list_get_and_delete(as_owner):
    made = as_owner.post(USERS, json={"username": "bob", "password": PASSWORD})
    assert made.status_code == 201
    bob = made.json()
    assert (bob["role"], bob["is_active"]) == ("admin", True)
    assert "password" not in bob and "password_hash" not in bob
    assert [u["username"] for u in as_owner.get(USERS).json()["items"]] == ["bob", "root"]
    assert as_owner.get(f"{USERS}/{bob['id']}").json() == bob
    assert as_owner.delete(f"{USERS}/{bob['id']}").status_code == 204
    assert as_owner.get(f"{USERS}/{bob['id']}").status_code == 404


def test_duplicate_names_bad_names_and_short_passwords_are_refused(as_owner):
    taken = as_owner.post(USERS, json={"username": "root", "password": PASSWORD})
    assert taken.status_code == 409
    assert taken.json()["type"] == PROBLEM + "username-taken"
    bad = as_owner.post(USERS, json={"username": "no spaces", "password": PASSWORD})
    assert (bad.status_code, bad.json()["field"]) == (422, "username")
    short = as_owner.post(USERS, json={"username": "bob", "password": "short"})
    assert (short.status_code, short.json()["type"]) == (422, PROBLEM + "password-invalid")
    role = as_owner.post(USERS, json={"username": "bob", "password": PASSWORD, "role": "god"})
    assert (role.status_code, role.json()["field"]) == (422, "role")


def test_the_last_active_owner_cannot_be_demoted_deactivated_or_deleted(ctx, as_owner):
    me = as_owner.get(ME).json()
    for method, body in (("PATCH", {"role": "admin"}), ("PATCH", {"is_active": False})):
        answer = as_owner.request(method, f"{USERS}/{me['id']}", json=body)
        assert answer.status_code == 409
        assert answer.json()["type"] == PROBLEM + "last-owner"
    deleted = as_owner.delete(f"{USERS}/{me['id']}")
    assert deleted.status_code == 409
    # With a second active owner, the first may step down.
    second = as_owner.post(USERS, json={"username": "ann", "password": PASSWORD, "role": "owner"})
    assert as_owner.patch(f"{USERS}/{me['id']}", json={"role": "admin"}).status_code == 200
    ann = second.json()["id"]
    assert as_owner.patch(f"{USERS}/{ann}", json={"is_active": False}).status_code == 409


def test_an_inactive_owner_does_not_count(as_owner):
    me = as_owner.get(ME).json()
    ann = as_owner.post(USERS, json={"username": "ann", "password": PASSWORD, "role": "owner"})
    as_owner.patch(f"{USERS}/{ann.json()['id']}", json={"is_active": False})
    assert as_owner.patch(f"{USERS}/{me['id']}", json={"role": "admin"}).status_code == 409


def test_deactivation_ends_sessions_and_keys(ctx, as_owner, user_token, api):
    bob_token = user_token("bob")
    bob_headers = {"Authorization": f"Bearer {bob_token}"}
    bob_id = api.get(ME, headers=bob_headers).json()["id"]
    key = api.post(
        "/api/v1/admin/api-keys", json={"name": "ci", "scopes": ["app:read"]}, headers=bob_headers
    ).json()
    key_headers = {"Authorization": f"Bearer {key['token']}"}
    assert api.get("/api/v1/admin/apps", headers=key_headers).status_code == 200
    assert as_owner.patch(f"{USERS}/{bob_id}", json={"is_active": False}).status_code == 200
    assert api.get(ME, headers=bob_headers).status_code == 401
    assert api.get("/api/v1/admin/apps", headers=key_headers).status_code == 401
    # Reactivating does not bring the old session or key back.
    assert as_owner.patch(f"{USERS}/{bob_id}", json={"is_active": True}).status_code == 200
    assert api.get(ME, headers=bob_headers).status_code == 401
    assert api.get("/api/v1/admin/apps", headers=key_headers).status_code == 401


def test_a_new_password_ends_sessions_and_works_for_login(as_owner, user_token, api):
    bob_headers = {"Authorization": f"Bearer {user_token('bob')}"}
    bob_id = api.get(ME, headers=bob_headers).json()["id"]
    new = "another long password"
    assert as_owner.patch(f"{USERS}/{bob_id}", json={"password": new}).status_code == 200
    assert api.get(ME, headers=bob_headers).status_code == 401
    login = api.post("/api/v1/admin/auth/login", json={"username": "bob", "password": new})
    assert login.status_code == 200
