"""The first owner: from the environment, from `picloud admin create`, or from the one-time
setup link; and `picloud admin reset-password`."""

from __future__ import annotations

import logging

import pytest

from picloud.manager.bootstrap import (
    BootstrapError,
    create_admin,
    ensure_first_owner,
    reset_password,
)
from picloud.store import users

PASSWORD = "correct horse battery staple"


def with_env(ctx, **values):
    ctx.settings = ctx.settings.replace(**values)
    return ctx


def test_the_environment_creates_the_first_owner(ctx, api):
    with_env(ctx, admin_username="ada", admin_password=PASSWORD)
    assert ensure_first_owner(ctx) is None
    with ctx.database.connect() as conn:
        ada = users.get_by_username(conn, "ada")
    assert (ada.role, ada.is_active) == ("owner", True)
    login = api.post("/api/v1/admin/auth/login", json={"username": "ada", "password": PASSWORD})
    assert login.status_code == 200


def test_the_environment_is_inert_once_an_admin_exists_with_a_warning(ctx, caplog):
    create_admin(ctx.database, "root", PASSWORD)
    with_env(ctx, admin_username="ada", admin_password=PASSWORD)
    with caplog.at_level(logging.WARNING):
        assert ensure_first_owner(ctx) is None
    assert "ignored" in caplog.text
    assert PASSWORD not in caplog.text
    with ctx.database.connect() as conn:
        assert users.get_by_username(conn, "ada") is None


def test_a_bad_environment_password_stops_with_a_clear_error(ctx):
    with_env(ctx, admin_username="ada", admin_password="short")
    with pytest.raises(BootstrapError, match="PICLOUD_ADMIN_PASSWORD: the password must be"):
        ensure_first_owner(ctx)


def test_without_admin_and_environment_a_setup_token_is_kept_until_used(ctx):
    token = ensure_first_owner(ctx)
    assert token and len(token) >= 40
    assert ensure_first_owner(ctx) == token  # the same link while setup is pending
    create_admin(ctx.database, "root", PASSWORD)
    assert ensure_first_owner(ctx) is None
    assert ctx.setup_token is None


def test_create_admin_refuses_bad_input_with_a_value_error(ctx):
    create_admin(ctx.database, "root", PASSWORD)
    for username, password, role in (
        ("root", PASSWORD, "owner"),
        ("x y", PASSWORD, "owner"),
        ("ann", "short", "owner"),
        ("ann", PASSWORD, "king"),
    ):
        with pytest.raises(ValueError):
            create_admin(ctx.database, username, password, role)


def test_reset_password_sets_it_and_ends_sessions(ctx, api, user_token):
    token = user_token("ann")
    new = "a brand new password"
    reset_password(ctx.database, "ann", new)
    assert (
        api.get("/api/v1/admin/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )
    login = api.post("/api/v1/admin/auth/login", json={"username": "ann", "password": new})
    assert login.status_code == 200
    with pytest.raises(BootstrapError, match="no admin user named 'bob'"):
        reset_password(ctx.database, "bob", new)
