import pytest

from picloud.store import apps, routes, scripts
from picloud.store.errors import Conflict, MissingReference
from picloud.store.new_rows import new_id

SOURCE = "def handle(req):\n    return 'v1'\n"


@pytest.fixture
def app(database):
    with database.begin() as conn:
        return apps.create(conn, slug="shop", name="Shop")


def test_a_script_starts_at_version_1_with_defaults(database, app):
    with database.begin() as conn:
        script = scripts.create(conn, app_id=app.id, name="cart", source=SOURCE)
    assert (script.version, script.handler, script.description, script.limits) == (
        1,
        "handle",
        "",
        {},
    )
    with database.connect() as conn:
        assert scripts.get(conn, script.id) == script
        assert scripts.get_by_name(conn, app.id, "cart") == script
        assert scripts.get_by_name(conn, app.id, "nope") is None
        assert scripts.get(conn, new_id()) is None


def test_only_the_requested_limit_overrides_are_stored(database, app):
    with database.begin() as conn:
        script = scripts.create(
            conn,
            app_id=app.id,
            name="slow",
            source=SOURCE,
            handler="main",
            description="takes its time",
            limits={"timeout_ms": 20_000},
        )
    with database.connect() as conn:
        stored = scripts.get(conn, script.id)
    assert stored.limits == {"timeout_ms": 20_000}
    assert (stored.handler, stored.description) == ("main", "takes its time")


def test_names_are_unique_per_app_only(database, app):
    with database.begin() as conn:
        scripts.create(conn, app_id=app.id, name="cart", source=SOURCE)
        default = apps.get_by_slug(conn, "default")
        scripts.create(conn, app_id=default.id, name="cart", source=SOURCE)
    with (
        pytest.raises(Conflict, match="already has a script named 'cart'"),
        database.begin() as conn,
    ):
        scripts.create(conn, app_id=app.id, name="cart", source=SOURCE)


def test_a_script_needs_an_existing_app(database):
    missing = new_id()
    with pytest.raises(MissingReference, match=missing), database.begin() as conn:
        scripts.create(conn, app_id=missing, name="x", source=SOURCE)


def test_scripts_are_listed_by_name_for_one_app_or_all(database, app):
    with database.begin() as conn:
        for name in ("zeta", "alpha"):
            scripts.create(conn, app_id=app.id, name=name, source=SOURCE)
        default = apps.get_by_slug(conn, "default")
        scripts.create(conn, app_id=default.id, name="mid", source=SOURCE)
    with database.connect() as conn:
        assert [s.name for s in scripts.list_all(conn, app.id)] == ["alpha", "zeta"]
        assert [s.name for s in scripts.list_all(conn)] == ["alpha", "mid", "zeta"]
        assert scripts.count_for_app(conn, app.id) == 2
        assert scripts.count_for_app(conn, new_id()) == 0


def test_the_version_moves_only_when_the_code_changes(database, app):
    with database.begin() as conn:
        script = scripts.create(conn, app_id=app.id, name="cart", source=SOURCE)
    with database.begin() as conn:
        described = scripts.update(conn, script.id, description="now documented")
        same = scripts.update(conn, script.id, source=SOURCE)
        edited = scripts.update(conn, script.id, source=SOURCE.replace("v1", "v2"))
        again = scripts.update(conn, script.id, source="def handle(req): return 3", name="c2")
    assert (described.version, same.version, edited.version, again.version) == (1, 1, 2, 3)
    assert described.updated_at > script.updated_at
    assert edited.updated_at > same.updated_at
    assert again.name == "c2"
    assert again.created_at == script.created_at
    with database.begin() as conn:
        same_handler = scripts.update(conn, script.id, handler="handle")
        new_handler = scripts.update(conn, script.id, handler="main")
    # Warm workers load a script again only when its version moves.
    assert (same_handler.version, new_handler.version) == (3, 4)


def test_limits_can_be_replaced_and_cleared(database, app):
    with database.begin() as conn:
        script = scripts.create(conn, app_id=app.id, name="cart", source=SOURCE)
        assert scripts.update(conn, script.id, limits={"memory_mb": 256}).limits == {
            "memory_mb": 256
        }
        assert scripts.update(conn, script.id, limits=None).limits == {}
        with pytest.raises(TypeError, match="limits must be a mapping"):
            scripts.update(conn, script.id, limits=[("memory_mb", 1)])


def test_update_refuses_unknown_fields_and_reports_missing_scripts(database, app):
    with (
        database.begin() as conn,
        pytest.raises(ValueError, match=r"cannot update script fields \['version'\]"),
    ):
        scripts.update(conn, new_id(), version=9)
        assert scripts.update(conn, new_id(), name="x") is None


def test_renaming_onto_a_sibling_is_a_conflict(database, app):
    with database.begin() as conn:
        scripts.create(conn, app_id=app.id, name="one", source=SOURCE)
        two = scripts.create(conn, app_id=app.id, name="two", source=SOURCE)
    with pytest.raises(Conflict, match="'one'"), database.begin() as conn:
        scripts.update(conn, two.id, name="one")


def test_deleting_a_script_deletes_its_routes(database, app):
    with database.begin() as conn:
        script = scripts.create(conn, app_id=app.id, name="cart", source=SOURCE)
        route = routes.create(
            conn,
            app_id=app.id,
            script_id=script.id,
            method=None,
            host="",
            host_kind="any",
            path="/cart",
            path_kind="exact",
        )
    with database.begin() as conn:
        assert scripts.delete(conn, script.id) is True
        assert scripts.delete(conn, script.id) is False
        assert routes.get(conn, route.id) is None
