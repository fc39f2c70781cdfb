"""Apps with slug history and domain claims, scripts, routes.

Revision ID: 0001_apps_scripts_routes
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_apps_scripts_routes"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "apps",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("slug", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_apps"),
        sa.UniqueConstraint("slug", name="uq_apps_slug"),
    )
    op.create_table(
        "app_slug_history",
        sa.Column("slug", sa.Text(), nullable=False),
        sa.Column("app_id", sa.String(36), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("slug", name="pk_app_slug_history"),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name="fk_app_slug_history_app_id_apps", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_app_slug_history_app_id", "app_slug_history", ["app_id"])
    op.create_table(
        "app_domains",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("app_id", sa.String(36), nullable=False),
        sa.Column("pattern", sa.Text(), nullable=False),
        sa.Column("shape", sa.Text(), nullable=False),
        sa.Column("shape_key", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_app_domains"),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name="fk_app_domains_app_id_apps", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("shape_key", name="uq_app_domains_shape_key"),
        sa.CheckConstraint("shape IN ('exact', 'wildcard', 'param')", name="ck_app_domains_shape"),
    )
    op.create_index("ix_app_domains_app_id", "app_domains", ["app_id"])
    op.create_table(
        "scripts",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("app_id", sa.String(36), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("handler", sa.Text(), server_default="handle", nullable=False),
        sa.Column("limits", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_scripts"),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name="fk_scripts_app_id_apps", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("app_id", "name", name="uq_scripts_app_id_name"),
        sa.CheckConstraint("version >= 1", name="ck_scripts_version"),
    )
    op.create_table(
        "routes",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("app_id", sa.String(36), nullable=False),
        sa.Column("script_id", sa.String(36), nullable=False),
        sa.Column("method", sa.Text(), nullable=True),
        sa.Column("host", sa.Text(), server_default="", nullable=False),
        sa.Column("host_kind", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("path_kind", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_routes"),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name="fk_routes_app_id_apps", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["script_id"], ["scripts.id"], name="fk_routes_script_id_scripts", ondelete="CASCADE"
        ),
        sa.CheckConstraint(
            "host_kind IN ('any', 'strict', 'wildcard')", name="ck_routes_host_kind"
        ),
        sa.CheckConstraint("path_kind IN ('exact', 'prefix', 'param')", name="ck_routes_path_kind"),
        sa.CheckConstraint("(host_kind = 'any') = (host = '')", name="ck_routes_host"),
    )
    op.create_index("ix_routes_script_id", "routes", ["script_id"])
    op.create_index(
        "uq_routes_binding",
        "routes",
        ["app_id", "host_kind", "host", "path_kind", "path", sa.text("coalesce(method, '*')")],
        unique=True,
    )


def downgrade() -> None:
    for table in ("routes", "scripts", "app_domains", "app_slug_history", "apps"):
        op.drop_table(table)
