import pytest

from picloud.store import users
from picloud.store.errors import Conflict


def test_users_are_created_found_listed_updated_and_deleted(database):
    with database.begin() as conn:
        ann = users.create(conn, username="ann", password_hash="h1", role="owner")
        bob = users.create(conn, username="bob", password_hash="h2", role="admin")
    with database.connect() as conn:
        assert users.get(conn, ann.id) == ann
        assert users.get_by_username(conn, "bob") == bob
        assert users.get_by_username(conn, "nobody") is None
        assert [u.username for u in users.list_all(conn)] == ["ann", "bob"]
        assert users.count(conn) == 2
    assert ann.is_active is True
    with database.begin() as conn:
        changed = users.update(conn, bob.id, role="owner", is_active=False)
    assert (changed.role, changed.is_active) == ("owner", False)
    assert changed.updated_at >= bob.updated_at
    with database.begin() as conn:
        assert users.delete(conn, bob.id) is True
        assert users.delete(conn, bob.id) is False


def test_user_names_are_unique(database):
    with database.begin() as conn:
        users.create(conn, username="ann", password_hash="h", role="owner")
    with pytest.raises(Conflict, match="'ann' is taken"), database.begin() as conn:
        users.create(conn, username="ann", password_hash="h", role="admin")


def test_active_owner_ids_leave_out_admins_and_inactive_owners(database):
    with database.begin() as conn:
        ann = users.create(conn, username="ann", password_hash="h", role="owner")
        old = users.create(conn, username="old", password_hash="h", role="owner")
        users.create(conn, username="bob", password_hash="h", role="admin")
        users.update(conn, old.id, is_active=False)
    with database.begin() as conn:
        assert users.active_owner_ids(conn, lock=True) == [ann.id]


def test_update_refuses_unknown_fields(database):
    with database.begin() as conn, pytest.raises(TypeError):
        users.update(conn, "x", id="y")
