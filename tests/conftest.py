"""Shared database fixtures for the whole suite.

- `database_url`: a URL to an empty, private database, once per backend:
  - `sqlite`: a file in the test's `tmp_path`;
  - `postgresql` (marked `postgres`): a fresh schema in the server named by
    `PICLOUD_TEST_DATABASE_URL`, selected through `search_path` in the URL's `options`, so
    anything that opens the URL (a server subprocess too) lands in it. The schema is dropped
    after the test; names are random, so pytest-xdist workers never meet. Without the variable
    the test is skipped with "PICLOUD_TEST_DATABASE_URL is not set".
- `database`: a `picloud.store.database.Database` on that URL, migrated to head (so it has the
  default app and its localhost/127.0.0.1 claims, but no Hello World script), disposed after.

A test that takes either fixture runs once on each database. Select one with
`-m postgres` / `-m "not postgres"`, or `-k sqlite` / `-k postgresql`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from picloud.store.database import Database, normalize_url
from picloud.store.notify import libpq_url

POSTGRES_URL_ENV = "PICLOUD_TEST_DATABASE_URL"


def _postgres_server_url() -> str:
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set")
    return url


def _libpq_conninfo(url: str) -> str:
    return libpq_url(make_url(normalize_url(url)))


@pytest.fixture
def _postgres_schema_url() -> Iterator[str]:
    server_url = _postgres_server_url()
    schema = f"picloud_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(_libpq_conninfo(server_url), autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    parsed = make_url(server_url)
    options = " ".join(filter(None, [parsed.query.get("options"), f"-csearch_path={schema}"]))
    yield parsed.update_query_dict({"options": options}).render_as_string(hide_password=False)
    with psycopg.connect(_libpq_conninfo(server_url), autocommit=True) as admin:
        # Fail loudly rather than hang if a test left a transaction open in the schema.
        admin.execute("SET lock_timeout = '10s'")
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL to an empty database of its own, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'picloud.db'}"
    return request.getfixturevalue("_postgres_schema_url")


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A `Database` on `database_url`, migrated to head."""
    db = Database(database_url)
    db.migrate()
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """A real `picloud serve` on a free port, shared by one test module (see live_server.py)."""
    from live_server import start_server

    server = start_server(tmp_path_factory.mktemp("server") / "data")
    yield server
    server.stop()


@pytest.fixture
def start_live_server():
    """Start as many real servers as a test needs; each is stopped (SIGTERM) afterwards."""
    from live_server import start_server

    started = []

    def start(data_dir, extra_env=None, **kwargs):
        server = start_server(data_dir, extra_env, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def postgres_url(_postgres_schema_url: str) -> str:
    """A private PostgreSQL schema, for tests that only make sense there (cluster mode)."""
    return _postgres_schema_url


@pytest.fixture
def anyio_backend() -> str:
    """Async tests (`pytest.mark.anyio`) run on asyncio, as the server does."""
    return "asyncio"
