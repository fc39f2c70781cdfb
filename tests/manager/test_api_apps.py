"""The app lifecycle of SPEC section 2 through the API: create, rename with history, old-slug
redirects, the two-step takeover, and delete with 409 or a forced cascade."""

from __future__ import annotations

APPS = "/api/v1/admin/apps"
PROBLEM = "https://picloud.dev/problems/"


def test_create_answers_the_app_shape(as_owner):
    answer = as_owner.post(APPS, json={"slug": "shop", "name": "Shop", "description": "things"})
    assert answer.status_code == 201
    app = answer.json()
    assert set(app) == {"id", "slug", "name", "description", "created_at", "updated_at"}
    assert (app["slug"], app["name"], app["description"]) == ("shop", "Shop", "things")
    assert as_owner.get(f"{APPS}/{app['id']}").json() == app
    assert as_owner.get(f"{APPS}/shop").json() == app


def test_list_has_script_counts(as_owner, make_app, make_script):
    make_app("shop")
    make_script("shop")
    items = {a["slug"]: a for a in as_owner.get(APPS).json()["items"]}
    assert items["shop"]["script_count"] == 1
    assert items["default"]["script_count"] == 0


def test_invalid_and_reserved_slugs_are_422_naming_the_rule(as_owner):
    for slug, rule in (("Shop", "must match"), ("admin", "reserved"), ("-x", "must match")):
        answer = as_owner.post(APPS, json={"slug": slug, "name": "x"})
        assert answer.status_code == 422
        problem = answer.json()
        assert problem["type"] == PROBLEM + "slug-invalid"
        assert problem["field"] == "slug"
        assert rule in problem["rule"]


def test_a_taken_slug_is_409(as_owner):
    answer = as_owner.post(APPS, json={"slug": "default", "name": "Again"})
    assert answer.status_code == 409
    assert answer.json()["type"] == PROBLEM + "slug-taken"


def test_a_missing_name_is_a_validation_problem_naming_the_field(as_owner):
    answer = as_owner.post(APPS, json={"slug": "shop"})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"] == PROBLEM + "validation"
    assert answer.json()["field"] == "name"


def test_unknown_fields_are_refused(as_owner):
    answer = as_owner.post(APPS, json={"slug": "shop", "name": "Shop", "colour": "red"})
    assert answer.status_code == 422
    assert answer.json()["field"] == "colour"


def test_rename_keeps_history_and_old_slug_redirects(as_owner, make_app):
    app = make_app("shop")
    renamed = as_owner.patch(f"{APPS}/shop", json={"slug": "store", "name": "Store"})
    assert renamed.status_code == 200
    assert (renamed.json()["slug"], renamed.json()["name"]) == ("store", "Store")
    assert renamed.json()["id"] == app["id"]
    old = as_owner.get(f"{APPS}/shop", follow_redirects=False)
    assert old.status_code == 308
    assert old.headers["location"].endswith(f"{APPS}/store")
    # Sub-resources redirect too, keeping the rest of the URL and the query.
    domains = as_owner.get(f"{APPS}/shop/domains?x=1", follow_redirects=False)
    assert domains.status_code == 308
    assert domains.headers["location"].endswith(f"{APPS}/store/domains?x=1")
    assert as_owner.get(f"{APPS}/shop").json()["slug"] == "store"


def test_taking_a_historical_slug_is_two_steps(as_owner, make_app):
    make_app("shop")
    as_owner.patch(f"{APPS}/shop", json={"slug": "store"})
    other = make_app("blog")
    check = as_owner.post(f"{APPS}/blog/slug:check", json={"slug": "shop"})
    assert check.status_code == 200
    assert check.json()["status"] == "historical"
    assert check.json()["app"]["slug"] == "store"
    refused = as_owner.patch(f"{APPS}/blog", json={"slug": "shop"})
    assert refused.status_code == 409
    assert refused.json()["type"] == PROBLEM + "slug-historical"
    assert refused.json()["app"]["slug"] == "store"
    taken = as_owner.patch(f"{APPS}/blog", json={"slug": "shop", "force_takeover": True})
    assert taken.status_code == 200
    assert taken.json()["id"] == other["id"]
    # The old name now belongs to blog: no redirect to store any more.
    assert as_owner.get(f"{APPS}/shop", follow_redirects=False).json()["id"] == other["id"]
    # Its own old name is free for it, and historical for anyone else.
    assert as_owner.post(f"{APPS}/shop/slug:check", json={"slug": "blog"}).json()["status"] == (
        "free"
    )
    assert as_owner.post(f"{APPS}/store/slug:check", json={"slug": "blog"}).json()["status"] == (
        "historical"
    )


