"""Turn a bearer token or session cookie value into a `Principal`.

Tokens are looked up by their sha256 (sessions) or by their indexed prefix and then compared by
hash in constant time (API keys). Nothing here logs a token.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from picloud.manager.auth.principal import SCOPES, Principal
from picloud.manager.auth.tokens import api_key_prefix, hash_token, is_api_key, same_secret
from picloud.store import api_keys, sessions, users
from picloud.store.database import Database
from picloud.store.new_rows import utc_now

#: A session's expiry slides on use, but its row is rewritten at most this often.
SLIDE_WRITE_INTERVAL = timedelta(seconds=60)
DEFAULT_SESSION_HOURS = 24


def authenticate_token(
    database: Database,
    token: str,
    *,
    session_hours: int = DEFAULT_SESSION_HOURS,
    now: datetime | None = None,
) -> Principal | None:
    """The caller a session token or API key (`pic_...`) stands for; None when not valid.

    A valid session's expiry slides to `session_hours` after this use; an expired session, an
    expired key, or a session of a deactivated user is not valid.
    """
    if not token:
        return None
    now = now or utc_now()
    if is_api_key(token):
        return _authenticate_api_key(database, token, now)
    return _authenticate_session(database, token, now, timedelta(hours=session_hours))


def _authenticate_session(
    database: Database, token: str, now: datetime, lifetime: timedelta
) -> Principal | None:
    with database.connect() as conn:
        session = sessions.get_by_token_hash(conn, hash_token(token))
        if session is None or session.expires_at <= now:
            return None
        user = users.get(conn, session.user_id)
    if user is None or not user.is_active:
        return None
    if now - session.last_seen_at >= SLIDE_WRITE_INTERVAL:
        with database.begin() as conn:
            sessions.touch(conn, session.id, last_seen_at=now, expires_at=now + lifetime)
    return Principal(
        kind="user",
        user_id=user.id,
        username=user.username,
        role=user.role,
        scopes=frozenset(SCOPES),
        session_id=session.id,
        csrf_token=session.csrf_token,
    )


def _authenticate_api_key(database: Database, token: str, now: datetime) -> Principal | None:
    token_hash = hash_token(token)
    with database.connect() as conn:
        candidates = api_keys.find_by_prefix(conn, api_key_prefix(token))
        key = next((k for k in candidates if same_secret(k.token_hash, token_hash)), None)
        if key is None or (key.expires_at is not None and key.expires_at <= now):
            return None
        creator = users.get(conn, key.created_by) if key.created_by else None
    if creator is not None and not creator.is_active:
        return None
    if key.last_used_at is None or now - key.last_used_at >= SLIDE_WRITE_INTERVAL:
        with database.begin() as conn:
            api_keys.touch(conn, key.id, last_used_at=now)
    return Principal(
        kind="api_key",
        user_id=key.created_by,
        username=creator.username if creator else None,
        scopes=frozenset(key.scopes) & frozenset(SCOPES),
        app_id=key.app_id,
        key_id=key.id,
        key_name=key.name,
    )
