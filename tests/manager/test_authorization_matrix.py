"""Every admin endpoint, every kind of caller: the answer is 2xx, 401, 403 or 404 as the one
authorization seam decides.

Callers: nobody; an owner's and an admin's session; an unbound API key with exactly the scope
the endpoint needs, and one with every other scope; keys bound to the target's app with and
without the scope; a key with the scope bound to another app. Each call gets a fresh target
(an app with a script, route, domain claim and execution record) so destructive endpoints can
succeed every time.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from starlette.testclient import TestClient

from picloud.manager.api import create_admin_api
from picloud.manager.auth import SCOPES
from picloud.manager.services.auth import start_session
from picloud.store import executions, users
from picloud.store.executions import ExecutionRecord
from picloud.store.new_rows import new_id
from picloud.store.users import UserRecord

ADMIN = "/api/v1/admin"
_counter = itertools.count()


@dataclass
class World:
    """A fresh target app ("here") with one of everything, beside a fixed other app."""

    app: dict
    script: dict
    route: dict
    domain: dict
    execution_id: str
    user: UserRecord
    key: dict


def build_world(ctx, owner: TestClient, new_user) -> World:
    n = next(_counter)
    app = owner.post(f"{ADMIN}/apps", json={"slug": f"here-{n}", "name": "Here"}).json()
    source = "def handle(req):\n    return 'hi'\n"
    script = owner.post(
        f"{ADMIN}/scripts", json={"app_id": app["id"], "name": "s", "source": source}
    ).json()
    route = owner.post(f"{ADMIN}/scripts/{script['id']}/routes", json={"path": "/r"}).json()
    domain = owner.post(
        f"{ADMIN}/apps/{app['slug']}/domains", json={"pattern": f"here{n}.example.com"}
    ).json()
    execution_id = new_id()
    with ctx.database.begin() as conn:
        executions.insert_many(
            conn,
            [
                ExecutionRecord(
                    execution_id,
                    app["id"],
                    script["id"],
                    1,
                    "http",
                    "GET",
                    "/r",
                    200,
                    "ok",
                    1.0,
                    datetime.now(UTC),
                    [],
                    None,
                )
            ],
        )
    user = new_user(f"user{n}")
    key = owner.post(f"{ADMIN}/api-keys", json={"name": "k", "scopes": ["app:read"]}).json()
    return World(app, script, route, domain, execution_id, user, key)


Build = Callable[[World], tuple[str, str, dict | None]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # the OpenAPI path template, to check the table covers every operation
    action: str | None  # None: any signed-in caller
    scope: str  # "instance", "app" (the world's app) or "listing" (across apps)
    success: int | None  # None: the success answer is not requested (an endless stream)
    build: Build

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


def fixed(method: str, url: str, body: dict | None = None) -> Build:
    return lambda w: (method, url, body)


A = ADMIN
ENDPOINTS = [
    Endpoint("GET", "/auth/me", None, "listing", 200, fixed("GET", f"{A}/auth/me")),
    Endpoint("POST", "/auth/logout", None, "listing", 204, fixed("POST", f"{A}/auth/logout")),
    Endpoint("GET", "/users", "instance:admin", "instance", 200, fixed("GET", f"{A}/users")),
    Endpoint(
        "POST", "/users", "instance:admin", "instance", 201,
        lambda w: ("POST", f"{A}/users",
                   {"username": f"new{next(_counter)}", "password": "long enough password"}),
    ),
    Endpoint(
        "GET", "/users/{user_id}", "instance:admin", "instance", 200,
        lambda w: ("GET", f"{A}/users/{w.user.id}", None),
    ),
    Endpoint(
        "PATCH", "/users/{user_id}", "instance:admin", "instance", 200,
        lambda w: ("PATCH", f"{A}/users/{w.user.id}", {"role": "owner"}),
    ),
    Endpoint(
        "DELETE", "/users/{user_id}", "instance:admin", "instance", 204,
        lambda w: ("DELETE", f"{A}/users/{w.user.id}", None),
    ),
    Endpoint(
        "POST", "/api-keys", "instance:admin", "instance", 201,
        fixed("POST", f"{A}/api-keys", {"name": "k", "scopes": ["app:read"]}),
    ),
    Endpoint("GET", "/api-keys", "instance:admin", "instance", 200, fixed("GET", f"{A}/api-keys")),
    Endpoint(
        "DELETE", "/api-keys/{key_id}", "instance:admin", "instance", 204,
        lambda w: ("DELETE", f"{A}/api-keys/{w.key['id']}", None),
    ),
    Endpoint("GET", "/apps", "app:read", "listing", 200, fixed("GET", f"{A}/apps")),
    Endpoint(
        "POST", "/apps", "app:admin", "instance", 201,
        lambda w: ("POST", f"{A}/apps", {"slug": f"new-{next(_counter)}", "name": "New"}),
    ),
    Endpoint(
        "GET", "/apps/{id_or_slug}", "app:read", "app", 200,
        lambda w: ("GET", f"{A}/apps/{w.app['slug']}", None),
    ),
    Endpoint(
        "PATCH", "/apps/{id_or_slug}", "app:admin", "app", 200,
        lambda w: ("PATCH", f"{A}/apps/{w.app['id']}", {"name": "Renamed"}),
    ),
    Endpoint(
        "DELETE", "/apps/{id_or_slug}", "app:admin", "app", 204,
        lambda w: ("DELETE", f"{A}/apps/{w.app['slug']}?force=true", None),
    ),
    Endpoint(
        "POST", "/apps/{id_or_slug}/slug:check", "app:admin", "app", 200,
        lambda w: ("POST", f"{A}/apps/{w.app['slug']}/slug:check", {"slug": "free-one"}),
    ),
    Endpoint(
        "POST", "/apps/{id_or_slug}/domains", "app:admin", "app", 201,
        lambda w: ("POST", f"{A}/apps/{w.app['slug']}/domains",
                   {"pattern": f"n{next(_counter)}.example.org"}),
    ),
    Endpoint(
        "GET", "/apps/{id_or_slug}/domains", "app:read", "app", 200,
        lambda w: ("GET", f"{A}/apps/{w.app['slug']}/domains", None),
    ),
    Endpoint(
        "DELETE", "/apps/{id_or_slug}/domains/{domain_id}", "app:admin", "app", 204,
        lambda w: ("DELETE", f"{A}/apps/{w.app['slug']}/domains/{w.domain['id']}", None),
    ),
    Endpoint("GET", "/scripts", "script:read", "listing", 200, fixed("GET", f"{A}/scripts")),
    Endpoint(
        "POST", "/scripts", "script:write", "app", 201,
        lambda w: ("POST", f"{A}/scripts", {
            "app_id": w.app["id"], "name": "new", "source": "def handle(req):\n    pass\n",
        }),
    ),
    Endpoint(
        "GET", "/scripts/{script_id}", "script:read", "app", 200,
        lambda w: ("GET", f"{A}/scripts/{w.script['id']}", None),
    ),
    Endpoint(
        "PATCH", "/scripts/{script_id}", "script:write", "app", 200,
        lambda w: ("PATCH", f"{A}/scripts/{w.script['id']}", {"description": "d"}),
    ),
    Endpoint(
        "DELETE", "/scripts/{script_id}", "script:write", "app", 204,
        lambda w: ("DELETE", f"{A}/scripts/{w.script['id']}", None),
    ),
    Endpoint(
        "POST", "/scripts/{script_id}/routes", "script:write", "app", 201,
        lambda w: ("POST", f"{A}/scripts/{w.script['id']}/routes", {"path": "/new"}),
    ),
    Endpoint(
        "GET", "/scripts/{script_id}/routes", "script:read", "app", 200,
        lambda w: ("GET", f"{A}/scripts/{w.script['id']}/routes", None),
    ),
    Endpoint(
        "GET", "/scripts/{script_id}/logs", "logs:read", "app", 200,
        lambda w: ("GET", f"{A}/scripts/{w.script['id']}/logs", None),
    ),
    Endpoint(
        "GET", "/scripts/{script_id}/logs/stream", "logs:read", "app", None,
        lambda w: ("GET", f"{A}/scripts/{w.script['id']}/logs/stream", None),
    ),
    Endpoint(
        "POST", "/routes:check", "script:read", "app", 200,
        lambda w: ("POST", f"{A}/routes:check", {"script_id": w.script["id"], "path": "/r"}),
    ),
    Endpoint(
        "POST", "/routes:match", "app:read", "listing", 200,
        fixed("POST", f"{A}/routes:match", {"url": "http://localhost/r"}),
    ),
    Endpoint(
        "GET", "/routes/{route_id}", "script:read", "app", 200,
        lambda w: ("GET", f"{A}/routes/{w.route['id']}", None),
    ),
    Endpoint(
        "DELETE", "/routes/{route_id}", "script:write", "app", 204,
        lambda w: ("DELETE", f"{A}/routes/{w.route['id']}", None),
    ),
    Endpoint("GET", "/executions", "logs:read", "listing", 200, fixed("GET", f"{A}/executions")),
    Endpoint(
        "GET", "/executions/{execution_id}", "logs:read", "app", 200,
        lambda w: ("GET", f"{A}/executions/{w.execution_id}", None),
    ),
]  # fmt: skip

#: Endpoints anyone may call: they create the credentials the others need.
ANONYMOUS = {"POST /auth/login", "POST /auth/setup"}

CALLERS = (
    "nobody", "owner", "admin", "key", "key-without-scope", "key-bound-here",
    "key-bound-here-without-scope", "key-bound-elsewhere",
)  # fmt: skip


def expected(endpoint: Endpoint, caller: str) -> int | None:
    if caller == "nobody":
        return 401
    if caller in ("owner", "admin") or endpoint.action is None:
        return endpoint.success
    if caller.endswith("without-scope"):
        return 403
    if caller == "key":
        return endpoint.success
    if endpoint.scope == "instance":
        return 403  # a bound key never acts instance-wide
    if endpoint.scope == "listing" or caller == "key-bound-here":
        return endpoint.success
    return 404  # bound elsewhere: the target's app does not exist for it


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_every_caller_gets_the_answer_the_seam_decides(ctx, api, as_owner, new_user, endpoint):
    other = as_owner.post(f"{ADMIN}/apps", json={"slug": "elsewhere", "name": "Other"}).json()
    with ctx.database.connect() as conn:
        root = users.get_by_username(conn, "root")
    admin = new_user("adm")
    scope = endpoint.action or "app:read"
    others = [s for s in SCOPES if s != scope]

    def token_for(caller: str, world: World) -> str | None:
        if caller == "nobody":
            return None
        if caller in ("owner", "admin"):
            return start_session(ctx, root if caller == "owner" else admin).token
        scopes = others if caller.endswith("without-scope") else [scope]
        app_id = {"key-bound-elsewhere": other["id"]}.get(
            caller, world.app["id"] if "bound-here" in caller else None
        )
        body = {"name": caller, "scopes": scopes, "app_id": app_id}
        return as_owner.post(f"{ADMIN}/api-keys", json=body).json()["token"]

    answers = {}
    for caller in CALLERS:
        want = expected(endpoint, caller)
        if want is None:
            continue
        world = build_world(ctx, as_owner, new_user)
        token = token_for(caller, world)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        method, url, body = endpoint.build(world)
        answer = api.request(method, url, json=body, headers=headers, follow_redirects=False)
        answers[caller] = (answer.status_code, want)
        if answer.status_code >= 400:
            assert answer.headers["content-type"] == "application/problem+json"
    assert {c: got for c, (got, _) in answers.items()} == {c: w for c, (_, w) in answers.items()}


def test_the_matrix_covers_every_operation(ctx):
    document = create_admin_api(ctx).openapi()
    operations = {
        f"{method.upper()} {path.removeprefix(ADMIN)}"
        for path, item in document["paths"].items()
        for method in item
    }
    assert operations == {e.name for e in ENDPOINTS} | ANONYMOUS
