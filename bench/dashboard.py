"""Server time of every dashboard page with 1,000 scripts in one app.

    .venv/bin/python -m bench.dashboard [--scripts 1000] [--records 20] [--samples 40]
                                        [--database-url postgresql://...]

The dashboard runs in process on a real database (a fresh SQLite file unless a URL is given)
seeded with one app holding `--scripts` scripts, each with a route and `--records` execution
records (one in ten an error), beside the default app. Each page is requested `--samples` times
after two warm-up requests through Starlette's TestClient, signed in with a real session; the
time is from request to complete response, so it covers authentication, the service calls, the
queries and template rendering, not the network. The budget is 50 ms per page.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from starlette.testclient import TestClient

from picloud.config import load_settings
from picloud.manager.context import ManagerContext
from picloud.manager.dashboard import create_dashboard
from picloud.manager.services.users import create_user
from picloud.orchestrator.routing import Routing
from picloud.store import apps, routes, scripts
from picloud.store.database import Database
from picloud.store.executions import ExecutionRecord, insert_many
from picloud.store.snapshot import load_routing_snapshot

BUDGET_MS = 50.0
APP = "big"
SOURCE = """\
def handle(req, ctx):
    name = req.query.get("name", "world")
    ctx.log.info("greeting", name=name)
    return {"message": f"Hello, {name}!"}
"""


def seed(database: Database, script_count: int, records_per_script: int) -> tuple[str, str]:
    """The app and script count the issue names; returns (a script name, one execution id)."""
    now = datetime.now(UTC)
    with database.begin() as conn:
        app = apps.create(conn, slug=APP, name="A big app", description="1,000 scripts")
        batch: list[ExecutionRecord] = []
        for number in range(script_count):
            script = scripts.create(conn, app_id=app.id, name=f"script-{number:04d}", source=SOURCE)
            routes.create(
                conn, app_id=app.id, script_id=script.id, method="GET", host="",
                host_kind="any", path=f"/s{number}", path_kind="exact",
            )  # fmt: skip
            for i in range(records_per_script):
                failed = i % 10 == 0
                batch.append(
                    ExecutionRecord(
                        id=str(uuid.uuid4()), app_id=app.id, script_id=script.id,
                        script_version=1, invocation="http", method="GET", path=f"/s{number}",
                        status_code=500 if failed else 200,
                        outcome="error" if failed else "ok", duration_ms=1.5,
                        started_at=now - timedelta(minutes=i * 7 + number % 60),
                        logs=[{"level": "info", "message": "greeting", "fields": {"name": "x"},
                               "at": now.isoformat()}],
                        error="Traceback ...\nValueError: boom" if failed else None,
                    )
                )  # fmt: skip
        insert_many(conn, batch)
    return "script-0500", batch[-1].id if batch else ""


def sign_in(client: TestClient) -> None:
    page = client.get("/admin/login")
    token = re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)
    answer = client.post(
        "/admin/login",
        data={"username": "bench", "password": "bench password", "form_token": token},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def time_page(client: TestClient, path: str, samples: int) -> tuple[float, float, int]:
    for _ in range(2):
        client.get(path)
    timings = []
    size = 0
    for _ in range(samples):
        start = time.perf_counter()
        answer = client.get(path)
        timings.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 200, (path, answer.status_code)
        size = len(answer.content)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1], size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scripts", type=int, default=1000)
    parser.add_argument("--records", type=int, default=20, help="execution records per script")
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--database-url", help="default: a new SQLite file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite:///{Path(scratch) / 'bench.db'}"
        database = Database(url)
        database.migrate()
        settings = load_settings({})

        def preview(method: str, target: str) -> dict:
            with database.snapshot() as conn:
                snapshot = load_routing_snapshot(conn)
            table = Routing.from_snapshot(
                snapshot, defaults=settings.default_limits, ceilings=settings.limit_ceilings
            )
            return table.preview(method, target)

        started = time.perf_counter()
        script, execution = seed(database, args.scripts, args.records)
        seeded_s = time.perf_counter() - started
        create_user(database, username="bench", password="bench password", role="owner")
        ctx = ManagerContext(settings=settings, database=database, match_preview=preview)
        base = f"/admin/apps/{APP}"
        pages = {
            "apps list": "/admin/",
            "app overview": base,
            "app scripts": f"{base}/scripts",
            "app domains": f"{base}/domains",
            "app settings": f"{base}/settings",
            "script edit": f"{base}/scripts/{script}/edit",
            "script test": f"{base}/scripts/{script}/test",
            "script routing": f"{base}/scripts/{script}/routing",
            "script executions": f"{base}/scripts/{script}/executions",
            "execution detail": f"{base}/scripts/script-{args.scripts - 1:04d}/executions/"
            + execution,
            "script settings": f"{base}/scripts/{script}/settings",
            "users": "/admin/users",
            "api keys": "/admin/api-keys",
        }
        with TestClient(create_dashboard(ctx), base_url="http://localhost:8080") as client:
            sign_in(client)
            rows = [(name, *time_page(client, path, args.samples)) for name, path in pages.items()]
        database.dispose()

    print(
        f"Dashboard server time, {args.scripts} scripts x {args.records} records in one app "
        f"({database.dialect_name}; seeded in {seeded_s:.1f} s; {args.samples} samples/page)\n"
    )
    print("| page | median ms | p95 ms | KiB | under 50 ms |")
    print("| --- | ---: | ---: | ---: | :---: |")
    for name, median, p95, size in rows:
        verdict = "yes" if p95 < BUDGET_MS else "NO"
        print(f"| {name} | {median:.1f} | {p95:.1f} | {size / 1024:.0f} | {verdict} |")


if __name__ == "__main__":
    main()
