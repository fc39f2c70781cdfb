"""Execution logs: one record per invocation, listed newest first by keyset.

Revision ID: 0002_execution_logs
Revises: 0001_apps_scripts_routes
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_execution_logs"
down_revision = "0001_apps_scripts_routes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "execution_logs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("app_id", sa.String(36), nullable=False),
        sa.Column("script_id", sa.String(36), nullable=False),
        sa.Column("script_version", sa.Integer(), nullable=False),
        sa.Column("invocation", sa.Text(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("duration_ms", sa.Double(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("logs", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_execution_logs"),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name="fk_execution_logs_app_id_apps", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["script_id"],
            ["scripts.id"],
            name="fk_execution_logs_script_id_scripts",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_execution_logs_app_id_started_at_id", "execution_logs", ["app_id", "started_at", "id"]
    )
    op.create_index(
        "ix_execution_logs_script_id_started_at_id",
        "execution_logs",
        ["script_id", "started_at", "id"],
    )
    op.create_index(
        "ix_execution_logs_outcome_started_at", "execution_logs", ["outcome", "started_at"]
    )
    op.create_index("ix_execution_logs_started_at_id", "execution_logs", ["started_at", "id"])


def downgrade() -> None:
    op.drop_table("execution_logs")
