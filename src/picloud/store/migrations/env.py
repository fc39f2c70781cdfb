"""Alembic environment: runs on the connection `picloud.store.migrations` hands over."""

from alembic import context

from picloud.store.migrations import AUTOGENERATE_OPTIONS
from picloud.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError(
        "PiCloud migrations run online only, on a connection from picloud.store.migrations "
        "(Database.migrate() does this)"
    )

context.configure(connection=connection, target_metadata=metadata, **AUTOGENERATE_OPTIONS)
with context.begin_transaction():
    context.run_migrations()
