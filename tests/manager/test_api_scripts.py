"""Scripts through the API: create in an app (by id or slug), compile errors with line and
column, limits against the ceilings, unique names, versions, the ?app= filter."""

from __future__ import annotations

SCRIPTS = "/api/v1/admin/scripts"
PROBLEM = "https://picloud.dev/problems/"
SOURCE = "def handle(req, ctx):\n    return 'hi'\n"


def test_create_answers_the_script_shape(as_owner, make_app):
    app = make_app("shop")
    answer = as_owner.post(
        SCRIPTS,
        json={
            "app_id": app["id"],
            "name": "hello",
            "source": SOURCE,
            "limits": {"timeout_ms": 900},
        },
    )
    assert answer.status_code == 201
    script = answer.json()
    assert set(script) >= {
        "id", "app_id", "name", "description", "handler", "limits", "version", "created_at",
        "updated_at",
    }  # fmt: skip
    assert script["app_id"] == app["id"]
    assert script["handler"] == "handle"
    assert script["limits"] == {"timeout_ms": 900}
    assert script["effective_limits"]["timeout_ms"] == 900
    assert script["effective_limits"]["memory_mb"] == 128
    assert script["version"] == 1
    assert as_owner.get(f"{SCRIPTS}/{script['id']}").json()["source"] == SOURCE


def test_create_takes_the_app_slug_too(as_owner, make_app):
    app = make_app("shop")
    answer = as_owner.post(SCRIPTS, json={"app_id": "shop", "name": "x", "source": SOURCE})
    assert answer.json()["app_id"] == app["id"]


def test_create_requires_an_existing_app(as_owner):
    missing = as_owner.post(SCRIPTS, json={"name": "x", "source": SOURCE})
    assert missing.status_code == 422
    assert missing.json()["field"] == "app_id"
    unknown = as_owner.post(SCRIPTS, json={"app_id": "nope", "name": "x", "source": SOURCE})
    assert unknown.status_code == 404


def test_compile_errors_are_422_with_line_and_column(as_owner):
    answer = as_owner.post(
        SCRIPTS,
        json={"app_id": "default", "name": "bad", "source": "def handle(req):\n    return (\n"},
    )
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["type"] == PROBLEM + "source-invalid"
    assert (problem["line"], problem["column"]) == (2, 12)
    assert "never closed" in problem["message"]


def test_a_missing_handler_is_422(as_owner):
    answer = as_owner.post(
        SCRIPTS,
        json={"app_id": "default", "name": "x", "source": SOURCE, "handler": "main"},
    )
    assert answer.status_code == 422
    assert "main" in answer.json()["detail"]


def test_limits_above_the_ceiling_name_field_value_and_ceiling(as_owner):
    answer = as_owner.post(
        SCRIPTS,
        json={"app_id": "default", "name": "x", "source": SOURCE, "limits": {"timeout_ms": 60000}},
    )
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["type"] == PROBLEM + "limit-exceeded"
    assert (problem["field"], problem["value"], problem["ceiling"]) == ("timeout_ms", 60000, 30000)


def test_unknown_or_bad_limits_are_422(as_owner):
    unknown = as_owner.post(
        SCRIPTS, json={"app_id": "default", "name": "x", "source": SOURCE, "limits": {"cpu": 1}}
    )
    assert unknown.status_code == 422
    assert unknown.json()["type"] == PROBLEM + "limit-invalid"
    assert unknown.json()["field"] == "cpu"
    low = as_owner.post(
        SCRIPTS,
        json={"app_id": "default", "name": "x", "source": SOURCE, "limits": {"memory_mb": 1}},
    )
    assert low.json()["type"] == PROBLEM + "limit-invalid"


def test_names_are_unique_per_app(as_owner, make_app, make_script):
    make_app("shop")
    make_script("shop", "hello")
    again = as_owner.post(SCRIPTS, json={"app_id": "shop", "name": "hello", "source": SOURCE})
    assert again.status_code == 409
    assert again.json()["type"] == PROBLEM + "script-name-taken"
    elsewhere = as_owner.post(
        SCRIPTS, json={"app_id": "default", "name": "hello", "source": SOURCE}
    )
    assert elsewhere.status_code == 201


def test_app_filter_by_id_or_slug(as_owner, make_app, make_script):
    shop = make_app("shop")
    make_app("blog")
    make_script("shop", "a")
    make_script("blog", "b")
    by_slug = as_owner.get(SCRIPTS, params={"app": "shop"}).json()["items"]
    by_id = as_owner.get(SCRIPTS, params={"app": shop["id"]}).json()["items"]
    assert [s["name"] for s in by_slug] == [s["name"] for s in by_id] == ["a"]
    assert "source" not in by_slug[0]
    assert len(as_owner.get(SCRIPTS).json()["items"]) == 2
    assert as_owner.get(SCRIPTS, params={"app": "nope"}).status_code == 404


def test_patch_bumps_the_version_only_when_the_source_changes(as_owner, make_script):
    script = make_script("default")
    url = f"{SCRIPTS}/{script['id']}"
    described = as_owner.patch(url, json={"description": "greets"}).json()
    assert (described["version"], described["description"]) == (1, "greets")
    changed = as_owner.patch(url, json={"source": SOURCE.replace("hi", "ho")}).json()
    assert changed["version"] == 2
    broken = as_owner.patch(url, json={"source": "def handle(:\n"})
    assert broken.status_code == 422
    assert as_owner.get(url).json()["version"] == 2
    cleared = as_owner.patch(url, json={"limits": None}).json()
    assert cleared["limits"] == {}


def test_delete_removes_the_script_and_its_routes(as_owner, make_script):
    script = make_script("default")
    route = as_owner.post(f"{SCRIPTS}/{script['id']}/routes", json={"path": "/x"}).json()
    assert as_owner.delete(f"{SCRIPTS}/{script['id']}").status_code == 204
    assert as_owner.get(f"{SCRIPTS}/{script['id']}").status_code == 404
    assert as_owner.get(f"/api/v1/admin/routes/{route['id']}").status_code == 404
    assert as_owner.delete(f"{SCRIPTS}/{script['id']}").status_code == 404


def test_writes_are_published_to_the_change_feed(ctx, as_owner, make_script):
    seen = []
    ctx.database.changes.subscribe(lambda: seen.append(1))
    script = make_script("default")
    as_owner.patch(f"{SCRIPTS}/{script['id']}", json={"description": "x"})
    as_owner.delete(f"{SCRIPTS}/{script['id']}")
    assert len(seen) == 3


def test_null_fields_in_a_patch_leave_them_unchanged(as_owner, make_script) -> None:
    script = make_script("default")
    answer = as_owner.patch(
        f"{SCRIPTS}/{script['id']}",
        json={"name": None, "source": None, "handler": None, "description": None},
    )
    assert answer.status_code == 200
    assert (answer.json()["name"], answer.json()["version"]) == (script["name"], script["version"])