def test_an_app_takes_back_its_own_old_slug_freely(as_owner, make_app):
    app = make_app("shop")
    as_owner.patch(f"{APPS}/shop", json={"slug": "store"})
    check = as_owner.post(f"{APPS}/store/slug:check", json={"slug": "shop"}).json()
    assert check["status"] == "free"
    back = as_owner.patch(f"{APPS}/store", json={"slug": "shop"})
    assert back.status_code == 200
    assert as_owner.get(f"{APPS}/store").json()["id"] == app["id"]


def test_slug_check_statuses(as_owner, make_app):
    make_app("shop")
    statuses = {
        slug: as_owner.post(f"{APPS}/shop/slug:check", json={"slug": slug}).json()
        for slug in ("fresh", "default", "api", "Bad Slug")
    }
    assert statuses["fresh"]["status"] == "free"
    assert statuses["fresh"]["app"] is None
    assert statuses["default"]["status"] == "taken"
    assert statuses["default"]["app"]["slug"] == "default"
    assert statuses["api"]["status"] == "reserved"
    assert statuses["Bad Slug"]["status"] == "invalid"


def test_delete_with_scripts_is_409_with_the_count_unless_forced(as_owner, make_app, make_script):
    make_app("shop")
    make_script("shop", "a")
    make_script("shop", "b")
    refused = as_owner.delete(f"{APPS}/shop")
    assert refused.status_code == 409
    assert refused.json()["script_count"] == 2
    assert refused.json()["type"] == PROBLEM + "app-has-scripts"
    assert as_owner.get(f"{APPS}/shop").status_code == 200
    assert as_owner.delete(f"{APPS}/shop?force=true").status_code == 204
    assert as_owner.get(f"{APPS}/shop").status_code == 404
    assert as_owner.get("/api/v1/admin/scripts").json()["items"] == []


def test_delete_without_scripts_needs_no_force(as_owner, make_app):
    make_app("empty")
    assert as_owner.delete(f"{APPS}/empty").status_code == 204
    assert as_owner.get(f"{APPS}/empty").status_code == 404


def test_forced_delete_removes_everything_the_app_owns(ctx, as_owner, make_app, make_script):
    make_app("shop")
    as_owner.post(f"{APPS}/shop/domains", json={"pattern": "shop.example.com"})
    script = make_script("shop")
    as_owner.post(f"/api/v1/admin/scripts/{script['id']}/routes", json={"path": "/x"})
    as_owner.patch(f"{APPS}/shop", json={"slug": "store"})
    assert as_owner.delete(f"{APPS}/store?force=true").status_code == 204
    with ctx.database.connect() as conn:
        for table in ("scripts", "routes", "app_domains", "app_slug_history"):
            count = conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
            expected = 2 if table == "app_domains" else 0  # default's localhost claims
            assert count == expected, table
    # The domain is free again.
    make_app("again")
    claim = as_owner.post(f"{APPS}/again/domains", json={"pattern": "shop.example.com"})
    assert claim.status_code == 201


def test_domains_claim_list_release_and_conflict(as_owner, make_app):
    make_app("shop")
    make_app("blog")
    claim = as_owner.post(f"{APPS}/shop/domains", json={"pattern": "*.Example.com."})
    assert claim.status_code == 201
    assert claim.json()["pattern"] == "*.example.com"
    assert claim.json()["shape"] == "wildcard"
    assert claim.json()["shape_key"] == "wildcard:example.com"
    clash = as_owner.post(f"{APPS}/blog/domains", json={"pattern": "{tenant}.example.com"})
    assert clash.status_code == 409
    assert clash.json()["type"] == PROBLEM + "domain-conflict"
    assert clash.json()["conflict"]["app"]["slug"] == "shop"
    assert clash.json()["conflict"]["pattern"] == "*.example.com"
    listed = as_owner.get(f"{APPS}/shop/domains").json()["items"]
    assert [d["pattern"] for d in listed] == ["*.example.com"]
    # Releasing through another app is a 404; through the owner it works.
    domain_id = claim.json()["id"]
    assert as_owner.delete(f"{APPS}/blog/domains/{domain_id}").status_code == 404
    assert as_owner.delete(f"{APPS}/shop/domains/{domain_id}").status_code == 204
    assert as_owner.post(f"{APPS}/blog/domains", json={"pattern": "*.example.com"}).status_code == (
        201
    )


def test_invalid_domain_patterns_are_422(as_owner):
    for pattern in ("*.1.2.3.4", "a.*.example.com", "bad..name", "*"):
        answer = as_owner.post(f"{APPS}/default/domains", json={"pattern": pattern})
        assert answer.status_code == 422, pattern
        assert answer.json()["type"] == PROBLEM + "domain-invalid"
        assert answer.json()["field"] == "pattern"


def test_unknown_app_is_404(as_owner):
    answer = as_owner.get(f"{APPS}/nope")
    assert answer.status_code == 404
    assert answer.json()["type"] == PROBLEM + "not-found"
