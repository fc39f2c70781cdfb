"""A PiCloud data directory made ready before its server starts: schema, Hello World, an owner,
and as many routes and domain claims as a comparison asks for.

The extra routes go to the `default` app, the one the load hits, so its route table really holds
them; the extra claims are spread over a hundred other apps, so the domain table holds them all.
Patterns come from `bench.route_tables`, which times the same shapes without HTTP.
"""

from __future__ import annotations

from pathlib import Path

from bench.route_tables import domain_claims
from picloud.core.domains import parse_claim
from picloud.core.routes import parse_route
from picloud.manager.bootstrap import create_admin
from picloud.store import apps, domains, routes, scripts
from picloud.store.database import Database
from picloud.store.seed import DEFAULT_APP_SLUG, seed_hello_world_if_fresh

ADMIN_USERNAME = "bench"
ADMIN_PASSWORD = "bench-password-not-secret"
#: The seed already gives the default app one route and two claims (localhost, 127.0.0.1).
SEEDED_ROUTES = 1
SEEDED_CLAIMS = 2
OTHER_APPS = 100


def prepare_data_dir(data_dir: Path, *, routes_total: int, claims_total: int) -> None:
    """Migrate, seed Hello World, create the owner, then top up to the given totals."""
    data_dir.mkdir(parents=True, exist_ok=True)
    database = Database(f"sqlite:///{data_dir.resolve() / 'picloud.db'}")
    try:
        database.migrate()
        with database.begin() as conn:
            seed_hello_world_if_fresh(conn)
        create_admin(database, ADMIN_USERNAME, ADMIN_PASSWORD)
        with database.begin() as conn:
            default = apps.get_by_slug(conn, DEFAULT_APP_SLUG)
            assert default is not None, "the migrations create the default app"
            (hello,) = scripts.list_all(conn, default.id)
            for i in range(routes_total - SEEDED_ROUTES):
                spec = _route_spec(i)
                routes.create(
                    conn,
                    app_id=default.id,
                    script_id=hello.id,
                    method=spec.method,
                    host=spec.host,
                    host_kind=spec.host_kind,
                    path=spec.path,
                    path_kind=spec.path_kind,
                )
            owners = [
                apps.create(conn, slug=f"tenant-{n}", name=f"Tenant {n}").id
                for n in range(min(OTHER_APPS, claims_total))
            ]
            for i, (pattern, _) in enumerate(domain_claims(claims_total - SEEDED_CLAIMS)):
                claim = parse_claim(pattern)
                domains.create(
                    conn,
                    app_id=owners[i % len(owners)],
                    pattern=claim.pattern,
                    shape=claim.shape,
                    shape_key=claim.shape_key,
                )
    finally:
        database.dispose()


def _route_spec(i: int):
    """Exact, two-parameter and prefix routes on any host, none of them near `/hello`."""
    kind = i % 10
    if kind < 4:
        return parse_route("GET", "", f"/svc{i}/items")
    if kind < 7:
        return parse_route("GET", "", f"/svc{i}/items/:id/parts/:part")
    return parse_route(None, "", f"/svc{i}/assets/*")
