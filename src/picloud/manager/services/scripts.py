"""Scripts: saved only when the source compiles with its handler and the limits fit.

The stored `limits` are only the overrides the user asked for; the effective limits are those
merged over the platform defaults (`effective_limits`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from picloud.config import Settings
from picloud.core.limits import LimitError, Limits, resolve_limits
from picloud.core.source import SourceError, validate_source
from picloud.manager.problems import (
    LIMIT_EXCEEDED,
    LIMIT_INVALID,
    NOT_FOUND,
    SCRIPT_NAME_TAKEN,
    SOURCE_INVALID,
    VALIDATION,
)
from picloud.store import scripts
from picloud.store.database import Database
from picloud.store.errors import Conflict, MissingReference
from picloud.store.scripts import ScriptRecord

SCRIPT_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"
_SCRIPT_NAME = re.compile(SCRIPT_NAME_PATTERN)
MAX_DESCRIPTION_LENGTH = 10_000


def check_name(name: str) -> str:
    if not _SCRIPT_NAME.fullmatch(name):
        raise VALIDATION(f"script name {name!r} must match {SCRIPT_NAME_PATTERN}", field="name")
    return name


def check_source(source: str, handler: str) -> None:
    try:
        validate_source(source, handler)
    except SourceError as exc:
        field = "handler" if exc.message.startswith("handler ") and exc.line is None else "source"
        raise SOURCE_INVALID(
            str(exc), field=field, message=exc.message, line=exc.line, column=exc.column
        ) from None


def effective_limits(settings: Settings, overrides: Mapping[str, Any] | None) -> Limits:
    """The limits a script runs with; raises the 422 Problem naming the bad field."""
    try:
        return resolve_limits(
            overrides, defaults=settings.default_limits, ceilings=settings.limit_ceilings
        )
    except LimitError as exc:
        if exc.ceiling is not None:
            raise LIMIT_EXCEEDED(
                str(exc), field=exc.field, value=exc.value, ceiling=exc.ceiling
            ) from None
        raise LIMIT_INVALID(str(exc), field=exc.field, value=exc.value) from None


def _check_description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise VALIDATION(
            f"description must be at most {MAX_DESCRIPTION_LENGTH} characters",
            field="description",
        )
    return description


def _overrides(limits: Mapping[str, Any] | None) -> dict[str, int]:
    return {k: v for k, v in (limits or {}).items() if v is not None}


def create_script(
    database: Database,
    settings: Settings,
    *,
    app_id: str,
    name: str,
    source: str,
    description: str = "",
    handler: str = "handle",
    limits: Mapping[str, Any] | None = None,
) -> ScriptRecord:
    check_name(name)
    _check_description(description)
    check_source(source, handler)
    effective_limits(settings, limits)
    try:
        with database.begin() as conn:
            record = scripts.create(
                conn,
                app_id=app_id,
                name=name,
                source=source,
                handler=handler,
                description=description,
                limits=_overrides(limits),
            )
    except Conflict:
        raise SCRIPT_NAME_TAKEN(
            f"the app already has a script named '{name}'", field="name"
        ) from None
    except MissingReference:
        raise NOT_FOUND(f"no app with id '{app_id}'") from None
    database.changes.publish()
    return record


def list_scripts(database: Database, *, app_id: str | None = None) -> list[ScriptRecord]:
    with database.connect() as conn:
        return scripts.list_all(conn, app_id)


def lookup_script(database: Database, script_id: str) -> ScriptRecord | None:
    with database.connect() as conn:
        return scripts.get(conn, script_id)


def update_script(
    database: Database, settings: Settings, script_id: str, changes: Mapping[str, Any]
) -> ScriptRecord:
    """Apply `changes` (any of name, description, source, handler, limits) in one step.

    A new source bumps the version. `limits` replaces the stored overrides (None clears them);
    None for any other field leaves it unchanged, as for apps and users.
    """
    fields = {k: v for k, v in changes.items() if v is not None or k == "limits"}
    if "name" in fields:
        check_name(fields["name"])
    if "description" in fields:
        _check_description(fields["description"])
    if "limits" in fields:
        effective_limits(settings, fields["limits"])
        fields["limits"] = _overrides(fields["limits"])
    try:
        with database.begin() as conn:
            current = scripts.get(conn, script_id)
            if current is None:
                raise NOT_FOUND(f"no script with id '{script_id}'")
            if "source" in fields or "handler" in fields:
                check_source(
                    fields.get("source", current.source), fields.get("handler", current.handler)
                )
            updated = scripts.update(conn, script_id, **fields) if fields else current
    except Conflict:
        raise SCRIPT_NAME_TAKEN(
            f"the app already has a script named '{fields.get('name')}'", field="name"
        ) from None
    assert updated is not None
    database.changes.publish()
    return updated


def delete_script(database: Database, script_id: str) -> None:
    with database.begin() as conn:
        if not scripts.delete(conn, script_id):
            raise NOT_FOUND(f"no script with id '{script_id}'")
    database.changes.publish()
