"""`make bench`: install what the comparisons need, run every benchmark, print one table.

    .venv/bin/python -m bench [--servers] [--rounds N] [--seconds S] [--connections C]
                              [--skip-micro]

Default comparisons (issue 5): PiCloud's Hello World through the full path (`picloud serve`,
strict sandbox, SQLite, execution records) against workerd serving a JS hello worker, against a
bare ASGI hello world on the server PiCloud runs (uvicorn), and with 10,000 routes and 10,000
domain claims against 10; every PiCloud run also counts its execution records. `--servers`
instead compares server software and process counts (docs/benchmarks.md, "Server choice").
Before the HTTP comparisons the micro-benchmarks `bench.route_tables` and `bench.executor` run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from bench import contenders
from bench.http_compare import LoadSettings, Target, measure, render_table
from bench.tools import ensure_workerd, ensure_wrk, workerd_version

#: Connections wrk keeps open: the default `max_concurrency` of a script (8), so a PiCloud with
#: default limits queues nothing and refuses nothing; every contender gets the same number.
CONNECTIONS = 8
ROUNDS = 3
SECONDS = 8
MICRO_BENCHMARKS = ("bench.route_tables", "bench.executor")

ISSUE_TARGETS = [
    Target("PiCloud / workerd, req/s", "picloud", "workerd", "per_second", 1.5),
    Target("PiCloud / workerd, p99", "picloud", "workerd", "p99_ms", 1.0, at_least=False),
    Target("PiCloud / bare ASGI (uvicorn), req/s", "picloud", "bare-uvicorn", "per_second", 0.5),
    Target("10k routes+claims / 10, req/s", "picloud-10k", "picloud", "per_second", 0.9),
]
SERVER_TARGETS = [
    Target("granian / uvicorn, PiCloud", "picloud-granian", "picloud-uvicorn", "per_second", 1),
    Target("granian / uvicorn, bare", "bare-granian", "bare-uvicorn", "per_second", 1),
    Target("2 / 1 processes, PiCloud", "picloud-uvicorn-x2", "picloud-uvicorn", "per_second", 1),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", action="store_true", help="compare servers and processes")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--seconds", type=int, default=SECONDS)
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    parser.add_argument("--skip-micro", action="store_true", help="only the HTTP comparisons")
    arguments = parser.parse_args()
    settings = LoadSettings(arguments.rounds, arguments.seconds, arguments.connections)

    ensure_wrk()
    workerd_binary = ensure_workerd()
    if not arguments.skip_micro:
        for module in MICRO_BENCHMARKS:
            run_module(module)

    if arguments.servers:
        lineup = [
            contenders.picloud_under("picloud-uvicorn", "uvicorn"),
            contenders.picloud_under("picloud-granian", "granian"),
            contenders.picloud_under("picloud-uvicorn-x2", "uvicorn", processes=2),
            contenders.bare_asgi("bare-uvicorn", "uvicorn"),
            contenders.bare_asgi("bare-granian", "granian"),
        ]
        targets = SERVER_TARGETS
    else:
        lineup = [
            contenders.picloud_serve("picloud"),
            contenders.workerd("workerd", workerd_binary),
            contenders.bare_asgi("bare-uvicorn", "uvicorn"),
            contenders.picloud_serve("picloud-10k", routes=10_000, claims=10_000),
        ]
        targets = ISSUE_TARGETS
    samples = measure(lineup, settings)
    print(f"\n## HTTP comparisons (workerd {workerd_version(workerd_binary)})\n")
    print(render_table(samples, targets, settings))


def run_module(module: str) -> None:
    if not (Path(__file__).parent / f"{module.split('.')[-1]}.py").exists():
        print(f"bench: {module} is not there yet; skipped", flush=True)
        return
    print(f"\n## {module}\n", flush=True)
    subprocess.run([sys.executable, "-m", module], check=True)


if __name__ == "__main__":
    main()
