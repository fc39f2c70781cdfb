from datetime import timedelta

from picloud.store import sessions, users
from picloud.store.new_rows import utc_now


def _user(conn):
    return users.create(conn, username="ann", password_hash="h", role="owner")


def test_sessions_are_found_by_token_hash_touched_and_deleted(database):
    now = utc_now()
    with database.begin() as conn:
        user = _user(conn)
        made = sessions.create(
            conn, token_hash="a" * 64, user_id=user.id, csrf_token="c", now=now,
            expires_at=now + timedelta(hours=24),
        )  # fmt: skip
    with database.connect() as conn:
        assert sessions.get_by_token_hash(conn, "a" * 64) == made
        assert sessions.get_by_token_hash(conn, "b" * 64) is None
    later = now + timedelta(hours=1)
    with database.begin() as conn:
        sessions.touch(conn, made.id, last_seen_at=later, expires_at=later + timedelta(hours=24))
    with database.connect() as conn:
        touched = sessions.get_by_token_hash(conn, "a" * 64)
    assert touched.expires_at == later + timedelta(hours=24)
    with database.begin() as conn:
        assert sessions.delete_one(conn, made.id) is True
        assert sessions.delete_one(conn, made.id) is False


def test_expired_and_per_user_deletes(database):
    now = utc_now()
    with database.begin() as conn:
        user = _user(conn)
        for n, hours in enumerate((-1, 1, 2)):
            sessions.create(
                conn, token_hash=str(n) * 64, user_id=user.id, csrf_token="c", now=now,
                expires_at=now + timedelta(hours=hours),
            )  # fmt: skip
    with database.begin() as conn:
        assert sessions.delete_expired(conn, now) == 1
        assert sessions.delete_for_user(conn, user.id) == 2


def test_deleting_a_user_deletes_its_sessions(database):
    now = utc_now()
    with database.begin() as conn:
        user = _user(conn)
        sessions.create(
            conn, token_hash="a" * 64, user_id=user.id, csrf_token="c", now=now, expires_at=now
        )
        users.delete(conn, user.id)
    with database.connect() as conn:
        assert sessions.get_by_token_hash(conn, "a" * 64) is None
