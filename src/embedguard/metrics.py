"""Counters for /metrics: requests by route and status, upstream errors, usage-flush
failures and usage events. No personal data: labels are route names, never raw paths.

Counting is a plain dict increment on the event loop; the Prometheus library only renders
the text format when /metrics is read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .upstream import UpstreamClient, UpstreamError, UpstreamResponse
from .usage import UsageCounter

UNMATCHED = "unmatched"


class Metrics:
    def __init__(self) -> None:
        self.requests: dict[tuple[str, int], int] = {}
        self.events: dict[tuple[str, str], int] = {}
        self.upstream_errors = 0
        self.usage_flush_failures = 0

    def count_request(self, route: object, status: int) -> None:
        """One answered request, under the name of the route that matched it (if any)."""
        key = (getattr(route, "name", None) or UNMATCHED, status)
        self.requests[key] = self.requests.get(key, 0) + 1

    def render(self) -> bytes:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Collector(self))
        return generate_latest(registry)


class _Collector(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        m = self._metrics
        requests = CounterMetricFamily(
            "embedguard_http_requests",
            "HTTP requests by route and status",
            labels=["route", "status"],
        )
        for (route, status), count in sorted(m.requests.items()):
            requests.add_metric([route, str(status)], count)
        yield requests
        events = CounterMetricFamily(
            "embedguard_usage_events",
            "Embed views and consent events (load_once, load_always, revoke) by provider",
            labels=["provider", "event"],
        )
        for (provider, event), count in sorted(m.events.items()):
            events.add_metric([provider, event], count)
        yield events
        yield CounterMetricFamily(
            "embedguard_upstream_errors", "Failed upstream fetches", value=m.upstream_errors
        )
        yield CounterMetricFamily(
            "embedguard_usage_flush_failures",
            "Times the usage counts could not be written (they are kept and retried)",
            value=m.usage_flush_failures,
        )


class MetricsMiddleware:
    """Counts every HTTP request that reaches the app under its route's name (the router
    records the route in the scope); requests no route matched count as ``unmatched``.
    The hot path (hotpath.py) sits outside it and counts its own answers the same way."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            self.metrics.count_request(scope.get("route"), status)


class CountingUsage(UsageCounter):
    def __init__(self, metrics: Metrics, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._events = metrics.events

    def add(self, provider: str, embed_key: str, event: str) -> None:
        super().add(provider, embed_key, event)
        key = (provider, event)
        self._events[key] = self._events.get(key, 0) + 1


class CountingUpstreamClient(UpstreamClient):
    def __init__(self, metrics: Metrics, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._metrics = metrics

    async def fetch(self, url: str, **options: Any) -> UpstreamResponse:
        try:
            return await super().fetch(url, **options)
        except UpstreamError:
            self._metrics.upstream_errors += 1
            raise
