"""Soak: several apps at 70% of the measured peak for a long while; nothing lost, nothing leaked.

    .venv/bin/python -m bench.soak --minutes 10
    .venv/bin/python -m bench.soak --seconds 20 --json      # the in-suite run (test_soak.py)
    .venv/bin/python -m bench.soak --minutes 10 --database-url postgresql://...

1. Starts a real `picloud serve` (its own data directory; SQLite unless --database-url) that
   keeps every execution record (retention far above what the run makes).
2. Creates 3 apps through the admin API, each claiming `soak-N.test` with a script on `/work`.
3. Peak: a closed loop of `--connections` callers for `--peak-seconds`; peak = answers/s.
4. Soak: requests paced at 70% of that peak on a fixed schedule over 32 connections,
   round-robin over the apps, for the duration, while the resident memory of the server and of
   its workers, the answer rate and the record writer's backlog are sampled each second.
5. Waits for the record writer to drain, then compares the execution ids of the served answers
   with the records in the database.

Checks (exit status 1 if one fails): every answer is 200 or a 503 with Retry-After, and no
request went unanswered; after the warm-up, the server's resident memory and its workers' mean
resident memory each grow less than 5%; each served request has exactly one execution record
and no record lacks a served request. The load generator is plain Python (httpx, asyncio), so it
shares the two cores with the server: the peak is what this client can drive, which is the point
(the soak runs at a fixed fraction of it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import re
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import sqlalchemy as sa
from tests.live_server import LiveServer, start_server

from picloud.store.database import Database
from picloud.store.schema import execution_logs

APPS = 3
LOAD_FRACTION = 0.7
MAX_GROWTH = 0.05
#: Share of the soak, at the start, left out of the memory comparison (at least 5 s).
WARM_UP_SHARE = 0.25
#: Seconds of samples whose median is compared: just after warm-up, and at the end.
MEMORY_WINDOW_SECONDS = 5
WORKER_MARK = "picloud.executor.runtime.main"
#: Connections the paced soak sends on (each waits for its answer before its next request).
LANES = 32
SCRIPT = """
def handle(req, ctx):
    ctx.log.info("soak", n=req.query.get("n"))
    return {"app": ctx.app.slug, "n": req.query.get("n")}
