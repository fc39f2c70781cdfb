"""Alternating wrk runs against several servers, and the table of figures and ratios.

Every contender is started once and warmed up; then each round loads every contender in turn,
in the opposite order in every other round (A B C, C B A, ...), so drift on the shared machine
falls on all of them alike. Ratios are taken inside each round and the median over rounds is
reported. After each PiCloud run the execution records written are counted and compared with
the requests wrk saw answered.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from bench.contenders import Contender
from bench.wrk import WrkRun, run_wrk

WARMUP_SECONDS = 2


@dataclass(frozen=True)
class LoadSettings:
    rounds: int
    seconds: int
    connections: int


@dataclass(frozen=True)
class Sample:
    run: WrkRun
    cpu_seconds: float
    records: int | None  # execution records written during the run, for PiCloud

    @property
    def answered(self) -> int:
        return self.run.requests - self.run.non_2xx

    @property
    def cpu_us_per_request(self) -> float:
        return 1e6 * self.cpu_seconds / max(1, self.run.requests)


@dataclass(frozen=True)
class Target:
    """`numerator / denominator` of `figure` must be at least (or at most) `bound`."""

    label: str
    numerator: str
    denominator: str
    figure: str  # "per_second" or "p99_ms"
    bound: float
    at_least: bool = True


def measure(contenders: list[Contender], settings: LoadSettings) -> dict[str, list[Sample]]:
    samples: dict[str, list[Sample]] = {c.name: [] for c in contenders}
    try:
        for contender in contenders:
            print(f"bench: starting {contender.name}", flush=True)
            contender.start()
            run_wrk(contender.url, connections=settings.connections, seconds=WARMUP_SECONDS)
        for round_number in range(settings.rounds):
            order = contenders if round_number % 2 == 0 else contenders[::-1]
            for contender in order:
                sample = _one_run(contender, settings)
                samples[contender.name].append(sample)
                print(
                    f"bench: round {round_number + 1}/{settings.rounds} {contender.name}: "
                    f"{sample.run.per_second:,.0f} req/s, p99 {sample.run.p99_ms:.2f} ms",
                    flush=True,
                )
    finally:
        for contender in contenders:
            contender.stop()
    return samples


def _one_run(contender: Contender, settings: LoadSettings) -> Sample:
    before = contender.settled_record_count() if contender.counts_records else None
    cpu_before = contender.cpu_seconds()
    run = run_wrk(contender.url, connections=settings.connections, seconds=settings.seconds)
    cpu_seconds = contender.cpu_seconds() - cpu_before
    records = None if before is None else contender.settled_record_count() - before
    return Sample(run, cpu_seconds, records)


def render_table(
    samples: dict[str, list[Sample]], targets: list[Target], settings: LoadSettings
) -> str:
    lines = [
        f"wrk -t1 -c{settings.connections} -d{settings.seconds}s --latency, "
        f"{settings.rounds} alternating rounds; medians over rounds",
        "",
        "| server | answered req/s | p50 ms | p99 ms | CPU µs/req | non-2xx + errors "
        "| records − answered |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, runs in samples.items():
        failures = sum(s.run.non_2xx + s.run.socket_errors for s in runs)
        lines.append(
            f"| {name} | {_median(runs, 'per_second'):,.0f} | {_median(runs, 'p50_ms'):.2f} | "
            f"{_median(runs, 'p99_ms'):.2f} | "
            f"{statistics.median(s.cpu_us_per_request for s in runs):,.0f} | {failures} | "
            f"{_records_verdict(runs, settings.connections)} |"
        )
    lines += [
        "",
        "| comparison | ratio (per round) | target | met |",
        "| --- | ---: | ---: | --- |",
    ]
    for target in targets:
        if target.numerator not in samples or target.denominator not in samples:
            continue
        ratios = [
            getattr(a.run, target.figure) / getattr(b.run, target.figure)
            for a, b in zip(samples[target.numerator], samples[target.denominator], strict=True)
        ]
        ratio = statistics.median(ratios)
        met = ratio >= target.bound if target.at_least else ratio <= target.bound
        spread = f"{min(ratios):.2f}–{max(ratios):.2f}"
        sign = "≥" if target.at_least else "≤"
        lines.append(
            f"| {target.label} | {ratio:.2f} ({spread}) | {sign} {target.bound:g} | "
            f"{'yes' if met else 'NO'} |"
        )
    return "\n".join(lines)


def _median(runs: list[Sample], figure: str) -> float:
    return statistics.median(getattr(s.run, figure) for s in runs)


def _records_verdict(runs: list[Sample], connections: int) -> str:
    """`ok` when every answered request has its record in every run.

    A run can show up to `connections` more records than answers: requests in flight when wrk
    stopped are still executed and recorded, but wrk no longer counts their answers.
    """
    if runs[0].records is None:
        return "—"
    differences = [s.records - s.answered for s in runs]
    missing = sum(-d for d in differences if d < 0)
    extra = ", ".join(f"{d:+d}" for d in differences)
    if missing:
        return f"MISSING {missing} ({extra})"
    return f"ok ({extra}; ≤ +{connections} in flight at stop)"
