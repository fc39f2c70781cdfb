"""What a repository raises when a write breaks a constraint, in words a user can act on.

Both databases report a duplicate or a dangling reference as an `IntegrityError`; this turns it
into `Conflict` or `MissingReference` carrying the message the repository chose. On PostgreSQL
the transaction is aborted afterwards: let the exception leave the `begin()` block.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError

_UNIQUE = {"23505", "SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"}
_FOREIGN_KEY = {"23503", "SQLITE_CONSTRAINT_FOREIGNKEY"}


class StoreError(Exception):
    """A write the database refused."""


class Conflict(StoreError):
    """The row would duplicate one that exists (a unique constraint)."""


class MissingReference(StoreError):
    """The row points at something that does not exist (a foreign key)."""


def _violation_code(error: IntegrityError) -> str | None:
    # psycopg names the SQLSTATE, sqlite3 the extended result code.
    orig = error.orig
    return getattr(orig, "sqlstate", None) or getattr(orig, "sqlite_errorname", None)


@contextmanager
def constraint_errors(*, conflict: str, missing: str = "") -> Iterator[None]:
    """Raise `Conflict(conflict)` or `MissingReference(missing)` for what the block violates."""
    try:
        yield
    except IntegrityError as error:
        code = _violation_code(error)
        if code in _UNIQUE:
            raise Conflict(conflict) from error
        if code in _FOREIGN_KEY and missing:
            raise MissingReference(missing) from error
        raise
