import pytest

from picloud.store import apps, routes, scripts
from picloud.store.errors import Conflict, MissingReference
from picloud.store.new_rows import new_id


@pytest.fixture
def script(database):
    with database.begin() as conn:
        app = apps.create(conn, slug="shop", name="Shop")
        return scripts.create(conn, app_id=app.id, name="cart", source="def handle(req): pass")


def _route(
    conn, script, *, method="GET", host="", host_kind="any", path="/cart", path_kind="exact"
):
    return routes.create(
        conn,
        app_id=script.app_id,
        script_id=script.id,
        method=method,
        host=host,
        host_kind=host_kind,
        path=path,
        path_kind=path_kind,
    )


def test_routes_are_created_listed_and_deleted(database, script):
    with database.begin() as conn:
        first = _route(conn, script)
        second = _route(
            conn,
            script,
            method=None,
            host="api.shop.com",
            host_kind="strict",
            path="/items/:id",
            path_kind="param",
        )
        default = apps.get_by_slug(conn, "default")
        hello = scripts.create(conn, app_id=default.id, name="h", source="def handle(r): pass")
        elsewhere = _route(conn, hello, path="/hello")
    assert second.method is None
    with database.connect() as conn:
        assert routes.get(conn, first.id) == first
        assert routes.list_for_script(conn, script.id) == [first, second]
        assert routes.list_for_app(conn, script.app_id) == [first, second]
        assert routes.list_all(conn) == [first, second, elsewhere]
    with database.begin() as conn:
        assert routes.delete(conn, first.id) is True
        assert routes.delete(conn, first.id) is False
        assert routes.list_for_script(conn, script.id) == [second]


@pytest.mark.parametrize(
    "binding",
    [
        {"method": "GET"},
        {"method": None},  # two ANY routes on one path collide as well
        {"method": "POST", "host": "*.shop.com", "host_kind": "wildcard"},
        {"method": "GET", "path": "/static/*", "path_kind": "prefix"},
    ],
)
def test_the_same_binding_twice_in_one_app_is_a_conflict(database, script, binding):
    with database.begin() as conn:
        _route(conn, script, **binding)
    with pytest.raises(Conflict, match="the app already has a route for"), database.begin() as conn:
        _route(conn, script, **binding)


def test_bindings_differing_in_method_host_kind_or_app_coexist(database, script):
    with database.begin() as conn:
        _route(conn, script, method="GET")
        _route(conn, script, method="POST")
        _route(conn, script, method=None)
        _route(conn, script, method="GET", host="shop.com", host_kind="strict")
        _route(conn, script, method="GET", path_kind="param")
        default = apps.get_by_slug(conn, "default")
        other = scripts.create(conn, app_id=default.id, name="x", source="def handle(r): pass")
        _route(conn, other, method="GET")
        assert len(routes.list_all(conn)) == 6


def test_a_route_binds_a_script_of_its_own_app_only(database, script):
    with database.begin() as conn:
        default = apps.get_by_slug(conn, "default")
        with pytest.raises(ValueError, match="belongs to another app"):
            routes.create(
                conn,
                app_id=default.id,
                script_id=script.id,
                method="GET",
                host="",
                host_kind="any",
                path="/steal",
                path_kind="exact",
            )
        missing = new_id()
        with pytest.raises(MissingReference, match=missing):
            routes.create(
                conn,
                app_id=default.id,
                script_id=missing,
                method="GET",
                host="",
                host_kind="any",
                path="/x",
                path_kind="exact",
            )


@pytest.mark.parametrize(
    ("binding", "message"),
    [
        ({"host_kind": "regex"}, "host_kind must be one of any, strict, wildcard"),
        ({"path_kind": "glob"}, "path_kind must be one of exact, prefix, param"),
        ({"host": "shop.com", "host_kind": "any"}, "host must be '' exactly when"),
        ({"host": "", "host_kind": "strict"}, "host must be '' exactly when"),
    ],
)
def test_inconsistent_kinds_are_refused(database, script, binding, message):
    with database.begin() as conn, pytest.raises(ValueError, match=message):
        _route(conn, script, **binding)
