"""The execution metrics as Prometheus reads them."""

from __future__ import annotations

from picloud.core.limits import Limits
from picloud.executor.interface import InvocationResult, ScriptRef
from picloud.orchestrator.metrics import Metrics
from picloud.orchestrator.routing import AppRef

SHOP = AppRef("app-1", "shop")
CART = ScriptRef("s-1", "app-1", "cart", 1, "", "handle", Limits())


def result(status: int, duration_ms: float) -> InvocationResult:
    return InvocationResult(status, [], b"", "ok", [], None, duration_ms)


def test_requests_are_counted_by_app_script_and_status_and_timed_by_app() -> None:
    metrics = Metrics(lambda: {})
    for status, duration_ms in ((200, 0.4), (200, 1.0), (200, 7.0), (500, 30_000.0)):
        metrics.observe(SHOP, CART, result(status, duration_ms))
    text = metrics.render().decode()
    assert 'picloud_requests_total{app="shop",script="cart",status="200"} 3.0' in text
    assert 'picloud_requests_total{app="shop",script="cart",status="500"} 1.0' in text
    # Buckets are cumulative and a value on a bound counts in it ("le").
    assert 'picloud_request_duration_seconds_bucket{app="shop",le="0.001"} 2.0' in text
    assert 'picloud_request_duration_seconds_bucket{app="shop",le="0.01"} 3.0' in text
    assert 'picloud_request_duration_seconds_bucket{app="shop",le="10.0"} 3.0' in text
    assert 'picloud_request_duration_seconds_bucket{app="shop",le="+Inf"} 4.0' in text
    assert 'picloud_request_duration_seconds_count{app="shop"} 4.0' in text
    assert 'picloud_request_duration_seconds_sum{app="shop"} 30.0084' in text
