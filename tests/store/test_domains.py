import pytest

from picloud.store import apps, domains
from picloud.store.errors import Conflict, MissingReference
from picloud.store.new_rows import new_id


def _claim(conn, app_id, pattern, shape, shape_key):
    return domains.create(conn, app_id=app_id, pattern=pattern, shape=shape, shape_key=shape_key)


def test_claims_are_created_listed_found_and_deleted(database):
    with database.begin() as conn:
        app = apps.create(conn, slug="shop", name="Shop")
        exact = _claim(conn, app.id, "shop.example.com", "exact", "exact:shop.example.com")
        wild = _claim(conn, app.id, "*.shop.example.com", "wildcard", "wildcard:shop.example.com")
        param = _claim(conn, app.id, "{tenant}.example.net", "param", "wildcard:example.net")
    with database.connect() as conn:
        assert domains.list_for_app(conn, app.id) == [wild, exact, param]
        assert {d.pattern for d in domains.list_all(conn)} == {
            "localhost",
            "127.0.0.1",
            "shop.example.com",
            "*.shop.example.com",
            "{tenant}.example.net",
        }
        assert domains.get(conn, exact.id) == exact
        assert domains.get_by_shape_key(conn, "wildcard:example.net") == param
        assert domains.get_by_shape_key(conn, "exact:nowhere") is None
    with database.begin() as conn:
        assert domains.delete(conn, exact.id) is True
        assert domains.delete(conn, exact.id) is False
        assert domains.get(conn, exact.id) is None


def test_a_shape_claimed_by_any_app_is_a_conflict(database):
    with database.begin() as conn:
        app = apps.create(conn, slug="other", name="Other")
    with (
        pytest.raises(Conflict, match="'exact:localhost' is already claimed"),
        database.begin() as conn,
    ):
        _claim(conn, app.id, "localhost", "exact", "exact:localhost")
    with pytest.raises(Conflict, match=r"wildcard:example\.com"), database.begin() as conn:
        _claim(conn, app.id, "*.example.com", "wildcard", "wildcard:example.com")
        # A param claim has a wildcard shape: the same suffix collides.
        _claim(conn, app.id, "{t}.example.com", "param", "wildcard:example.com")


def test_an_unknown_shape_or_app_is_refused(database):
    with (
        database.begin() as conn,
        pytest.raises(ValueError, match="shape must be one of exact, wildcard, param"),
    ):
        _claim(conn, new_id(), "x.com", "regex", "exact:x.com")
    missing = new_id()
    with pytest.raises(MissingReference, match=missing), database.begin() as conn:
        _claim(conn, missing, "x.com", "exact", "exact:x.com")
