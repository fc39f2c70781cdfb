"""Everything dispatch needs, read in one go; the orchestrator rebuilds its tables from it."""

from __future__ import annotations

import msgspec
from sqlalchemy import Connection

from picloud.store import apps, domains, routes, scripts
from picloud.store.apps import AppRecord
from picloud.store.domains import DomainRecord
from picloud.store.routes import RouteRecord
from picloud.store.scripts import ScriptRecord


class RoutingSnapshot(msgspec.Struct, frozen=True):
    apps: list[AppRecord]
    domains: list[DomainRecord]
    scripts: list[ScriptRecord]  # with source, handler and limit overrides
    routes: list[RouteRecord]


def load_routing_snapshot(conn: Connection) -> RoutingSnapshot:
    """Apps, claims, scripts and routes in four queries.

    Read inside `Database.snapshot()` so the four agree (no route pointing at a script created
    or deleted between two of the queries).
    """
    return RoutingSnapshot(
        apps=apps.list_all(conn),
        domains=domains.list_all(conn),
        scripts=scripts.list_all(conn),
        routes=routes.list_all(conn),
    )
