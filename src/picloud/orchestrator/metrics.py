"""Prometheus metrics for `/metrics` (prometheus-client, text exposition format).

Counters and histograms are updated once per execution. Values that already live somewhere
(live workers, gate rejections, the record writer's backlog) are read only when Prometheus
scrapes, through a collector, so they cost nothing per request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from picloud.executor.interface import InvocationResult, ScriptRef
from picloud.orchestrator.routing import AppRef

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: Latency buckets (seconds) suited to tiny endpoints: most answers take a few milliseconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


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


class Metrics:
    def __init__(self, read_live_values: Callable[[], dict[str, Any]]):
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "picloud_requests",
            "Executions by app, script and status code.",
            ["app", "script", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "picloud_request_duration_seconds",
            "Execution latency by app, as the executor measured it.",
            ["app"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_LiveValues(read_live_values))
        # Each execution updates the same few children: finding them by labels costs more than
        # updating them, so they are looked up once per (app, script, status).
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, app: AppRef, script: ScriptRef, result: InvocationResult) -> None:
        key = (app.slug, script.name, result.status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self.requests.labels(app.slug, script.name, str(result.status)),
                self.latency.labels(app.slug),
            )
        requests, latency = children
        requests.inc()
        latency.observe(result.duration_ms / 1000)

    def render(self) -> bytes:
        return generate_latest(self.registry)
