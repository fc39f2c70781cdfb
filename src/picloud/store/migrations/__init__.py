"""Alembic, driven from code: the environment and revisions ship inside the package.

There is no alembic.ini on disk; `alembic_config()` builds the configuration and the caller hands
over an open connection, so the upgrade runs inside the caller's transaction (and lock).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

SCRIPT_LOCATION = Path(__file__).parent


def _compare_server_default(
    context: MigrationContext,
    inspected_column: Any,
    metadata_column: Any,
    inspected_default: str | None,
    metadata_default: Any,
    rendered_metadata_default: str | None,
) -> bool | None:
    # Alembic reads SQLite's DEFAULT '' back as "('')" and would report a change that is none.
    if inspected_default == "('')" and rendered_metadata_default == "":
        return False
    return None  # let Alembic decide


#: How autogenerate compares `schema.metadata` with a database: used by env.py when writing a
#: revision and by the test that requires the two to be equal.
AUTOGENERATE_OPTIONS: dict[str, Any] = {
    "compare_type": True,
    "compare_server_default": _compare_server_default,
    # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
    "render_as_batch": True,
}


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for the packaged revisions, bound to `connection` if given."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.set_main_option("path_separator", "os")
    config.set_main_option("file_template", "%%(rev)s")  # versions/0005_name.py
    if connection is not None:
        config.attributes["connection"] = connection
    return config


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer PiCloud than this one."""


@cache
def head_revision() -> str:
    """The newest revision id in the packaged scripts, e.g. `0004_default_app`."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migration scripts found in {SCRIPT_LOCATION}")
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at, or None before the first migration."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(connection: Connection, target: str = "head") -> None:
    """Run every revision up to `target` on `connection`, inside its open transaction."""
    config = alembic_config(connection)
    current = current_revision(connection)
    known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    if current is not None and current not in known:
        raise SchemaTooNew(
            f"the database is at schema revision {current!r}, which this PiCloud does not "
            f"know (its newest is {head_revision()!r}): run a newer PiCloud"
        )
    command.upgrade(config, target)


def downgrade(connection: Connection, target: str) -> None:
    """Undo revisions down to `target` (`base` for an empty database); for tests and repair."""
    command.downgrade(alembic_config(connection), target)
