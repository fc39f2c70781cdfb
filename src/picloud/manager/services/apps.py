"""Apps: create, find by id, slug or old slug, rename with history, two-step takeover, delete.

A rename records the old slug so old URLs keep redirecting. A slug in another app's history is
taken only with `force_takeover=True` (after `check_slug` said "historical"), which drops that
history entry; an app may take back one of its own old slugs freely.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection

from picloud.core.slugs import RESERVED_SLUGS, SlugError, validate_slug
from picloud.manager.problems import (
    APP_HAS_SCRIPTS,
    NOT_FOUND,
    SLUG_HISTORICAL,
    SLUG_INVALID,
    SLUG_TAKEN,
    VALIDATION,
)
from picloud.manager.services.visibility import CanSee, app_ref, see_all
from picloud.store import apps, scripts
from picloud.store.apps import AppRecord
from picloud.store.database import Database
from picloud.store.errors import Conflict

MAX_NAME_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 10_000


@dataclass(frozen=True, slots=True)
class AppLookup:
    """An app found by id, current slug, or old slug (`moved`: the caller used an old slug)."""

    app: AppRecord
    moved: bool = False


@dataclass(frozen=True, slots=True)
class SlugCheck:
    slug: str
    status: Literal["free", "taken", "historical", "reserved", "invalid"]
    app: dict[str, str] | None = None
    detail: str = ""


def lookup_app(conn: Connection, id_or_slug: str) -> AppLookup | None:
    """The app `id_or_slug` names: an id, a current slug, or an old slug still in history."""
    app = apps.get(conn, id_or_slug) or apps.get_by_slug(conn, id_or_slug)
    if app is not None:
        return AppLookup(app)
    old = apps.app_for_old_slug(conn, id_or_slug)
    return AppLookup(old, moved=True) if old is not None else None


def find_app(database: Database, id_or_slug: str) -> AppLookup:
    with database.connect() as conn:
        found = lookup_app(conn, id_or_slug)
    if found is None:
        raise NOT_FOUND(f"no app with id or slug '{id_or_slug}'")
    return found


def _check_slug_rules(slug: str) -> str:
    try:
        return validate_slug(slug)
    except SlugError as exc:
        raise SLUG_INVALID(str(exc), field="slug", rule=exc.rule) from None


def _check_text(field: str, value: str, maximum: int, *, required: bool) -> str:
    if required and not value.strip():
        raise VALIDATION(f"{field} must not be empty", field=field)
    if len(value) > maximum:
        raise VALIDATION(f"{field} must be at most {maximum} characters", field=field)
    return value


def _claim_slug(
    conn: Connection, slug: str, app_id: str | None, force_takeover: bool, can_see: CanSee
) -> None:
    """Refuse a slug another app uses now or holds in history (unless taken over)."""
    holder = apps.get_by_slug(conn, slug)
    if holder is not None and holder.id != app_id:
        raise SLUG_TAKEN(
            f"slug '{slug}' is used by another app", field="slug", app=app_ref(holder, can_see)
        )
    former = apps.app_for_old_slug(conn, slug)
    if former is None:
        return
    if former.id != app_id and not force_takeover:
        raise SLUG_HISTORICAL(
            f"slug '{slug}' is an old slug of another app and still redirects there; "
            'send "force_takeover": true to take it',
            field="slug",
            app=app_ref(former, can_see),
        )
    apps.drop_old_slug(conn, slug)


def create_app(
    database: Database,
    *,
    slug: str,
    name: str,
    description: str = "",
    force_takeover: bool = False,
) -> AppRecord:
    _check_slug_rules(slug)
    _check_text("name", name, MAX_NAME_LENGTH, required=True)
    _check_text("description", description, MAX_DESCRIPTION_LENGTH, required=False)
    try:
        with database.begin() as conn:
            _claim_slug(conn, slug, None, force_takeover, see_all)
            app = apps.create(conn, slug=slug, name=name, description=description)
    except Conflict:
        raise SLUG_TAKEN(f"slug '{slug}' is used by another app", field="slug") from None
    database.changes.publish()
    return app


def list_apps(database: Database, *, only: str | None = None) -> list[tuple[AppRecord, int]]:
    """Every app (or only the app `only`) with its script count."""
    with database.connect() as conn:
        found = apps.list_all(conn)
        counts = apps.script_counts(conn)
    return [(a, counts.get(a.id, 0)) for a in found if only is None or a.id == only]


def check_slug(
    database: Database, app_id: str, slug: str, *, can_see: CanSee = see_all
) -> SlugCheck:
    """Whether app `app_id` could be renamed to `slug`, and if not, why."""
    if slug in RESERVED_SLUGS:
        return SlugCheck(slug, "reserved", detail=f"'{slug}' is reserved")
    try:
        validate_slug(slug)
    except SlugError as exc:
        return SlugCheck(slug, "invalid", detail=exc.rule)
    with database.connect() as conn:
        holder = apps.get_by_slug(conn, slug)
        former = apps.app_for_old_slug(conn, slug)
    if holder is not None and holder.id != app_id:
        return SlugCheck(slug, "taken", app_ref(holder, can_see), "used by another app")
    if former is not None and former.id != app_id:
        return SlugCheck(
            slug,
            "historical",
            app_ref(former, can_see),
            "an old slug of another app; renaming needs force_takeover",
        )
    return SlugCheck(slug, "free")


def update_app(
    database: Database,
    app_id: str,
    *,
    slug: str | None = None,
    name: str | None = None,
    description: str | None = None,
    force_takeover: bool = False,
    can_see: CanSee = see_all,
) -> AppRecord:
    """Change name, description or slug; a new slug keeps the old one as a redirect."""
    changes: dict[str, str] = {}
    if name is not None:
        changes["name"] = _check_text("name", name, MAX_NAME_LENGTH, required=True)
    if description is not None:
        changes["description"] = _check_text(
            "description", description, MAX_DESCRIPTION_LENGTH, required=False
        )
    if slug is not None:
        _check_slug_rules(slug)
    try:
        with database.begin() as conn:
            current = apps.get(conn, app_id)
            if current is None:
                raise NOT_FOUND(f"no app with id '{app_id}'")
            if slug is not None and slug != current.slug:
                _claim_slug(conn, slug, app_id, force_takeover, can_see)
                apps.record_old_slug(conn, current.slug, app_id)
                changes["slug"] = slug
            updated = apps.update(conn, app_id, **changes) if changes else current
    except Conflict:
        raise SLUG_TAKEN(f"slug '{slug}' is used by another app", field="slug") from None
    assert updated is not None
    if changes:
        database.changes.publish()
    return updated


def delete_app(database: Database, app_id: str, *, force: bool = False) -> None:
    """Delete the app; with scripts only when `force`, then everything it owns goes too."""
    with database.begin() as conn:
        if apps.get(conn, app_id) is None:
            raise NOT_FOUND(f"no app with id '{app_id}'")
        count = scripts.count_for_app(conn, app_id)
        if count and not force:
            raise APP_HAS_SCRIPTS(
                f"the app has {count} script(s); delete them first or pass ?force=true",
                script_count=count,
            )
        apps.delete(conn, app_id)
    database.changes.publish()
