"""Fixtures for the admin API tests: a real database (SQLite and PostgreSQL, from the shared
`database` fixture), the FastAPI app over Starlette's TestClient, and signed-in callers.

- `clock`: the time the API sees; `clock.advance(hours=...)` moves it (session expiry tests).
- `ctx`: the `ManagerContext`; its routes:match preview is the orchestrator's, built from the
  database as the server does.
- `api`: an anonymous `TestClient`.
- `owner_token`: a session token of the owner `root`; `as_owner`: a client sending it;
  `new_user(name, role)`: another user (password `PASSWORD`); `user_token(name, role)`: the
  same, answering a session token.
- `mint`: `mint(scopes, app_id=None)` -> a client authenticated by a new API key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest
from starlette.testclient import TestClient

from picloud.config import load_settings
from picloud.manager.api import create_admin_api
from picloud.manager.auth.passwords import hash_password
from picloud.manager.context import ManagerContext
from picloud.manager.services.auth import start_session
from picloud.orchestrator.routing import Routing
from picloud.store import users
from picloud.store.database import Database
from picloud.store.snapshot import load_routing_snapshot
from picloud.store.users import UserRecord

OWNER = "root"
PASSWORD = "correct horse battery staple"
HELLO = "def handle(req, ctx):\n    return {'hello': req.query.get('name', 'world')}\n"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def database_preview(database: Database, settings) -> Callable[[str, str], dict]:
    def preview(method: str, url: str) -> dict:
        with database.snapshot() as conn:
            snapshot = load_routing_snapshot(conn)
        routing = Routing.from_snapshot(
            snapshot, defaults=settings.default_limits, ceilings=settings.limit_ceilings
        )
        return routing.preview(method, url)

    return preview


@pytest.fixture
def ctx(database: Database, clock: Clock) -> ManagerContext:
    settings = load_settings({"PICLOUD_MAX_TIMEOUT_MS": "30000"})
    return ManagerContext(
        settings=settings,
        database=database,
        match_preview=database_preview(database, settings),
        clock=clock,
        stream_poll_seconds=0.05,
    )


@pytest.fixture
def api(ctx: ManagerContext) -> Iterator[TestClient]:
    with TestClient(create_admin_api(ctx)) as client:
        yield client


@cache
def password_hash() -> str:
    # argon2id is slow on purpose; hash the shared test password once per run.
    return hash_password(PASSWORD)


def add_user(ctx: ManagerContext, username: str, role: str = "admin") -> UserRecord:
    """Create a user with the test password, without paying for a new argon2 hash."""
    with ctx.database.begin() as conn:
        return users.create(conn, username=username, password_hash=password_hash(), role=role)


@pytest.fixture
def new_user(ctx: ManagerContext) -> Callable[..., UserRecord]:
    """`new_user(username, role="admin")` creates a user whose password is `PASSWORD`."""
    return lambda username, role="admin": add_user(ctx, username, role)


@pytest.fixture
def user_token(ctx: ManagerContext) -> Callable[..., str]:
    """`user_token(username, role="admin")` creates the user and answers a session token."""
    return lambda username, role="admin": start_session(ctx, add_user(ctx, username, role)).token


@pytest.fixture
def owner_token(ctx: ManagerContext) -> str:
    return start_session(ctx, add_user(ctx, OWNER, "owner")).token


def client_with(ctx: ManagerContext, token: str | None) -> TestClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return TestClient(create_admin_api(ctx), headers=headers)


@pytest.fixture
def as_owner(ctx: ManagerContext, owner_token: str) -> Iterator[TestClient]:
    with client_with(ctx, owner_token) as client:
        yield client


@pytest.fixture
def mint(ctx: ManagerContext, as_owner: TestClient) -> Iterator[Callable[..., TestClient]]:
    opened: list[TestClient] = []

    def make(scopes: list[str], app_id: str | None = None, **extra) -> TestClient:
        body = {"name": "test key", "scopes": scopes, "app_id": app_id, **extra}
        answer = as_owner.post("/api/v1/admin/api-keys", json=body)
        assert answer.status_code == 201, answer.text
        client = client_with(ctx, answer.json()["token"])
        client.key = answer.json()  # type: ignore[attr-defined]
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.close()


@pytest.fixture
def make_app(as_owner: TestClient) -> Callable[..., dict]:
    def make(slug: str, **fields) -> dict:
        answer = as_owner.post("/api/v1/admin/apps", json={"slug": slug, "name": slug, **fields})
        assert answer.status_code == 201, answer.text
        return answer.json()

    return make


@pytest.fixture
def make_script(as_owner: TestClient) -> Callable[..., dict]:
    def make(app: str, name: str = "hello", source: str = HELLO, **fields) -> dict:
        body = {"app_id": app, "name": name, "source": source, **fields}
        answer = as_owner.post("/api/v1/admin/scripts", json=body)
        assert answer.status_code == 201, answer.text
        return answer.json()

    return make
