import textwrap
import warnings
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from picloud.store import apps, domains, migrations, routes, scripts
from picloud.store.database import Database
from picloud.store.schema import metadata

FIRST = "0001_apps_scripts_routes"
NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)


def test_schema_py_equals_what_the_migrations_build(database):
    with database.connect() as conn, warnings.catch_warnings():
        # SQLite cannot reflect the expression index on routes; its behaviour is tested in
        # test_routes (a duplicate binding is refused on both databases).
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression")
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        context = MigrationContext.configure(conn, opts=migrations.AUTOGENERATE_OPTIONS)
        assert compare_metadata(context, metadata) == []


def test_the_default_app_claims_localhost_and_127_0_0_1(database):
    with database.connect() as conn:
        default = apps.get_by_slug(conn, "default")
        claims = domains.list_for_app(conn, default.id)
    assert default.name == "Default"
    assert {(c.pattern, c.shape, c.shape_key) for c in claims} == {
        ("localhost", "exact", "exact:localhost"),
        ("127.0.0.1", "exact", "exact:127.0.0.1"),
    }


def _reflected(conn: sa.Connection, name: str) -> sa.Table:
    # The table as it is at this revision, not as schema.py describes head.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        return sa.Table(name, sa.MetaData(), autoload_with=conn)


def _insert(conn: sa.Connection, table: str, **values) -> None:
    conn.execute(sa.insert(_reflected(conn, table)).values(**values))


def test_upgrading_a_populated_database_from_the_first_revision_loses_nothing(database_url):
    db = Database(database_url)
    db.migrate(FIRST)
    with db.begin() as conn:
        for app_id, slug in (("a-1", "shop"), ("a-2", "default")):
            _insert(
                conn,
                "apps",
                id=app_id,
                slug=slug,
                name=slug.title(),
                description="d",
                created_at=NOW,
                updated_at=NOW,
            )
        _insert(conn, "app_slug_history", slug="old-shop", app_id="a-1", retired_at=NOW)
        _insert(
            conn,
            "app_domains",
            id="d-1",
            app_id="a-2",
            pattern="localhost",
            shape="exact",
            shape_key="exact:localhost",
            created_at=NOW,
        )
        _insert(
            conn,
            "scripts",
            id="s-1",
            app_id="a-1",
            name="cart",
            description="",
            source="def handle(req): return 1",
            handler="handle",
            limits={"timeout_ms": 900},
            version=3,
            created_at=NOW,
            updated_at=NOW,
        )
        _insert(
            conn,
            "routes",
            id="r-1",
            app_id="a-1",
            script_id="s-1",
            method=None,
            host="",
            host_kind="any",
            path="/cart/:id",
            path_kind="param",
            created_at=NOW,
        )

    db.migrate()

    with db.connect() as conn:
        shop = apps.get(conn, "a-1")
        assert (shop.slug, shop.description, shop.created_at) == ("shop", "d", NOW)
        assert apps.app_for_old_slug(conn, "old-shop") == shop
        script = scripts.get(conn, "s-1")
        assert (script.version, script.limits, script.updated_at) == (3, {"timeout_ms": 900}, NOW)
        route = routes.get(conn, "r-1")
        assert (route.method, route.path, route.path_kind) == (None, "/cart/:id", "param")
        # The existing default app is kept, not duplicated, and gets the claim it lacked.
        assert [a.id for a in apps.list_all(conn) if a.slug == "default"] == ["a-2"]
        assert {d.pattern for d in domains.list_for_app(conn, "a-2")} == {
            "localhost",
            "127.0.0.1",
        }
    db.dispose()


def test_downgrading_to_nothing_and_back_works(database):
    with database.begin() as conn:
        migrations.downgrade(conn, "base")
    with database.connect() as conn:
        assert sa.inspect(conn).get_table_names() == ["alembic_version"]
    assert database.current_revision() is None
    database.migrate()
    assert database.current_revision() == database.head_revision()


REBUILD_APPS = """
from alembic import op

revision = "9999_rebuild_apps"
down_revision = "{head}"


def upgrade():
    # A new constraint: an ALTER on PostgreSQL, a copy-drop-rename rebuild on SQLite.
    with op.batch_alter_table("apps") as batch:
        batch.create_check_constraint("ck_apps_slug_not_empty", "slug <> ''")
"""


def test_a_revision_that_rebuilds_a_parent_table_keeps_its_children(
    database, tmp_path, monkeypatch
):
    # SQLite rebuilds tables to alter them; with foreign keys enforced, dropping the old
    # `apps` would cascade-delete every script. migrate() must switch enforcement off.
    (tmp_path / "9999_rebuild_apps.py").write_text(
        textwrap.dedent(REBUILD_APPS.format(head=Database.head_revision()))
    )
    packaged = migrations.alembic_config

    def with_extra_revision(connection=None):
        config = packaged(connection)
        config.set_main_option(
            "version_locations", f"{migrations.SCRIPT_LOCATION / 'versions'} {tmp_path}"
        )
        config.set_main_option("path_separator", "space")
        return config

    monkeypatch.setattr(migrations, "alembic_config", with_extra_revision)
    with database.begin() as conn:
        app = apps.create(conn, slug="parent", name="Parent")
        scripts.create(conn, app_id=app.id, name="child", source="def handle(req): pass")
    database.migrate("9999_rebuild_apps")
    with database.connect() as conn:
        assert [s.name for s in scripts.list_all(conn, app.id)] == ["child"]
        assert len(domains.list_all(conn)) == 2
    if database.dialect_name == "sqlite":
        with database.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_a_database_migrated_by_a_newer_picloud_is_refused_clearly(database):
    with database.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    with pytest.raises(migrations.SchemaTooNew, match=r"'0099_from_the_future'.*run a newer"):
        database.migrate()


@pytest.mark.parametrize("target", ["nonsense", "0004_nope"])
def test_an_unknown_target_revision_is_an_error(database, target):
    with pytest.raises(Exception, match=target):
        database.migrate(target)
