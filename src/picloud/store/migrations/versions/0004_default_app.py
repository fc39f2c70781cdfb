"""Instance state, and the `default` app that claims localhost and 127.0.0.1.

Revision ID: 0004_default_app
Revises: 0003_auth

The values are written out here rather than imported from `picloud.store.seed`: a revision is
history and must insert what it inserted on the day it shipped. A database that predates this
revision keeps its own `default` app (which gets the claims nobody holds yet) and its claims.
"""

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0004_default_app"
down_revision = "0003_auth"
branch_labels = None
depends_on = None

apps = sa.table(
    "apps",
    sa.column("id", sa.String),
    sa.column("slug", sa.Text),
    sa.column("name", sa.Text),
    sa.column("description", sa.Text),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
app_domains = sa.table(
    "app_domains",
    sa.column("id", sa.String),
    sa.column("app_id", sa.String),
    sa.column("pattern", sa.Text),
    sa.column("shape", sa.Text),
    sa.column("shape_key", sa.Text),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
DEFAULT_CLAIMS = ("localhost", "127.0.0.1")


def upgrade() -> None:
    op.create_table(
        "instance_state",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_instance_state"),
    )
    bind = op.get_bind()
    # Aware UTC: SQLite's DateTime keeps the UTC wall clock, as `UtcDateTime` does.
    now = datetime.now(UTC)
    app_id = bind.execute(sa.select(apps.c.id).where(apps.c.slug == "default")).scalar()
    if app_id is None:
        app_id = str(uuid.uuid4())
        bind.execute(
            apps.insert().values(
                id=app_id,
                slug="default",
                name="Default",
                description="",
                created_at=now,
                updated_at=now,
            )
        )
    for host in DEFAULT_CLAIMS:
        claimed = sa.select(app_domains.c.id).where(app_domains.c.shape_key == f"exact:{host}")
        if bind.execute(claimed).first() is None:
            bind.execute(
                app_domains.insert().values(
                    id=str(uuid.uuid4()),
                    app_id=app_id,
                    pattern=host,
                    shape="exact",
                    shape_key=f"exact:{host}",
                    created_at=now,
                )
            )


def downgrade() -> None:
    # The default app stays: it may own the user's scripts, and upgrade() keeps an existing one.
    op.drop_table("instance_state")
