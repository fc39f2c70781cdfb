"""Domain claims: which hosts reach an app. A shape (exact host, or wildcard suffix) is
claimed by at most one app across the instance."""

from __future__ import annotations

from picloud.core.domains import DomainError, parse_claim
from picloud.manager.problems import DOMAIN_CONFLICT, DOMAIN_INVALID, NOT_FOUND
from picloud.manager.services.visibility import CanSee, app_ref, see_all
from picloud.store import apps, domains
from picloud.store.database import Database
from picloud.store.domains import DomainRecord
from picloud.store.errors import Conflict, MissingReference


def _conflict(database: Database, shape_key: str, can_see: CanSee) -> Exception:
    with database.connect() as conn:
        holder = domains.get_by_shape_key(conn, shape_key)
        owner = apps.get(conn, holder.app_id) if holder else None
    conflict = None
    if holder is not None and owner is not None:
        conflict = {
            "id": holder.id if can_see(owner.id) else None,
            "pattern": holder.pattern,
            "shape_key": holder.shape_key,
            "app": app_ref(owner, can_see),
        }
    return DOMAIN_CONFLICT(
        f"'{shape_key}' is already claimed"
        + (f" by app '{owner.slug}'" if owner is not None and can_see(owner.id) else ""),
        field="pattern",
        conflict=conflict,
    )


def claim_domain(
    database: Database, app_id: str, pattern: str, *, can_see: CanSee = see_all
) -> DomainRecord:
    try:
        claim = parse_claim(pattern)
    except DomainError as exc:
        raise DOMAIN_INVALID(str(exc), field="pattern") from None
    try:
        with database.begin() as conn:
            record = domains.create(
                conn,
                app_id=app_id,
                pattern=claim.pattern,
                shape=claim.shape,
                shape_key=claim.shape_key,
            )
    except Conflict:
        raise _conflict(database, claim.shape_key, can_see) from None
    except MissingReference:
        raise NOT_FOUND(f"no app with id '{app_id}'") from None
    database.changes.publish()
    return record


def list_domains(database: Database, app_id: str) -> list[DomainRecord]:
    with database.connect() as conn:
        return domains.list_for_app(conn, app_id)


def release_domain(database: Database, app_id: str, domain_id: str) -> None:
    with database.begin() as conn:
        claim = domains.get(conn, domain_id)
        if claim is None or claim.app_id != app_id:
            raise NOT_FOUND(f"the app has no domain claim with id '{domain_id}'")
        domains.delete(conn, domain_id)
    database.changes.publish()
