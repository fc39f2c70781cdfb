"""Sign in, sign out and the one-time first-owner setup.

A login checks the failed-login budget first (429 with `Retry-After` once it is spent), then
the password with argon2id, and answers the same 401 for an unknown user, a wrong password and a
deactivated user, after the same amount of work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from picloud.manager.auth.passwords import hash_password, needs_rehash, verify_password
from picloud.manager.auth.principal import Principal
from picloud.manager.auth.tokens import hash_token, new_secret, new_session_token, same_secret
from picloud.manager.context import ManagerContext
from picloud.manager.problems import INVALID_CREDENTIALS, RATE_LIMITED, SETUP_TOKEN_INVALID
from picloud.manager.services.users import insert_user
from picloud.store import sessions, users
from picloud.store.users import UserRecord


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new session: `token` is shown to the client once and only its hash is stored."""

    token: str
    csrf_token: str
    expires_at: datetime
    user: UserRecord


def login(ctx: ManagerContext, username: str, password: str, client_ip: str) -> SignedIn:
    wait = ctx.login_limiter.retry_after(username, client_ip)
    if wait:
        raise RATE_LIMITED(
            f"too many failed logins; try again in {wait} seconds",
            headers={"Retry-After": str(wait)},
            retry_after=wait,
        )
    with ctx.database.connect() as conn:
        user = users.get_by_username(conn, username)
    password_ok = verify_password(user.password_hash if user else None, password)
    if user is None or not password_ok or not user.is_active:
        ctx.login_limiter.record_failure(username, client_ip)
        raise INVALID_CREDENTIALS("wrong username or password")
    ctx.login_limiter.record_success(username)
    return start_session(ctx, user, rehash_with=password)


def start_session(
    ctx: ManagerContext, user: UserRecord, *, rehash_with: str | None = None
) -> SignedIn:
    now = ctx.clock()
    expires_at = now + timedelta(hours=ctx.settings.session_hours)
    token, csrf_token = new_session_token(), new_secret()
    with ctx.database.begin() as conn:
        sessions.delete_expired(conn, now)  # housekeeping, cheap through the expires_at index
        sessions.create(
            conn,
            token_hash=hash_token(token),
            user_id=user.id,
            csrf_token=csrf_token,
            now=now,
            expires_at=expires_at,
        )
        if rehash_with is not None and needs_rehash(user.password_hash):
            users.update(conn, user.id, password_hash=hash_password(rehash_with))
    return SignedIn(token, csrf_token, expires_at, user)


def logout(ctx: ManagerContext, principal: Principal) -> None:
    """End the caller's session; an API key has no session and is left alone."""
    if principal.session_id is None:
        return
    with ctx.database.begin() as conn:
        sessions.delete_one(conn, principal.session_id)


def setup_first_owner(ctx: ManagerContext, token: str, username: str, password: str) -> SignedIn:
    """Create the first owner with the one-time setup token, and sign it in."""
    if ctx.setup_token is None or not same_secret(token, ctx.setup_token):
        raise SETUP_TOKEN_INVALID(
            "the setup token is wrong, or setup is not pending (an admin user exists)"
        )
    with ctx.database.begin() as conn:
        if users.count(conn):
            ctx.setup_token = None
            raise SETUP_TOKEN_INVALID("setup is not pending: an admin user exists")
        owner = insert_user(conn, username, password, "owner")
    ctx.setup_token = None
    return start_session(ctx, owner)