"""


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    served: list[str] = field(default_factory=list)
    missing_retry_after: int = 0
    held_back: int = 0

    def record(self, answer: httpx.Response, started: float) -> None:
        self.statuses[answer.status_code] += 1
        self.latencies_ms.append((time.perf_counter() - started) * 1000)
        if answer.status_code == 200:
            self.served.append(answer.headers["x-picloud-execution-id"])
        elif answer.status_code == 503 and "retry-after" not in answer.headers:
            self.missing_retry_after += 1

    def summary(self) -> dict:
        answered = sum(self.statuses.values())
        ordered = sorted(self.latencies_ms) or [0.0]
        return {
            "phase": self.name,
            "seconds": round(self.seconds, 1),
            "requests": answered + sum(self.errors.values()),
            "answers_per_s": round(answered / self.seconds, 1) if self.seconds else 0,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "errors": dict(self.errors),
            "p50_ms": round(statistics.median(ordered), 1),
            "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1], 1),
            "held_back": self.held_back,
        }


@dataclass
class Sample:
    """One second of the soak: memory, and how far the load and the record writer got."""

    at: float
    server_mib: float
    workers: int
    worker_mean_mib: float
    answers: int = 0
    records_pending: float = 0.0


async def call(client: httpx.AsyncClient, host: str, n: int, phase: Phase) -> None:
    started = time.perf_counter()
    try:
        answer = await client.get("/work", params={"n": n}, headers={"Host": host})
    except httpx.HTTPError as exc:
        phase.errors[type(exc).__name__] += 1
        return
    phase.record(answer, started)


async def closed_loop(
    client: httpx.AsyncClient, hosts: list[str], seconds: float, callers: int
) -> Phase:
    """`callers` callers, each sending its next request as soon as the last one is answered."""
    phase = Phase("peak")
    deadline = time.perf_counter() + seconds
    counter = itertools.count()

    async def caller() -> None:
        while time.perf_counter() < deadline:
            n = next(counter)
            await call(client, hosts[n % len(hosts)], n, phase)

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(callers)))
    phase.seconds = time.perf_counter() - started
    return phase


async def paced(
    client: httpx.AsyncClient, hosts: list[str], rate: float, seconds: float, phase: Phase
) -> None:
    """Send `rate` requests a second on a fixed schedule, over `LANES` connections.

    Each lane sends its share on its own clock and waits for each answer, so nothing queues in
    this client; a slot a lane missed because an answer came late is counted as held back.
    """
    started = time.perf_counter()
    interval = LANES / rate

    async def lane(first: int) -> None:
        n, slot = first, started + first * interval / LANES
        while slot - started < seconds:
            late = time.perf_counter() - slot
            if late < 0:
                await asyncio.sleep(-late)
            elif late > interval:
                missed = int(late / interval)
                phase.held_back += missed
                n, slot = n + missed * LANES, slot + missed * interval
            await call(client, hosts[n % len(hosts)], n, phase)
            n, slot = n + LANES, slot + interval

    await asyncio.gather(*(lane(k) for k in range(LANES)))
    phase.seconds = time.perf_counter() - started


def sample_memory(server: LiveServer, started: float) -> Sample:
    root = psutil.Process(server.process.pid)
    workers = []
    for child in root.children(recursive=True):
        try:
            if child.name() != "bwrap" and any(WORKER_MARK in a for a in child.cmdline()):
                workers.append(child.memory_info().rss)
        except psutil.NoSuchProcess:
            continue
    return Sample(
        at=time.perf_counter() - started,
        server_mib=root.memory_info().rss / 2**20,
        workers=len(workers),
        worker_mean_mib=(statistics.mean(workers) / 2**20) if workers else 0.0,
    )


async def sample_until(
    server: LiveServer, client: httpx.AsyncClient, phase: Phase, done: asyncio.Event
) -> list[Sample]:
    samples: list[Sample] = []
    started = time.perf_counter()
    while not done.is_set():
        sample = sample_memory(server, started)
        sample.answers = sum(phase.statuses.values())
        metrics = (await client.get("/metrics")).text
        sample.records_pending = _metric(metrics, "picloud_record_writer_pending")
        samples.append(sample)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), 1.0)
    return samples


def _metric(text: str, name: str) -> float:
    match = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else float("nan")


def timeline(samples: list[Sample], rows: int = 10) -> list[dict]:
    """The soak in `rows` equal slices: answers/s in each, and the state at its end."""
    step = max(1, len(samples) // rows)
    out, previous = [], samples[0]
    for sample in samples[step::step]:
        seconds = sample.at - previous.at
        out.append(
            {
                "t_s": round(sample.at),
                "answers_per_s": round((sample.answers - previous.answers) / seconds, 1),
                "server_mib": round(sample.server_mib, 1),
                "workers": sample.workers,
                "worker_mean_mib": round(sample.worker_mean_mib, 1),
                "records_pending": sample.records_pending,
            }
        )
        previous = sample
    return out


def memory_growth(samples: list[Sample], seconds: float) -> dict:
    warm = max(5.0, seconds * WARM_UP_SHARE)
    early = [s for s in samples if warm <= s.at < warm + MEMORY_WINDOW_SECONDS]
    late = [s for s in samples if s.at >= seconds - MEMORY_WINDOW_SECONDS]
    result = {"warm_up_seconds": warm}
    for key in ("server_mib", "worker_mean_mib"):
        before = statistics.median(getattr(s, key) for s in early)
        after = statistics.median(getattr(s, key) for s in late)
        result[key] = {
            "after_warm_up": round(before, 1),
            "at_end": round(after, 1),
            "growth": round((after - before) / before, 4) if before else 0.0,
        }
    result["workers"] = {"after_warm_up": early[-1].workers, "at_end": late[-1].workers}
    return result


def deploy_apps(server: LiveServer) -> list[str]:
    """Create the soak apps through the admin API; answers the hosts they claim."""
    token = server.login()
    hosts = []
    with server.client(headers={"Authorization": f"Bearer {token}"}) as api:
        for n in range(APPS):
            slug, host = f"soak-{n}", f"soak-{n}.test"
            api.post("/api/v1/admin/apps", json={"slug": slug, "name": slug}).raise_for_status()
            api.post(
                f"/api/v1/admin/apps/{slug}/domains", json={"pattern": host}
            ).raise_for_status()
            app_id = api.get(f"/api/v1/admin/apps/{slug}").json()["id"]
            script = api.post(
                "/api/v1/admin/scripts", json={"app_id": app_id, "name": "work", "source": SCRIPT}
            )
            script.raise_for_status()
            api.post(
                f"/api/v1/admin/scripts/{script.json()['id']}/routes",
                json={"method": "GET", "host": "", "path": "/work"},
            ).raise_for_status()
            hosts.append(host)
    return hosts


def drained(server: LiveServer) -> bool:
    return _metric(httpx.get(f"{server.url}/metrics").text, "picloud_record_writer_pending") == 0


def recorded_ids(database_url: str) -> list[str]:
    database = Database(database_url)
    try:
        with database.connect() as conn:
            return list(conn.execute(sa.select(execution_logs.c.id)).scalars())
    finally:
        database.dispose()


async def drive(server: LiveServer, hosts: list[str], args: argparse.Namespace) -> dict:
    # Idle connections expire here before the server's keep-alive timeout (5 s) closes them,
    # so no request is ever sent on a connection the server is closing.
    limits = httpx.Limits(
        max_connections=max(LANES, args.connections),
        max_keepalive_connections=None,
        keepalive_expiry=2.0,
    )
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=30) as client:
        warm = Phase("warm")
        for n in range(len(hosts) * 4):  # every app has a warm worker before the peak
            await call(client, hosts[n % len(hosts)], n, warm)
        peak = await closed_loop(client, hosts, args.peak_seconds, args.connections)
        rate = peak.summary()["answers_per_s"] * LOAD_FRACTION
        done = asyncio.Event()
        soak = Phase("soak")
        sampler = asyncio.create_task(sample_until(server, client, soak, done))
        await paced(client, hosts, rate, args.seconds, soak)
        done.set()
        samples = await sampler
    return {"warm": warm, "peak": peak, "soak": soak, "rate": rate, "samples": samples}


def run(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory(prefix="picloud-soak-") as scratch:
        data_dir = Path(scratch) / "data"
        env = {"PICLOUD_LOG_RETENTION_COUNT": "1000000000", "PICLOUD_LOG_FLUSH_MS": "200"}
        if args.database_url:
            env["PICLOUD_DATABASE_URL"] = args.database_url
        database_url = args.database_url or f"sqlite:///{data_dir / 'picloud.db'}"
        server = start_server(data_dir, env)
        try:
            hosts = deploy_apps(server)
            driven = asyncio.run(drive(server, hosts, args))
            deadline = time.monotonic() + 60
            while not drained(server) and time.monotonic() < deadline:
                time.sleep(0.2)
            recorded = recorded_ids(database_url)
        finally:
            server.stop()
    warm, peak, soak = driven["warm"], driven["peak"], driven["soak"]
    served = [*warm.served, *peak.served, *soak.served]
    recorded_counts = Counter(recorded)
    report = {
        "rate_per_s": round(driven["rate"], 1),
        "phases": [peak.summary(), soak.summary()],
        "memory": memory_growth(driven["samples"], soak.seconds),
        "timeline": timeline(driven["samples"]),
        "records": {
            "served": len(served),
            "recorded": len(recorded),
            "served_without_record": len(set(served) - recorded_counts.keys()),
            "records_without_served_answer": len(recorded_counts.keys() - set(served)),
            "duplicated": sum(1 for count in recorded_counts.values() if count > 1),
        },
    }
    report["checks"] = checks(report, [warm, peak, soak])
    return report


def checks(report: dict, phases: list[Phase]) -> dict[str, bool]:
    statuses = {s for phase in phases for s in phase.statuses}
    records = report["records"]
    memory = report["memory"]
    return {
        "only 200 and 503 with Retry-After": statuses <= {200, 503}
        and not any(p.missing_retry_after for p in phases),
        "every request answered": not any(p.errors for p in phases),
        "server memory growth < 5%": memory["server_mib"]["growth"] < MAX_GROWTH,
        "worker memory growth < 5%": memory["worker_mean_mib"]["growth"] < MAX_GROWTH,
        "one record per served request": records["served"] == records["recorded"]
        and not records["served_without_record"]
        and not records["records_without_served_answer"]
        and not records["duplicated"],
    }


def print_tables(report: dict) -> None:
    print(f"soak at {report['rate_per_s']} req/s ({LOAD_FRACTION:.0%} of the peak)\n")
    print(
        "| phase | seconds | requests | answers/s | statuses | errors | p50 ms | p99 ms "
        "| held back |"
    )
    print("| --- | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: |")
    for p in report["phases"]:
        print(
            f"| {p['phase']} | {p['seconds']} | {p['requests']} | {p['answers_per_s']} | "
            f"{p['statuses']} | {p['errors'] or '-'} | {p['p50_ms']} | {p['p99_ms']} "
            f"| {p['held_back']} |"
        )
    print("\n| t s | answers/s | server MiB | workers | worker mean MiB | records pending |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in report["timeline"]:
        print("| " + " | ".join(str(value) for value in row.values()) + " |")
    memory = report["memory"]
    print(f"\nresident memory (warm-up {memory['warm_up_seconds']:.0f} s left out)\n")
    print("| what | after warm-up MiB | at end MiB | growth |")
    print("| --- | ---: | ---: | ---: |")
    for key, label in (("server_mib", "server"), ("worker_mean_mib", "worker (mean)")):
        m = memory[key]
        print(f"| {label} | {m['after_warm_up']} | {m['at_end']} | {m['growth']:+.1%} |")
    print(f"\nworkers: {memory['workers']}")
    print(f"records: {report['records']}\n")
    for name, ok in report["checks"].items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=float, help="soak duration in minutes (default 10)")
    length.add_argument("--seconds", type=float, help="soak duration in seconds")
    parser.add_argument("--peak-seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16, help="callers during the peak")
    parser.add_argument("--database-url", help="PostgreSQL (or SQLite) URL; default SQLite")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args()
    args.seconds = args.seconds or (args.minutes or 10) * 60
    # A SIGTERM (e.g. from `timeout`) unwinds like Ctrl-C, so the server is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    report = run(args)
    if args.json:
        print(json.dumps(report))
    else:
        print_tables(report)
    sys.exit(0 if all(report["checks"].values()) else 1)


if __name__ == "__main__":
    main()
