"""Prometheus request metrics, labelled by route template (never the raw path: ids explode)."""

from __future__ import annotations

import logging
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# one line per request: the path without its query string, where one-time tokens travel
access_log = logging.getLogger("eyeshots.access")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "eyeshots_http_requests_total",
            "HTTP requests handled",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "eyeshots_http_request_duration_seconds",
            "Time to the response's first byte",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.streams = Gauge(
            "eyeshots_event_streams", "Open live-update streams", registry=self.registry
        )


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self._templates: dict[int, str] | None = None

    def _template(self, scope: Scope) -> str:
        # scope["route"] is the route as declared, without its router's prefix (/api)
        if self._templates is None:
            from fastapi.routing import iter_route_contexts

            self._templates = {
                id(ctx.original_route): ctx.path
                for ctx in iter_route_contexts(scope["app"].routes)
                if ctx.path
            }
        route = scope.get("route")
        if route is None:
            return "unmatched"
        return self._templates.get(id(route)) or getattr(route, "path", "unmatched")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                template = self._template(scope)
                self.metrics.latency.labels(scope["method"], template).observe(
                    time.perf_counter() - start
                )
                self.metrics.requests.labels(scope["method"], template, str(status["code"])).inc()
                client = scope.get("client") or ("-", 0)
                access_log.info('%s "%s %s" %d', client[0], scope["method"], scope["path"],
                                status["code"])  # fmt: skip
            await send(message)

        await self.app(scope, receive, send_wrapper)
