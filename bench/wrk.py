"""Run wrk with fixed settings and read its report: requests, req/s, p50/p99, refusals, errors."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

#: One load generator thread: wrk must not take the cores the contenders are measured on.
THREADS = 1

#: What a latency in each unit is divided by to give milliseconds.
_PER_MS = {"us": 1000.0, "ms": 1.0, "s": 0.001}


@dataclass(frozen=True)
class WrkRun:
    requests: int
    seconds: float
    non_2xx: int
    socket_errors: int
    p50_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        """Answered (2xx/3xx) requests per second: a fast 503 is not a served request."""
        return (self.requests - self.non_2xx) / self.seconds


def run_wrk(url: str, *, connections: int, seconds: float) -> WrkRun:
    """Load `url` for `seconds` with `connections` kept-alive connections."""
    command = ["wrk", f"-t{THREADS}", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 30)
    return parse_wrk(done.stdout)


def parse_wrk(report: str) -> WrkRun:
    """The figures of one `wrk --latency` report.

    >>> run = parse_wrk('''
    ...   Latency Distribution
    ...      50%  174.00us
    ...      75%  300.00us
    ...      90%    1.10ms
    ...      99%    2.31ms
    ...   185075 requests in 5.00s, 27.54MB read
    ...   Socket errors: connect 0, read 2, write 0, timeout 1
    ...   Non-2xx or 3xx responses: 7
    ... Requests/sec:  37015.09''')
    >>> run.requests, run.per_second, run.p50_ms, run.p99_ms, run.non_2xx, run.socket_errors
    (185075, 37013.6, 0.174, 2.31, 7, 3)
    """
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m),", report)
    if total is None:
        raise ValueError(f"not a wrk report:\n{report}")
    seconds = float(total.group(2)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[total.group(3)]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", report)
    errors = re.search(r"Socket errors: (.*)", report)
    return WrkRun(
        requests=int(total.group(1)),
        seconds=seconds,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(map(int, re.findall(r"\d+", errors.group(1)))) if errors else 0,
        p50_ms=_percentile_ms(report, "50"),
        p99_ms=_percentile_ms(report, "99"),
    )


def _percentile_ms(report: str, percent: str) -> float:
    found = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", report, re.MULTILINE)
    if found is None:
        raise ValueError(f"wrk report has no {percent}% latency (was --latency given?)")
    return float(found.group(1)) / _PER_MS[found.group(2)]
