"""Routes through the API: create per script, 409 with the conflicting route, 422 for reserved
prefixes and unclaimed hosts, routes:check and routes:match."""

from __future__ import annotations

import pytest

ADMIN = "/api/v1/admin"
PROBLEM = "https://picloud.dev/problems/"


@pytest.fixture
def script(make_script) -> dict:
    return make_script("default", "users")


def add(client, script, **route):
    return client.post(f"{ADMIN}/scripts/{script['id']}/routes", json=route)


def test_create_answers_the_route_shape(as_owner, script):
    answer = add(as_owner, script, method="get", path="/users/:id")
    assert answer.status_code == 201
    route = answer.json()
    assert route["script_id"] == script["id"]
    assert (route["method"], route["host"], route["host_kind"]) == ("GET", "", "any")
    assert (route["path"], route["path_kind"]) == ("/users/:id", "param")
    listed = as_owner.get(f"{ADMIN}/scripts/{script['id']}/routes").json()["items"]
    assert [r["id"] for r in listed] == [route["id"]]


def test_a_conflict_is_409_with_the_conflicting_route(as_owner, script, make_script):
    first = add(as_owner, script, method="GET", path="/users/:id").json()
    other = make_script("default", "other")
    clash = add(as_owner, other, method=None, path="/users/:name")
    assert clash.status_code == 409
    problem = clash.json()
    assert problem["type"] == PROBLEM + "route-conflict"
    assert problem["conflict"]["id"] == first["id"]
    assert problem["conflict"]["path"] == "/users/:id"
    assert add(as_owner, other, method="POST", path="/users/:name").status_code == 201


def test_routes_in_different_apps_never_conflict(as_owner, script, make_app, make_script):
    add(as_owner, script, path="/same")
    make_app("shop")
    other = make_script("shop", "x")
    assert add(as_owner, other, path="/same").status_code == 201


@pytest.mark.parametrize("path", ["/api/x", "/admin/", "/healthz", "/static/a.css"])
def test_reserved_prefixes_are_422(as_owner, script, path):
    answer = add(as_owner, script, path=path)
    assert answer.status_code == 422
    assert answer.json()["type"] == PROBLEM + "route-invalid"
    assert answer.json()["field"] == "path"


def test_a_host_the_app_does_not_claim_is_422(as_owner, script):
    answer = add(as_owner, script, host="api.example.com", path="/x")
    assert answer.status_code == 422
    assert answer.json()["type"] == PROBLEM + "host-not-covered"
    assert answer.json()["field"] == "host"
    as_owner.post(f"{ADMIN}/apps/default/domains", json={"pattern": "*.example.com"})
    assert add(as_owner, script, host="api.example.com", path="/x").status_code == 201
    assert add(as_owner, script, host="*.eu.example.com", path="/x").status_code == 201


def test_check_previews_without_creating(as_owner, script):
    add(as_owner, script, method="GET", path="/a")
    body = {"script_id": script["id"], "method": "ANY", "path": "/a"}
    clash = as_owner.post(f"{ADMIN}/routes:check", json=body).json()
    assert clash["ok"] is False
    assert clash["conflict"]["path"] == "/a"
    assert clash["problem"]["status"] == 409
    free = as_owner.post(f"{ADMIN}/routes:check", json={**body, "path": "/b"}).json()
    assert free == {"ok": True, "conflict": None, "problem": None}
    invalid = as_owner.post(f"{ADMIN}/routes:check", json={**body, "path": "/api/x"}).json()
    assert invalid["ok"] is False
    assert invalid["problem"]["type"] == PROBLEM + "route-invalid"
    assert len(as_owner.get(f"{ADMIN}/scripts/{script['id']}/routes").json()["items"]) == 1


def test_match_tells_app_script_route_and_params(as_owner, script):
    route = add(as_owner, script, method="GET", path="/users/:id").json()
    answer = as_owner.post(
        f"{ADMIN}/routes:match", json={"url": "http://localhost:8080/users/42", "method": "GET"}
    )
    assert answer.status_code == 200
    match = answer.json()
    assert match["matched"] is True
    assert match["app"]["slug"] == "default"
    assert match["script"] == {"id": script["id"], "name": "users"}
    assert match["route"]["id"] == route["id"]
    assert match["params"] == {"id": "42"}
    unclaimed = as_owner.post(f"{ADMIN}/routes:match", json={"url": "http://nobody.test/x"})
    assert unclaimed.json()["matched"] is False
    assert "nobody.test" in unclaimed.json()["reason"]


def test_delete_a_route(as_owner, script):
    route = add(as_owner, script, path="/x").json()
    assert as_owner.delete(f"{ADMIN}/routes/{route['id']}").status_code == 204
    assert as_owner.delete(f"{ADMIN}/routes/{route['id']}").status_code == 404
    assert add(as_owner, script, path="/x").status_code == 201
