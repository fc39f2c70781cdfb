"""The composition root: one process serving the manager, the orchestrator and the executor.

`PiCloud` is an ASGI app. It owns start-up (migrations, seeding, the first owner, the worker
pool, the routing tables, the record writer) and an orderly shutdown (in-flight requests are
drained by the server, then buffered records are written and workers stopped). Requests are split
by path prefix before any framework sees them: the admin API and dashboard get FastAPI and
Starlette, and everything else takes the lean data-plane path.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any
from urllib.parse import parse_qs

from starlette.exceptions import HTTPException

from picloud import __version__
from picloud.cli.caddyfile import TLS_ASK_PATH
from picloud.config import Settings
from picloud.core.domains import DomainError, normalize_host
from picloud.executor.interface import Executor, ScriptRef
from picloud.executor.pool import WorkerPoolExecutor
from picloud.logs import request_id_var
from picloud.manager.api import create_admin_api
from picloud.manager.auth import authenticate_token, authorize
from picloud.manager.bootstrap import ensure_first_owner
from picloud.manager.context import ManagerContext
from picloud.manager.dashboard import create_dashboard
from picloud.manager.dashboard.invoker import asgi_invoker
from picloud.orchestrator.dispatch import DataPlane
from picloud.orchestrator.gate import ConcurrencyGate
from picloud.orchestrator.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from picloud.orchestrator.metrics import Metrics
from picloud.orchestrator.records import RecordWriter
from picloud.orchestrator.responses import send_json, send_response, send_text
from picloud.orchestrator.routing import Routing, RoutingHolder
from picloud.sdk import SDK_VERSION
from picloud.store.database import Database
from picloud.store.notify import NotifyRelay
from picloud.store.seed import seed_hello_world_if_fresh
from picloud.store.snapshot import load_routing_snapshot

logger = logging.getLogger("picloud")

API_VERSION = 1
#: Largest request body the admin API and the dashboard take; a script's source is at most
#: 1 MiB, which even JSON-escaped stays below this.
MAX_ADMIN_BODY_BYTES = 8 * 1024 * 1024
_ADMIN_API_PREFIXES = ("/api/v1/admin", "/api/v1/openapi.json", "/api/v1/docs")
_CONTROL_PLANE_PREFIXES = (*_ADMIN_API_PREFIXES, "/admin", "/metrics")


class PiCloud:
    def __init__(self, settings: Settings, *, executor: Executor | None = None):
        self.settings = settings
        self.database = Database(settings.resolved_database_url)
        self.executor: Executor = executor or WorkerPoolExecutor(settings)
        self.gate = ConcurrencyGate(settings.max_concurrent_executions)
        self.records = RecordWriter(
            self.database,
            flush_ms=settings.log_flush_ms,
            retention_count=settings.log_retention_count,
            retention_days=settings.log_retention_days,
        )
        self.routing: RoutingHolder | None = None
        self.metrics = Metrics(self._live_values)
        self.data_plane: DataPlane | None = None
        self.manager = ManagerContext(
            settings=settings,
            database=self.database,
            match_preview=self._match_preview,
            invoke=asgi_invoker(lambda: self.data_plane),
        )
        self.admin_api = create_admin_api(self.manager)
        self.dashboard = create_dashboard(self.manager)
        self.setup_url: str | None = None
        # Nodes sharing one PostgreSQL tell each other about changes; SQLite means one node.
        self.relay = (
            NotifyRelay(self.database.engine, self.database.changes)
            if self.database.dialect_name == "postgresql"
            else None
        )

    # -- lifecycle ---------------------------------------------------------------------------

    async def startup(self) -> None:
        await asyncio.to_thread(self._prepare_database)
        await self.executor.start()
        self.routing = RoutingHolder(self._load_routing)
        self.database.changes.subscribe(self.routing.reload)
        if self.relay:
            self.relay.start()
        await self.records.start()
        self.data_plane = DataPlane(
            self.routing,
            self.executor,
            self.gate,
            self.records,
            admin_hosts=self.settings.admin_hosts,
            execute_guard=self._guard_execute,
            on_executed=self.metrics.observe,
        )
        logger.info(
            "PiCloud %s serving on http://%s:%d (database: %s, sandbox: %s)",
            __version__,
            self.settings.host,
            self.settings.port,
            self.database.dialect_name,
            self.executor.describe().get("sandbox"),
        )

    def _prepare_database(self) -> None:
        self.database.migrate()
        with self.database.begin() as conn:
            seed_hello_world_if_fresh(conn)
        token = ensure_first_owner(self.manager)
        if token:
            self.setup_url = (
                f"http://{_url_host(self.settings.host)}:{self.settings.port}"
                f"/admin/setup?token={token}"
            )
            logger.warning("No admin user exists yet. Create the first owner at %s", self.setup_url)

    async def shutdown(self) -> None:
        if self.relay:
            self.relay.stop()
        await self.records.aclose()
        await self.executor.aclose()
        self.database.dispose()

    def _load_routing(self) -> Routing:
        with self.database.snapshot() as conn:
            snapshot = load_routing_snapshot(conn)
        return Routing.from_snapshot(
            snapshot,
            defaults=self.settings.default_limits,
            ceilings=self.settings.limit_ceilings,
        )

    def _match_preview(self, method: str, url: str) -> dict:
        routing = self.routing.current if self.routing else self._load_routing()
        return routing.preview(method, url)

    async def _guard_execute(
        self, token: str | None, script_id: str, script: ScriptRef | None
    ) -> tuple[int, str] | None:
        if not token:
            return (401, "authentication required: send Authorization: Bearer <token>")
        principal = await asyncio.to_thread(
            authenticate_token, self.database, token, session_hours=self.settings.session_hours
        )
        if principal is None:
            return (401, "the token is invalid or expired")
        if script is None:
            return (404, f"no script with id '{script_id}'")
        decision = authorize(principal, "script:invoke", script.app_id)
        if decision.allowed:
            return None
        return (decision.status, decision.detail)

    # -- ASGI --------------------------------------------------------------------------------

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "http":
            path: str = scope["path"]
            # The control plane answers only on admin hosts: an app's host never serves the
            # dashboard, the admin API or the instance's metrics (they fall through to the data
            # plane, which answers 404 since no route may use those paths). The Host is looked
            # at only for those paths, never on the data plane's hot path.
            if path.startswith(_CONTROL_PLANE_PREFIXES) and self._on_admin_host(scope):
                await self._control_plane(path, scope, receive, send)
            elif path == "/healthz":
                await self._healthz(send)
            elif path == "/version":
                await send_json(send, 200, self.version_info())
            elif path == TLS_ASK_PATH:
                await self._tls_ask(scope, send)
            else:
                assert self.data_plane is not None, "startup() has not run"
                await self.data_plane(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _control_plane(self, path: str, scope: dict, receive: Any, send: Any) -> None:
        if path.startswith(_ADMIN_API_PREFIXES):
            await self.admin_api(scope, _capped(scope, receive), _with_request_id(send))
        elif path == "/admin" or path.startswith("/admin/"):
            await self.dashboard(scope, _capped(scope, receive), _with_request_id(send))
        elif path == "/metrics":
            headers = [(b"content-type", METRICS_CONTENT_TYPE.encode())]
            await send_response(send, 200, headers, self.metrics.render())
        else:  # a look-alike such as /administer: an ordinary data-plane path
            assert self.data_plane is not None, "startup() has not run"
            await self.data_plane(scope, receive, send)

    def _on_admin_host(self, scope: dict) -> bool:
        host = next((v for k, v in scope["headers"] if k == b"host"), b"").decode("latin-1")
        try:
            return normalize_host(host) in self.settings.admin_hosts
        except DomainError:
            return False

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    logger.exception("start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _healthz(self, send: Any) -> None:
        if await asyncio.to_thread(self.database.ping):
            await send_text(send, 200, "ok")
        else:
            await send_text(send, 503, "database unreachable")

    async def _tls_ask(self, scope: dict, send: Any) -> None:
        """Caddy's on-demand TLS check: 200 only for a host some app claims."""
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        domain = (query.get("domain") or [""])[0]
        assert self.routing is not None
        if domain and self.routing.current.domains.resolve(domain) is not None:
            await send_text(send, 200, "claimed")
        else:
            await send_text(send, 404, f"no app claims host '{domain}'")

    def _live_values(self) -> dict[str, Any]:
        stats = self.executor.stats()
        apps = self.routing.current.apps if self.routing else {}
        return {
            "live_workers": {
                (apps[app_id].slug if app_id in apps else app_id): figures["workers"]
                for app_id, figures in stats.get("apps", {}).items()
            },
            "spare_workers": stats.get("spares", 0),
            "cold_starts": stats.get("cold_starts", 0),
            "gate_rejections": self.gate.rejected,
            "in_flight": self.gate.in_flight,
            "records_pending": self.records.pending,
            "records_written": self.records.written,
        }

    def version_info(self) -> dict[str, Any]:
        return {
            "product": "picloud",
            "version": __version__,
            "api": API_VERSION,
            "schema": self.database.head_revision(),
            "sdk": SDK_VERSION,
            **self.executor.describe(),
        }


