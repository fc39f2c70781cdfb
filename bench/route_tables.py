"""How DomainTable and RouteTable scale: build time and lookup time at 10, 1,000 and 10,000
claims or routes, with ratios against the 10 case.

    .venv/bin/python -m bench.route_tables

Lookups mix hits, misses (404) and, for routes, wrong methods (405); each figure is the median
over repeats, with the garbage collector paused as `timeit` does. Host lookups take the raw Host
header, so they include normalisation (mostly served by its cache; "404 uncached" shows the
cost without it).
"""

from __future__ import annotations

import contextlib
import gc
import statistics
import time
from collections.abc import Callable, Iterator, Sequence

from picloud.core.domains import DomainTable, parse_claim
from picloud.core.routes import RouteEntry, RouteTable, parse_route

SIZES = (10, 1_000, 10_000)
BUILD_REPEATS = 5
LOOKUP_REPEATS = 15
LOOKUPS = 3_000
BATCH = 100


def median_ns(action: Callable[[], object], repeats: int) -> float:
    timings = []
    with paused_gc():
        for _ in range(repeats):
            start = time.perf_counter_ns()
            action()
            timings.append(time.perf_counter_ns() - start)
    return statistics.median(timings)


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def domain_claims(size: int) -> list[tuple[str, str]]:
    """Half exact hosts, a quarter wildcards, a quarter parameterized claims."""
    claims = []
    for i in range(size):
        if i % 4 < 2:
            claims.append((f"app{i}.example{i % 50}.com", f"app-{i}"))
        elif i % 4 == 2:
            claims.append((f"*.w{i}.example.net", f"app-{i}"))
        else:
            claims.append((f"{{tenant}}.p{i}.example.org", f"app-{i}"))
    return claims


def domain_lookups(size: int) -> dict[str, list[str]]:
    """Raw Host header values, as browsers send them (ports, mixed case)."""
    # Spread over the table, leaving room for the +2 that turns an exact slot into a wildcard.
    picks = [i * (size - 4) // (LOOKUPS // 3) for i in range(LOOKUPS // 3)]
    hits_exact = [f"App{i - i % 4}.example{(i - i % 4) % 50}.com:8080" for i in picks]
    hits_wild = [f"shop.eu.w{i - i % 4 + 2}.example.net" for i in picks]
    misses = [f"nobody{i}.example.com" for i in picks]
    return {"exact hit": hits_exact, "wildcard hit": hits_wild, "404": misses}


#: More distinct hosts than normalize_host's cache holds, so every lookup normalises afresh.
UNCACHED_HOSTS = [f"Cold{i}.Example.com:443" for i in range(6_000)]


def route_entries(size: int) -> list[RouteEntry]:
    """40% exact, 30% param, 20% prefix on any host; 10% on strict and wildcard hosts."""
    entries = []
    for i in range(size):
        kind = i % 10
        if kind < 4:
            spec = parse_route("GET", "", f"/svc{i}/items")
        elif kind < 7:
            spec = parse_route("GET", "", f"/svc{i}/items/:id/parts/:part")
        elif kind < 9:
            spec = parse_route(None, "", f"/svc{i}/assets/*")
        else:
            spec = parse_route("POST", f"h{i}.example.com", "/hook")
        entries.append(RouteEntry(f"r{i:06}", f"s{i}", spec))
    return entries


def route_lookups(size: int) -> dict[str, list[tuple[str, str, str]]]:
    picks = [i * size // LOOKUPS for i in range(LOOKUPS // 3)]
    hits, not_found, not_allowed = [], [], []
    for i in picks:
        base = i - i % 10
        hits += [
            ("GET", "api.example.com", f"/svc{base}/items"),
            ("GET", "api.example.com", f"/svc{base + 4}/items/42/parts/7"),
            ("GET", "api.example.com", f"/svc{base + 7}/assets/css/site.css"),
        ]
        not_found.append(("GET", "api.example.com", f"/missing/{i}/x"))
        not_allowed.append(("DELETE", "api.example.com", f"/svc{base}/items"))
    return {"hit": hits, "404": not_found, "405": not_allowed}


def per_lookup_ns(lookup: Callable[..., object], requests: Sequence[tuple]) -> float:
    """Median time of one lookup, timed in short batches so that a batch the scheduler
    interrupts (the machine is shared) is an outlier rather than a shift of every figure."""
    per_lookup = []
    with paused_gc():
        for _ in range(LOOKUP_REPEATS):
            for first in range(0, len(requests), BATCH):
                batch = requests[first : first + BATCH]
                start = time.perf_counter_ns()
                for request in batch:
                    lookup(*request)
                per_lookup.append((time.perf_counter_ns() - start) / len(batch))
    return statistics.median(per_lookup)


def measure_domains(size: int) -> dict[str, float]:
    claims = [(parse_claim(pattern), app) for pattern, app in domain_claims(size)]
    table = DomainTable.build(claims)
    lookups = domain_lookups(size)
    assert all(table.resolve(host) for host in lookups["wildcard hit"] + lookups["exact hit"])
    assert not any(table.resolve(host) for host in lookups["404"])
    figures = {"build_us": median_ns(lambda: DomainTable.build(claims), BUILD_REPEATS) / 1e3}
    for name, hosts in lookups.items():
        figures[name] = per_lookup_ns(table.resolve, [(host,) for host in hosts])
    figures["mix"] = per_lookup_ns(table.resolve, [(h,) for hs in lookups.values() for h in hs])
    figures["404 uncached"] = per_lookup_ns(table.resolve, [(host,) for host in UNCACHED_HOSTS])
    return figures


def measure_routes(size: int) -> dict[str, float]:
    entries = route_entries(size)
    table = RouteTable.build(entries)
    lookups = route_lookups(size)
    assert all(table.match(*r).entry for r in lookups["hit"])
    assert all(table.match(*r).match.name == "NONE" for r in lookups["404"])
    assert all(table.match(*r).match.name == "PARTIAL" for r in lookups["405"])
    figures = {"build_us": median_ns(lambda: RouteTable.build(entries), BUILD_REPEATS) / 1e3}
    for name, requests in lookups.items():
        figures[name] = per_lookup_ns(table.match, requests)
    figures["mix"] = per_lookup_ns(table.match, [r for rs in lookups.values() for r in rs])
    return figures


def render(title: str, results: dict[int, dict[str, float]], kinds: Sequence[str]) -> str:
    base = results[SIZES[0]]
    header = ["size", "build µs", "x10", "lookup ns (mix)", "x10", *[f"{k} ns" for k in kinds]]
    rows = [header, ["---:"] * len(header)]
    for size, figures in results.items():
        rows.append(
            [
                f"{size:,}",
                f"{figures['build_us']:,.0f}",
                f"{figures['build_us'] / base['build_us']:,.0f}",
                f"{figures['mix']:.0f}",
                f"{figures['mix'] / base['mix']:.2f}",
                *[f"{figures[kind]:.0f}" for kind in kinds],
            ]
        )
    lines = [f"| {' | '.join(row)} |" for row in rows]
    return "\n".join([f"**{title}**", "", *lines])


def main() -> None:
    domains = {size: measure_domains(size) for size in SIZES}
    routes = {size: measure_routes(size) for size in SIZES}
    print(
        render(
            "DomainTable.resolve(raw Host)",
            domains,
            ["exact hit", "wildcard hit", "404", "404 uncached"],
        )
    )
    print()
    print(render("RouteTable.match(method, host, path)", routes, ["hit", "404", "405"]))
    print()
    print("x10: ratio against the table with 10 entries.")


if __name__ == "__main__":
    main()
