from datetime import UTC

import pytest

from factories import execution_record
from picloud.store import apps, domains, executions, routes, scripts
from picloud.store.errors import Conflict
from picloud.store.new_rows import new_id


def test_an_app_is_created_and_found_by_id_and_slug(database):
    with database.begin() as conn:
        app = apps.create(conn, slug="shop", name="Shop", description="sells things")
    with database.connect() as conn:
        assert apps.get(conn, app.id) == app
        assert apps.get_by_slug(conn, "shop") == app
        assert apps.get(conn, new_id()) is None
        assert apps.get_by_slug(conn, "nope") is None
    assert len(app.id) == 36
    assert app.created_at == app.updated_at
    assert app.created_at.tzinfo == UTC


def test_description_defaults_to_empty(database):
    with database.begin() as conn:
        assert apps.create(conn, slug="plain", name="Plain").description == ""


def test_a_taken_slug_is_a_conflict_and_nothing_is_written(database):
    with (
        pytest.raises(Conflict, match="an app with slug 'default' already exists"),
        database.begin() as conn,
    ):
        apps.create(conn, slug="default", name="Again")
    with database.connect() as conn:
        assert [a.name for a in apps.list_all(conn)] == ["Default"]


def test_apps_are_listed_by_slug_with_script_counts_including_zero(database):
    with database.begin() as conn:
        zoo = apps.create(conn, slug="zoo", name="Zoo")
        bar = apps.create(conn, slug="bar", name="Bar")
        for name in ("a", "b"):
            scripts.create(conn, app_id=zoo.id, name=name, source="def handle(req): pass")
    with database.connect() as conn:
        assert [a.slug for a in apps.list_all(conn)] == ["bar", "default", "zoo"]
        counts = apps.script_counts(conn)
    assert counts[zoo.id] == 2
    assert counts[bar.id] == 0
    assert len(counts) == 3


def test_update_changes_fields_and_bumps_updated_at(database):
    with database.begin() as conn:
        app = apps.create(conn, slug="old", name="Old")
    with database.begin() as conn:
        renamed = apps.update(conn, app.id, slug="new", name="New", description="d")
    assert (renamed.slug, renamed.name, renamed.description) == ("new", "New", "d")
    assert renamed.created_at == app.created_at
    assert renamed.updated_at > app.updated_at
    with database.connect() as conn:
        assert apps.get_by_slug(conn, "new") == renamed
        assert apps.get_by_slug(conn, "old") is None


def test_update_of_a_missing_app_answers_none(database):
    with database.begin() as conn:
        assert apps.update(conn, new_id(), name="x") is None


def test_update_refuses_unknown_fields(database):
    with (
        database.begin() as conn,
        pytest.raises(ValueError, match=r"cannot update app fields \['id'\]"),
    ):
        apps.update(conn, new_id(), id="x")


def test_renaming_onto_a_taken_slug_is_a_conflict(database):
    with database.begin() as conn:
        app = apps.create(conn, slug="mine", name="Mine")
    with pytest.raises(Conflict, match="'default'"), database.begin() as conn:
        apps.update(conn, app.id, slug="default")


def test_old_slugs_lead_to_the_app_until_dropped(database):
    with database.begin() as conn:
        app = apps.create(conn, slug="before", name="App")
        renamed = apps.update(conn, app.id, slug="after")
        apps.record_old_slug(conn, "before", app.id)
    with database.connect() as conn:
        assert apps.app_for_old_slug(conn, "before") == renamed
        assert apps.app_for_old_slug(conn, "after") is None
    with database.begin() as conn:
        assert apps.drop_old_slug(conn, "before") is True
        assert apps.drop_old_slug(conn, "before") is False
        assert apps.app_for_old_slug(conn, "before") is None


def test_an_old_slug_is_held_by_one_app_at_most(database):
    with database.begin() as conn:
        first = apps.create(conn, slug="first", name="First")
        second = apps.create(conn, slug="second", name="Second")
        apps.record_old_slug(conn, "shared", first.id)
        apps.record_old_slug(conn, "shared", second.id)
    with database.connect() as conn:
        assert apps.app_for_old_slug(conn, "shared") == second


def test_deleting_an_app_deletes_everything_it_owns(database):
    with database.begin() as conn:
        app = apps.create(conn, slug="doomed", name="Doomed")
        apps.record_old_slug(conn, "was-doomed", app.id)
        domain = domains.create(
            conn,
            app_id=app.id,
            pattern="d.example.com",
            shape="exact",
            shape_key="exact:d.example.com",
        )
        script = scripts.create(conn, app_id=app.id, name="s", source="def handle(req): pass")
        route = routes.create(
            conn,
            app_id=app.id,
            script_id=script.id,
            method="GET",
            host="",
            host_kind="any",
            path="/x",
            path_kind="exact",
        )
        record = execution_record(app.id, script.id)
        executions.insert_many(conn, [record])
    with database.begin() as conn:
        assert apps.delete(conn, app.id) is True
        assert apps.delete(conn, app.id) is False
    with database.connect() as conn:
        assert apps.get(conn, app.id) is None
        assert apps.app_for_old_slug(conn, "was-doomed") is None
        assert domains.get(conn, domain.id) is None
        assert scripts.get(conn, script.id) is None
        assert routes.get(conn, route.id) is None
        assert executions.get(conn, record.id) is None
