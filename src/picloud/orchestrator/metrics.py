"""Prometheus metrics for `/metrics` (prometheus-client, text exposition format).

Execution counts and latencies are plain numbers updated once per execution. Values that
already live somewhere (live workers, gate rejections, the record writer's backlog) are read
only when Prometheus scrapes, through a collector, so they cost nothing per request.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator
from itertools import accumulate
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from picloud.executor.interface import InvocationResult, ScriptRef
from picloud.orchestrator.routing import AppRef

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: Latency buckets (seconds) suited to tiny endpoints: most answers take a few milliseconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


#: The `le` label of each latency bucket, the last one past every bound.
_BUCKET_LABELS = (*(floatToGoString(bound) for bound in LATENCY_BUCKETS), "+Inf")

#: Single-value metrics read at scrape time: (family, name, help, key in the live values).
_SCALARS = (
    (GaugeMetricFamily, "picloud_spare_workers", "Booted workers not yet bound to an app.",
     "spare_workers"),
    (CounterMetricFamily, "picloud_cold_starts", "Requests that had to start or bind a worker.",
     "cold_starts"),
    (CounterMetricFamily, "picloud_gate_rejections",
     "Requests refused with 503 because the gate was full.", "gate_rejections"),
    (GaugeMetricFamily, "picloud_executions_in_flight",
     "Executions holding the concurrency gate.", "in_flight"),
    (GaugeMetricFamily, "picloud_record_writer_pending",
     "Execution records waiting to be written (lag).", "records_pending"),
    (CounterMetricFamily, "picloud_records_written",
     "Execution records written to the database.", "records_written"),
)  # fmt: skip


class _LiveValues(Collector):
    def __init__(self, read: Callable[[], dict[str, Any]]):
        self._read = read

    def collect(self) -> Iterator[Any]:
        values = self._read()
        workers = GaugeMetricFamily(
            "picloud_live_workers", "Worker processes alive, by app.", labels=["app"]
        )
        for app, count in values.get("live_workers", {}).items():
            workers.add_metric([app], count)
        yield workers
        for family, name, documentation, key in _SCALARS:
            yield family(name, documentation, value=values.get(key, 0))


class _Executions(Collector):
    """Executions by (app, script, status) and latency by app, kept as plain numbers.

    prometheus-client's own Counter and Histogram take a lock and look up a child per update;
    this runs for every request, so the counting is a dict increment and a bisect here, and
    the families are built only when Prometheus scrapes.
    """

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = {}
        #: app -> [count per bucket (the last one past every bound), sum of seconds]
        self.latency: dict[str, list[Any]] = {}

    def observe(self, app: str, script: str, status: int, seconds: float) -> None:
        key = (app, script, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        histogram = self.latency.get(app)
        if histogram is None:
            histogram = self.latency[app] = [[0] * (len(LATENCY_BUCKETS) + 1), 0.0]
        histogram[0][bisect_left(LATENCY_BUCKETS, seconds)] += 1
        histogram[1] += seconds

    def collect(self) -> Iterator[Any]:
        requests = CounterMetricFamily(
            "picloud_requests",
            "Executions by app, script and status code.",
            labels=["app", "script", "status"],
        )
        for (app, script, status), count in list(self.requests.items()):
            requests.add_metric([app, script, str(status)], count)
        yield requests
        latency = HistogramMetricFamily(
            "picloud_request_duration_seconds",
            "Execution latency by app, as the executor measured it.",
            labels=["app"],
        )
        for app, (counts, total) in list(self.latency.items()):
            buckets = list(zip(_BUCKET_LABELS, accumulate(counts), strict=True))
            latency.add_metric([app], buckets, total)
        yield latency


class Metrics:
    def __init__(self, read_live_values: Callable[[], dict[str, Any]]):
        self.registry = CollectorRegistry(auto_describe=True)
        self._executions = _Executions()
        self.registry.register(self._executions)
        self.registry.register(_LiveValues(read_live_values))

    def observe(self, app: AppRef, script: ScriptRef, result: InvocationResult) -> None:
        self._executions.observe(app.slug, script.name, result.status, result.duration_ms / 1000)

    def render(self) -> bytes:
        return generate_latest(self.registry)