def _with_request_id(send: Any) -> Any:
    """Give this control-plane request an id: in every log line it causes and, as
    X-Request-Id, in its answer, so a user's report can be matched with the server log."""
    request_id = uuid.uuid4().hex
    request_id_var.set(request_id)
    header = (b"x-request-id", request_id.encode())

    async def send_with_id(message: dict) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), header]}
        await send(message)

    return send_with_id


def _capped(scope: dict, receive: Any, limit: int = MAX_ADMIN_BODY_BYTES) -> Any:
    """`receive` that refuses (413) a request body over `limit` before the app buffers it all.

    The admin API and the dashboard read whole bodies into memory, some before anyone is signed
    in (the login form), so without a cap one request could take the server's memory.
    """
    declared = next((v for k, v in scope.get("headers", ()) if k == b"content-length"), b"")
    # A declared length counts in full at once (the server holds the client to it); a chunked
    # body is counted as it arrives.
    counted = int(declared) if declared.isdigit() else 0
    detail = f"the request body is over the limit of {limit} bytes"

    async def receive_within_limit() -> dict:
        nonlocal counted
        if counted > limit:
            raise HTTPException(413, detail)
        message = await receive()
        if not declared:
            counted += len(message.get("body", b""))
            if counted > limit:
                raise HTTPException(413, detail)
        return message

    return receive_within_limit


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        return "localhost"
    return f"[{host}]" if ":" in host else host


def create_app(settings: Settings) -> PiCloud:
    return PiCloud(settings)
