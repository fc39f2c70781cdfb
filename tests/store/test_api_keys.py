from datetime import timedelta

import pytest

from picloud.store import api_keys, apps, users
from picloud.store.errors import MissingReference
from picloud.store.new_rows import new_id, utc_now


def test_keys_are_created_found_by_prefix_listed_touched_and_deleted(database):
    with database.begin() as conn:
        app = apps.create(conn, slug="shop", name="Shop")
        key = api_keys.create(
            conn, name="ci", prefix="pic_abcdefgh", token_hash="h" * 64, scopes=["app:read"],
            app_id=app.id, expires_at=utc_now() + timedelta(days=1),
        )  # fmt: skip
        other = api_keys.create(conn, name="all", prefix="pic_zzzzzzzz", token_hash="z" * 64,
                                scopes=["app:read", "logs:read"])  # fmt: skip
    with database.connect() as conn:
        assert api_keys.get(conn, key.id) == key
        assert api_keys.find_by_prefix(conn, "pic_abcdefgh") == [key]
        assert api_keys.find_by_prefix(conn, "pic_nothing1") == []
        assert [k.id for k in api_keys.list_all(conn)] == [key.id, other.id]
        assert api_keys.list_all(conn, app_id=app.id) == [key]
    assert other.scopes == ["app:read", "logs:read"]
    used = utc_now()
    with database.begin() as conn:
        api_keys.touch(conn, key.id, last_used_at=used)
    with database.connect() as conn:
        assert api_keys.get(conn, key.id).last_used_at == used
    with database.begin() as conn:
        assert api_keys.delete_one(conn, key.id) is True
        assert api_keys.delete_one(conn, key.id) is False


def test_keys_go_with_their_app_and_their_creator_on_request(database):
    with database.begin() as conn:
        app = apps.create(conn, slug="shop", name="Shop")
        user = users.create(conn, username="ann", password_hash="h", role="owner")
        bound = api_keys.create(
            conn, name="a", prefix="pic_aaaaaaaa", token_hash="a" * 64, scopes=[], app_id=app.id
        )
        api_keys.create(
            conn, name="b", prefix="pic_bbbbbbbb", token_hash="b" * 64, scopes=[],
            created_by=user.id,
        )  # fmt: skip
    with database.begin() as conn:
        apps.delete(conn, app.id)
        assert api_keys.get(conn, bound.id) is None
        assert api_keys.delete_created_by(conn, user.id) == 1


def test_a_key_for_a_missing_app_is_refused(database):
    with pytest.raises(MissingReference), database.begin() as conn:
        api_keys.create(
            conn, name="a", prefix="pic_aaaaaaaa", token_hash="a" * 64, scopes=[], app_id=new_id()
        )
