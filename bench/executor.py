"""The executor alone, with real sandboxed workers: throughput, cold starts, memory, idle cost.

    .venv/bin/python -m bench.executor [--sandbox strict|weak] [--samples N]

- warm invocations/s: hello world on one app, sequentially and with two concurrent callers;
- cold start p50/p99: the first request of an app with no worker, from a booted spare and by
  plain spawning (`spare_workers=0`); each sample waits for the previous app to be reaped and,
  on the spare path, for a spare to be ready, so every sample is a true cold start;
- RSS and PSS per warm worker (from /proc/<pid>/smaps_rollup), and of its bwrap monitor;
- CPU used by the whole executor (this process, spares and their bwrap monitors) over 10 s
  after every bound worker was reaped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from picloud.config import Settings, load_settings
from picloud.core.limits import Limits
from picloud.executor.interface import Invocation, ScriptRef
from picloud.executor.pool import WorkerPoolExecutor

HELLO = """
def handle(req, ctx):
    name = req.query.get("name", "world")
    return {"message": f"Hello, {name}!"}
"""
WARM_SECONDS = 3.0
IDLE_SECONDS = 10.0
CLOCK_TICKS = 100  # os.sysconf("SC_CLK_TCK") on Linux


def hello(app: str) -> Invocation:
    return Invocation(
        execution_id=str(uuid.uuid4()),
        app_id=app,
        app_slug=app,
        script=ScriptRef(
            id=f"hello-{app}",
            app_id=app,
            name="hello",
            version=1,
            source=HELLO,
            handler="handle",
            limits=Limits(),
        ),
        invocation="http",
        method="GET",
        url="http://localhost/hello?name=bench",
        path="/hello",
        host="localhost",
        headers=[("host", "localhost")],
        query_string="name=bench",
        params={},
        rest=None,
        body=b"",
    )


def settings(data_dir: str, sandbox: str, **env: object) -> Settings:
    values = {"PICLOUD_DATA_DIR": data_dir, "PICLOUD_SANDBOX": sandbox}
    values.update({f"PICLOUD_{k.upper()}": str(v) for k, v in env.items()})
    return load_settings(values)


async def wait_for(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.01)


async def invocations_per_second(executor: WorkerPoolExecutor, callers: int) -> float:
    async def caller(stop: float) -> int:
        count = 0
        while time.perf_counter() < stop:
            result = await executor.invoke(hello("warm"))
            assert result.outcome == "ok", result.error
            count += 1
        return count

    await asyncio.gather(*(executor.invoke(hello("warm")) for _ in range(callers)))
    stop = time.perf_counter() + WARM_SECONDS
    counts = await asyncio.gather(*(caller(stop) for _ in range(callers)))
    return sum(counts) / WARM_SECONDS


async def cold_starts(executor: WorkerPoolExecutor, samples: int, spares: int) -> list[float]:
    def settled() -> bool:
        stats = executor.stats()
        return stats["spares"] == spares and not stats["apps"]

    timings = []
    for _ in range(samples):
        await wait_for(settled)
        start = time.perf_counter()
        result = await executor.invoke(hello(f"cold-{uuid.uuid4().hex[:8]}"))
        timings.append((time.perf_counter() - start) * 1000)
        assert result.outcome == "ok", result.error
    return timings


def memory_kib(pid: int) -> dict[str, int]:
    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    fields = dict(line.split(":", 1) for line in rollup[1:])
    return {name: int(fields[name].split()[0]) for name in ("Rss", "Pss")}


def parent_pid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


async def with_executor(
    settings: Settings, measure: Callable[[WorkerPoolExecutor], Awaitable[object]]
) -> object:
    executor = WorkerPoolExecutor(settings)
    await executor.start()
    try:
        return await measure(executor)
    finally:
        await executor.aclose()


async def warm_figures(executor: WorkerPoolExecutor) -> dict[str, float]:
    sequential = await invocations_per_second(executor, 1)
    concurrent = await invocations_per_second(executor, 2)
    pids = [w["pid"] for w in executor.stats()["workers"] if w["app_id"] == "warm"]
    workers = [memory_kib(pid) for pid in pids]
    monitors = [memory_kib(parent_pid(pid)) for pid in pids]
    return {
        "sequential": sequential,
        "concurrent": concurrent,
        "rss": statistics.mean(m["Rss"] for m in workers) / 1024,
        "pss": statistics.mean(m["Pss"] for m in workers) / 1024,
        "monitor_rss": statistics.mean(m["Rss"] for m in monitors) / 1024,
    }


async def idle_cpu(executor: WorkerPoolExecutor) -> float:
    await executor.invoke(hello("idle"))
    await wait_for(lambda: not executor.stats()["apps"] and executor.stats()["spares"] == 2)
    pids = [w["pid"] for w in executor.stats()["workers"]]
    # Strict workers run under a bwrap monitor; weak ones are this process's own children.
    pids += [parent for parent in map(parent_pid, pids) if parent != os.getpid()]
    before_self, before_children = time.process_time(), sum(map(cpu_ticks, pids))
    await asyncio.sleep(IDLE_SECONDS)
    used_self = time.process_time() - before_self
    used_children = (sum(map(cpu_ticks, pids)) - before_children) / CLOCK_TICKS
    return (used_self + used_children) * 1000


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def main(sandbox: str, samples: int) -> None:
    with tempfile.TemporaryDirectory() as data:
        warm = await with_executor(settings(data, sandbox, workers_per_app=2), warm_figures)
        cold_settings = {"worker_idle_seconds": 1}
        spare = await with_executor(
            settings(data, sandbox, spare_workers=1, **cold_settings),
            lambda executor: cold_starts(executor, samples, spares=1),
        )
        spawn = await with_executor(
            settings(data, sandbox, spare_workers=0, **cold_settings),
            lambda executor: cold_starts(executor, samples, spares=0),
        )
        idle = await with_executor(
            settings(data, sandbox, spare_workers=2, **cold_settings), idle_cpu
        )
    rows = [
        ("warm invocations/s, 1 caller", f"{warm['sequential']:,.0f}"),
        ("warm invocations/s, 2 callers (up to 2 workers)", f"{warm['concurrent']:,.0f}"),
        (f"cold start p50 / p99, spare path (n={samples})", f"{percentile(spare, 0.5):.1f} / "
         f"{percentile(spare, 0.99):.1f} ms"),
        (f"cold start p50 / p99, plain spawn (n={samples})", f"{percentile(spawn, 0.5):.1f} / "
         f"{percentile(spawn, 0.99):.1f} ms"),
        ("warm worker RSS / PSS", f"{warm['rss']:.1f} / {warm['pss']:.1f} MiB"),
        ("its bwrap monitor RSS", f"{warm['monitor_rss']:.1f} MiB" if sandbox == "strict" else "-"),
        (f"CPU of an idle executor over {IDLE_SECONDS:.0f} s (2 spares)", f"{idle:.0f} ms"),
    ]  # fmt: skip
    width = max(len(name) for name, _ in rows)
    print(f"executor benchmark, sandbox={sandbox}")
    print(f"| {'measure'.ljust(width)} | value |")
    print(f"| {'-' * width} | --- |")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sandbox", choices=("strict", "weak"), default="strict")
    parser.add_argument("--samples", type=int, default=40)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.sandbox, arguments.samples))
