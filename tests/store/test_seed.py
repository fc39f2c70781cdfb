import json
from types import SimpleNamespace

from picloud.store import apps, routes, scripts
from picloud.store.seed import HELLO_WORLD_SOURCE, seed_hello_world_if_fresh


def _default_app_scripts(database):
    with database.connect() as conn:
        default = apps.get_by_slug(conn, "default")
        return scripts.list_all(conn, default.id)


def test_a_fresh_install_gets_hello_world_on_get_hello(database):
    with database.begin() as conn:
        assert seed_hello_world_if_fresh(conn) is True
    (hello,) = _default_app_scripts(database)
    assert (hello.name, hello.handler, hello.version, hello.limits) == ("hello", "handle", 1, {})
    assert hello.source == HELLO_WORLD_SOURCE
    with database.connect() as conn:
        (route,) = routes.list_for_script(conn, hello.id)
    assert (route.method, route.host, route.host_kind, route.path, route.path_kind) == (
        "GET",
        "",
        "any",
        "/hello",
        "exact",
    )


def test_seeding_is_idempotent(database):
    with database.begin() as conn:
        assert seed_hello_world_if_fresh(conn) is True
    with database.begin() as conn:
        assert seed_hello_world_if_fresh(conn) is False
    assert len(_default_app_scripts(database)) == 1


def test_a_deleted_hello_world_is_never_recreated(database):
    with database.begin() as conn:
        seed_hello_world_if_fresh(conn)
    (hello,) = _default_app_scripts(database)
    with database.begin() as conn:
        scripts.delete(conn, hello.id)
    with database.begin() as conn:
        assert seed_hello_world_if_fresh(conn) is False
    assert _default_app_scripts(database) == []


def test_an_install_whose_default_app_had_scripts_never_gets_hello_world(database):
    with database.begin() as conn:
        default = apps.get_by_slug(conn, "default")
        mine = scripts.create(conn, app_id=default.id, name="mine", source="def handle(r): 1")
        assert seed_hello_world_if_fresh(conn) is False
        scripts.delete(conn, mine.id)
    with database.begin() as conn:
        assert seed_hello_world_if_fresh(conn) is False
    assert _default_app_scripts(database) == []


def test_no_default_app_means_no_seed(database):
    with database.begin() as conn:
        apps.delete(conn, apps.get_by_slug(conn, "default").id)
        assert seed_hello_world_if_fresh(conn) is False


def _request(query=None, body=b""):
    return SimpleNamespace(
        query=query or {}, body=body, json=lambda: json.loads(body) if body else None
    )


def test_the_hello_world_source_greets_by_query_then_json_body_then_world():
    namespace: dict = {}
    exec(compile(HELLO_WORLD_SOURCE, "hello", "exec"), namespace)
    logged = []
    ctx = SimpleNamespace(log=SimpleNamespace(info=lambda msg, **f: logged.append((msg, f))))
    handle = namespace["handle"]
    assert handle(_request({"name": "Ada"}), ctx) == {"message": "Hello, Ada!"}
    assert handle(_request(body=b'{"name": "Bob"}'), ctx) == {"message": "Hello, Bob!"}
    assert handle(_request(), ctx) == {"message": "Hello, world!"}
    assert logged[0] == ("greeting", {"name": "Ada"})
