"""Routes: bind a script to (method, host, path) inside its app, refusing what would clash.

Validation and conflict rules are `picloud.core.routes`; this module feeds them the app's claims
and routes inside one transaction that holds the app's row, so two conflicting routes created at
the same moment cannot both pass the check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from picloud.core.domains import parse_claim
from picloud.core.routes import RouteEntry, RouteError, RouteSpec, find_conflict, host_is_covered
from picloud.core.routes import parse_route as core_parse_route
from picloud.manager.problems import (
    HOST_NOT_COVERED,
    NOT_FOUND,
    ROUTE_CONFLICT,
    ROUTE_INVALID,
    Problem,
)
from picloud.manager.services.app_lock import lock_app
from picloud.store import domains, routes
from picloud.store.database import Database
from picloud.store.errors import Conflict, MissingReference
from picloud.store.routes import RouteRecord
from picloud.store.scripts import ScriptRecord


@dataclass(frozen=True, slots=True)
class RouteRequest:
    """A route as the caller wrote it, before validation."""

    method: str | None
    host: str
    path: str
    host_kind: str | None = None
    path_kind: str | None = None


@dataclass(frozen=True, slots=True)
class RouteCheck:
    """The outcome of `check_route`: `problem` is what creating the route would answer."""

    ok: bool
    spec: RouteSpec | None
    conflict: RouteRecord | None
    problem: dict[str, Any] | None


def route_view(record: RouteRecord) -> dict[str, Any]:
    """The wire shape of a route, also used inside 409 bodies."""
    return {
        "id": record.id,
        "app_id": record.app_id,
        "script_id": record.script_id,
        "method": record.method,
        "host": record.host,
        "host_kind": record.host_kind,
        "path": record.path,
        "path_kind": record.path_kind,
        "created_at": record.created_at.isoformat(),
    }


def _parse(request: RouteRequest) -> RouteSpec:
    try:
        return core_parse_route(
            request.method, request.host, request.path, request.host_kind, request.path_kind
        )
    except RouteError as exc:
        raise ROUTE_INVALID(exc.message, field=exc.field) from None


def _entry(record: RouteRecord) -> RouteEntry:
    spec = RouteSpec(record.method, record.host, record.host_kind, record.path, record.path_kind)
    return RouteEntry(record.id, record.script_id, spec)


def _plan(conn: Connection, app_id: str, spec: RouteSpec) -> RouteRecord | None:
    """Raise the 422 for an unclaimed host; return the existing route `spec` clashes with."""
    claims = [parse_claim(d.pattern) for d in domains.list_for_app(conn, app_id)]
    if not host_is_covered(spec, claims):
        raise HOST_NOT_COVERED(
            f"host '{spec.host}' is not covered by any domain the app claims; "
            "claim it first or use host '' (every claimed host)",
            field="host",
        )
    existing = {r.id: r for r in routes.list_for_app(conn, app_id)}
    clash = find_conflict(spec, (_entry(r) for r in existing.values()))
    return existing[clash.id] if clash else None


def _conflict_problem(conflict: RouteRecord) -> Problem:
    method = conflict.method or "ANY"
    return ROUTE_CONFLICT(
        f"the app already has {method} {conflict.host or '*'}{conflict.path} "
        f"(route '{conflict.id}')",
        conflict=route_view(conflict),
    )


def check_route(database: Database, script: ScriptRecord, request: RouteRequest) -> RouteCheck:
    """What creating this route for `script` would do, without creating it."""
    try:
        spec = _parse(request)
        with database.connect() as conn:
            conflict = _plan(conn, script.app_id, spec)
    except Problem as problem:
        return RouteCheck(False, None, None, problem.to_dict())
    if conflict is not None:
        return RouteCheck(False, spec, conflict, _conflict_problem(conflict).to_dict())
    return RouteCheck(True, spec, None, None)


def create_route(database: Database, script: ScriptRecord, request: RouteRequest) -> RouteRecord:
    spec = _parse(request)
    try:
        with database.begin() as conn:
            lock_app(conn, script.app_id)
            conflict = _plan(conn, script.app_id, spec)
            if conflict is not None:
                raise _conflict_problem(conflict)
            record = routes.create(
                conn,
                app_id=script.app_id,
                script_id=script.id,
                method=spec.method,
                host=spec.host,
                host_kind=spec.host_kind,
                path=spec.path,
                path_kind=spec.path_kind,
            )
    except MissingReference:
        raise NOT_FOUND(f"no script with id '{script.id}'") from None
    except Conflict:
        # Only reachable if the lock was bypassed; report the clash the same way.
        with database.connect() as conn:
            clash = _plan(conn, script.app_id, spec)
        if clash is None:
            raise
        raise _conflict_problem(clash) from None
    database.changes.publish()
    return record


def list_routes(database: Database, script_id: str) -> list[RouteRecord]:
    with database.connect() as conn:
        return routes.list_for_script(conn, script_id)


def lookup_route(database: Database, route_id: str) -> RouteRecord | None:
    with database.connect() as conn:
        return routes.get(conn, route_id)


def delete_route(database: Database, route_id: str) -> None:
    with database.begin() as conn:
        if not routes.delete(conn, route_id):
            raise NOT_FOUND(f"no route with id '{route_id}'")
    database.changes.publish()
