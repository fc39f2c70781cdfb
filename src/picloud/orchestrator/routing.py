"""The data plane's in-memory view of configuration: Host -> app -> route -> script.

A `Routing` is built once from a database snapshot and never mutated; a configuration change
builds a new one and swaps the reference (`RoutingHolder`), so a lookup never takes a lock and
never touches the database.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from urllib.parse import unquote, urlsplit

from picloud.core.domains import DomainError, DomainTable, HostMatch, normalize_host, parse_claim
from picloud.core.limits import Limits, resolve_limits
from picloud.core.routes import Match, RouteEntry, RouteMatch, RouteSpec, RouteTable
from picloud.executor.interface import ScriptRef
from picloud.store.snapshot import RoutingSnapshot

logger = logging.getLogger(__name__)


class Outcome(Enum):
    NO_APP = "no_app"
    NO_ROUTE = "no_route"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    MATCHED = "matched"


@dataclass(frozen=True, slots=True)
class AppRef:
    id: str
    slug: str


#: Resolutions one routing table remembers (see `Routing.resolve`).
RESOLUTION_MEMO_SIZE = 4096


@dataclass(frozen=True, slots=True)
class Resolution:
    outcome: Outcome
    host: str
    app: AppRef | None = None
    script: ScriptRef | None = None
    route: RouteEntry | None = None
    params: dict[str, str] = field(default_factory=dict)
    rest: str | None = None
    allow: tuple[str, ...] = ()

    @property
    def reason(self) -> str | None:
        if self.outcome is Outcome.NO_APP:
            return f"no app claims host '{self.host}'"
        if self.outcome is Outcome.NO_ROUTE:
            return f"no route of app '{self.app.slug}' matches this path"  # type: ignore[union-attr]
        if self.outcome is Outcome.METHOD_NOT_ALLOWED:
            return f"method not allowed; allowed: {', '.join(self.allow)}"
        return None


class Routing:
    """Immutable dispatch tables for every app."""

    def __init__(
        self,
        apps: dict[str, AppRef],
        domains: DomainTable,
        route_tables: dict[str, RouteTable],
        scripts: dict[str, ScriptRef],
    ):
        self.apps = apps
        self.domains = domains
        self.route_tables = route_tables
        self.scripts = scripts
        self._resolved: dict[tuple[str, str, str], Resolution] = {}

    @classmethod
    def from_snapshot(
        cls, snapshot: RoutingSnapshot, *, defaults: Limits, ceilings: Limits
    ) -> Routing:
        apps = {a.id: AppRef(a.id, a.slug) for a in snapshot.apps}
        domains = DomainTable.build((parse_claim(d.pattern), d.app_id) for d in snapshot.domains)
        scripts = {
            s.id: ScriptRef(
                id=s.id,
                app_id=s.app_id,
                name=s.name,
                version=s.version,
                source=s.source,
                handler=s.handler,
                limits=_limits_or_defaults(s.limits, defaults, ceilings),
            )
            for s in snapshot.scripts
        }
        per_app: dict[str, list[RouteEntry]] = {app_id: [] for app_id in apps}
        for r in snapshot.routes:
            spec = RouteSpec(
                method=r.method,
                host=r.host,
                host_kind=r.host_kind,
                path=r.path,
                path_kind=r.path_kind,
            )
            per_app.setdefault(r.app_id, []).append(RouteEntry(r.id, r.script_id, spec))
        route_tables = {app_id: RouteTable.build(entries) for app_id, entries in per_app.items()}
        return cls(apps, domains, route_tables, scripts)

    def resolve(self, method: str, host: str, path: str) -> Resolution:
        """Phase one: Host -> app. Phase two: that app's route table only.

        Answers are remembered per (method, Host, path) for the life of these tables (a change
        builds new ones): a busy endpoint is asked the same question again and again. The memo
        is bounded, and emptied when full, so unique paths cannot grow it.
        """
        key = (method, host, path)
        found = self._resolved.get(key)
        if found is None:
            if len(self._resolved) >= RESOLUTION_MEMO_SIZE:
                self._resolved.clear()
            found = self._resolved[key] = self._resolve(method, host, path)
        return found

    def _resolve(self, method: str, host: str, path: str) -> Resolution:
        try:
            host = normalize_host(host)
        except DomainError:
            return Resolution(Outcome.NO_APP, host=host[:255])
        host_match: HostMatch | None = self.domains.resolve(host)
        if host_match is None:
            return Resolution(Outcome.NO_APP, host=host)
        app = self.apps[host_match.app_id]
        table = self.route_tables.get(app.id)
        found: RouteMatch | None = table.match(method, host, path) if table else None
        if found is None or found.match is Match.NONE:
            return Resolution(Outcome.NO_ROUTE, host=host, app=app)
        if found.match is Match.PARTIAL:
            return Resolution(Outcome.METHOD_NOT_ALLOWED, host=host, app=app, allow=found.allow)
        entry = found.entry
        assert entry is not None
        return Resolution(
            Outcome.MATCHED,
            host=host,
            app=app,
            script=self.scripts[entry.script_id],
            route=entry,
            params={**host_match.bindings, **found.params},
            rest=found.rest,
        )

    def preview(self, method: str, url: str) -> dict:
        """The answer of `POST /api/v1/admin/routes:match` for a request not yet made."""
        try:
            parts = urlsplit(url if "://" in url else f"http://{url}")
            host = parts.netloc.rpartition("@")[2]
        except ValueError as exc:
            return {**_NO_MATCH, "reason": f"not a valid URL: {exc}"}
        found = self.resolve(method.upper(), host, unquote(parts.path or "/"))
        route = found.route
        return {
            "matched": found.outcome is Outcome.MATCHED,
            "app": {"id": found.app.id, "slug": found.app.slug} if found.app else None,
            "script": (
                {"id": found.script.id, "name": found.script.name} if found.script else None
            ),
            "route": (
                {
                    "id": route.id,
                    "script_id": route.script_id,
                    "method": route.spec.method,
                    "host": route.spec.host,
                    "host_kind": route.spec.host_kind,
                    "path": route.spec.path,
                    "path_kind": route.spec.path_kind,
                }
                if route
                else None
            ),
            "params": found.params,
            "rest": found.rest,
            "reason": found.reason,
            "allow": list(found.allow),
        }


_NO_MATCH: dict = {
    "matched": False,
    "app": None,
    "script": None,
    "route": None,
    "params": {},
    "rest": None,
    "allow": [],
}


def _limits_or_defaults(overrides: dict | None, defaults: Limits, ceilings: Limits) -> Limits:
    try:
        return resolve_limits(overrides, defaults=defaults, ceilings=ceilings)
    except ValueError:
        # A ceiling lowered after the script was saved: run it at the defaults instead of
        # refusing to start; the admin API shows the stored overrides unchanged.
        logger.warning("stored limits %r exceed the current ceilings; using defaults", overrides)
        return resolve_limits(None, defaults=defaults, ceilings=ceilings)


class RoutingHolder:
    """Holds the current `Routing` and rebuilds it when configuration changes.

    Readers take `holder.current` without locking: the swap is one reference assignment.
    """

    def __init__(self, load: Callable[[], Routing]):
        self._load = load
        self._lock = threading.Lock()
        self.current: Routing = load()

    def reload(self) -> None:
        with self._lock:
            self.current = self._load()
