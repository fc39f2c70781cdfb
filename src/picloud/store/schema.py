"""The database schema as SQLAlchemy Core tables: the one description every query is built from.

The Alembic revisions in `migrations/versions/` build exactly these tables; a test compares
Alembic's autogenerate diff against a migrated database on SQLite and PostgreSQL and requires it
to be empty, so a change here without a revision (or the other way round) fails the suite.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Dialect,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
    true,
)
from sqlalchemy.types import DateTime, TypeDecorator

#: Constraint names are spelled out by convention so they are the same on both databases and the
#: revisions can name them (SQLite needs a name to drop or rebuild a constraint).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database.

    PostgreSQL stores `timestamptz`; SQLite stores the UTC wall clock as text, which sorts in
    time order. Naive datetimes are refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"expected a timezone-aware datetime, got {value!r}")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _id() -> Column[Any]:
    return Column("id", String(36), primary_key=True)


def _app_id(*, nullable: bool = False) -> Column[Any]:
    return Column(
        "app_id", String(36), ForeignKey("apps.id", ondelete="CASCADE"), nullable=nullable
    )


def _script_id() -> Column[Any]:
    return Column(
        "script_id", String(36), ForeignKey("scripts.id", ondelete="CASCADE"), nullable=False
    )


def _timestamp(name: str, *, nullable: bool = False) -> Column[Any]:
    return Column(name, UtcDateTime(), nullable=nullable)


def _one_of(column: str, *values: str) -> CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=column)


apps = Table(
    "apps",
    metadata,
    _id(),
    Column("slug", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    _timestamp("created_at"),
    _timestamp("updated_at"),
)

app_slug_history = Table(
    "app_slug_history",
    metadata,
    Column("slug", Text, primary_key=True),
    _app_id(),
    _timestamp("retired_at"),
    Index(None, "app_id"),
)

app_domains = Table(
    "app_domains",
    metadata,
    _id(),
    _app_id(),
    Column("pattern", Text, nullable=False),
    Column("shape", Text, nullable=False),
    Column("shape_key", Text, nullable=False, unique=True),
    _timestamp("created_at"),
    _one_of("shape", "exact", "wildcard", "param"),
    Index(None, "app_id"),
)

scripts = Table(
    "scripts",
    metadata,
    _id(),
    _app_id(),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("source", Text, nullable=False),
    Column("handler", Text, nullable=False, server_default="handle"),
    Column("limits", JSON, nullable=False),
    Column("version", Integer, nullable=False, server_default=text("1")),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    UniqueConstraint("app_id", "name"),
    CheckConstraint("version >= 1", name="version"),
)

routes = Table(
    "routes",
    metadata,
    _id(),
    _app_id(),
    _script_id(),
    Column("method", Text, nullable=True),  # NULL means ANY
    Column("host", Text, nullable=False, server_default=""),
    Column("host_kind", Text, nullable=False),
    Column("path", Text, nullable=False),
    Column("path_kind", Text, nullable=False),
    _timestamp("created_at"),
    _one_of("host_kind", "any", "strict", "wildcard"),
    _one_of("path_kind", "exact", "prefix", "param"),
    CheckConstraint("(host_kind = 'any') = (host = '')", name="host"),
    Index(None, "script_id"),
)

#: One binding per app; ANY (NULL) is spelled '*' so two ANY routes on one path collide too.
ROUTE_BINDING_INDEX = Index(
    "uq_routes_binding",
    routes.c.app_id,
    routes.c.host_kind,
    routes.c.host,
    routes.c.path_kind,
    routes.c.path,
    func.coalesce(routes.c.method, text("'*'")),
    unique=True,
)

execution_logs = Table(
    "execution_logs",
    metadata,
    _id(),
    _app_id(),
    _script_id(),
    Column("script_version", Integer, nullable=False),
    Column("invocation", Text, nullable=False),
    Column("method", Text, nullable=False),
    Column("path", Text, nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("duration_ms", Double, nullable=False),
    _timestamp("started_at"),
    Column("logs", JSON, nullable=False),
    Column("error", Text, nullable=True),
    Index(None, "app_id", "started_at", "id"),
    Index(None, "script_id", "started_at", "id"),
    Index(None, "outcome", "started_at"),
    # Serves the unfiltered listing and age-based pruning.
    Index(None, "started_at", "id"),
)

admin_users = Table(
    "admin_users",
    metadata,
    _id(),
    Column("username", Text, nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("is_active", Boolean, nullable=False, server_default=true()),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    _one_of("role", "owner", "admin"),
)

admin_sessions = Table(
    "admin_sessions",
    metadata,
    _id(),
    Column("token_hash", Text, nullable=False, unique=True),  # sha256 hex of the token
    Column("user_id", String(36), ForeignKey("admin_users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", Text, nullable=False),
    _timestamp("created_at"),
    _timestamp("expires_at"),
    _timestamp("last_seen_at"),
    Index(None, "user_id"),
    Index(None, "expires_at"),
)

api_keys = Table(
    "api_keys",
    metadata,
    _id(),
    Column("name", Text, nullable=False),
    Column("prefix", Text, nullable=False, index=True),  # first 12 chars, e.g. pic_ab12cd34
    Column("token_hash", Text, nullable=False, unique=True),
    Column("scopes", JSON, nullable=False),
    _app_id(nullable=True),
    _timestamp("expires_at", nullable=True),
    Column(
        "created_by", String(36), ForeignKey("admin_users.id", ondelete="SET NULL"), nullable=True
    ),
    _timestamp("created_at"),
    _timestamp("last_used_at", nullable=True),
    Index(None, "app_id"),
    Index(None, "created_by"),
)

instance_state = Table(
    "instance_state",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)
