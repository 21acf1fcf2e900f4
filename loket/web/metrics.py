"""The Prometheus endpoint /metrics: queue, waits, officers, calls, sockets and latency.

Gauges are read when Prometheus scrapes (one read-only transaction), so every node reports
the shared queue the same way; sockets, calls and latency are this node's own. Each app has
its own registry, so two apps in one process (the tests) do not share counters.

Access: with LOKET_METRICS_TOKEN set, a request must carry it as a bearer token; without
it, only requests from this machine are answered (secure by default; a Prometheus on
another machine needs the token).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loket.bootstrap import Container
from loket.domain.errors import DomainError
from loket.domain.tickets import TicketState
from loket.web.deps import bearer_token, client_address

router = APIRouter(include_in_schema=False)

LOCAL_ADDRESSES = frozenset({"127.0.0.1", "::1", "localhost"})
# Latency buckets of a page or API call, in seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """One app's registry: its own counters plus the gauges read at each scrape."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.latency = Histogram(
            "loket_request_duration_seconds",
            "Time to answer an HTTP request, by method and route.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.sockets = Gauge(
            "loket_websocket_connections",
            "WebSocket connections open on this node, by path kind.",
            ["kind"],
            registry=self.registry,
        )
        self._container: Container | None = None
        self.registry.register(_StateCollector(self))

    def attach(self, container: Container) -> None:
        self._container = container

    @property
    def container(self) -> Container | None:
        return self._container


class _StateCollector(Collector):
    """Queue, waits, officers and calls, read at each scrape."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Any]:
        container = self._metrics.container
        if container is None:
            return
        with container.queue.uow(read_only=True) as uow:
            now = container.queue.clock.now()
            locations = {loc.id: loc.code for loc in uow.locations.list()}
            tickets = uow.tickets.open_tickets()
            staff = [member for member in uow.staff.list() if member.can_serve]
        queue = GaugeMetricFamily(
            "loket_queue_length", "Tickets waiting to be called, by desk.", labels=["location"]
        )
        longest = GaugeMetricFamily(
            "loket_waiting_seconds_max",
            "How long the longest-waiting ticket has waited, by desk.",
            labels=["location"],
        )
        waiting: dict[str, int] = {code: 0 for code in locations.values()}
        oldest: dict[str, datetime] = {}
        for ticket in tickets:
            if ticket.state in (TicketState.WAITING, TicketState.OFFERED):
                code = ticket.location_code
                waiting[code] = waiting.get(code, 0) + 1
                if code not in oldest or ticket.taken_at < oldest[code]:
                    oldest[code] = ticket.taken_at
        for code, count in sorted(waiting.items()):
            queue.add_metric([code], count)
            since = oldest.get(code)
            longest.add_metric([code], 0 if since is None else (now - since).total_seconds())
        yield queue
        yield longest
        officers = GaugeMetricFamily(
            "loket_officers", "Officers signed up to serve, by status.", labels=["status"]
        )
        statuses: dict[str, int] = {}
        for member in staff:
            statuses[member.status.value] = statuses.get(member.status.value, 0) + 1
        for status, count in sorted(statuses.items()):
            officers.add_metric([status], count)
        yield officers
        calls = GaugeMetricFamily("loket_calls_active", "Video calls running on this node.")
        calls.add_metric([], len(container.call_board.running()))
        yield calls


def check_access(request: Request, token: str | None) -> None:
    """The bearer token when one is set, else a request from this machine."""
    if token:
        given = bearer_token(request) or ""
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise DomainError("auth.required")
    elif client_address(request) not in LOCAL_ADDRESSES:
        raise DomainError("auth.forbidden")


@router.get("/metrics", tags=["operations"])
async def metrics_endpoint(request: Request) -> Response:
    """Prometheus text format. See docs/service-monitor.md for access."""
    container: Container = request.app.state.container
    check_access(request, container.settings.metrics_token)
    metrics: Metrics = request.app.state.metrics
    metrics.attach(container)
    body = await run_in_threadpool(generate_latest, metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


class MetricsMiddleware:
    """Times each HTTP request by its route (not its path: ids would explode the labels)
    and counts open WebSockets."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._socket(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or _static_or_other(scope["path"])
            self.metrics.latency.labels(scope.get("method", ""), template).observe(
                time.perf_counter() - started
            )

    async def _socket(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = _socket_kind(scope["path"])
        accepted = False

        async def counting(message: Message) -> None:
            nonlocal accepted
            if message["type"] == "websocket.accept" and not accepted:
                accepted = True
                self.metrics.sockets.labels(kind).inc()
            await send(message)

        try:
            await self.app(scope, receive, counting)
        finally:
            if accepted:
                self.metrics.sockets.labels(kind).dec()


def _socket_kind(path: str) -> str:
    parts = path.strip("/").split("/")
    return parts[1] if len(parts) > 1 and parts[0] == "ws" else "other"


def _static_or_other(path: str) -> str:
    return "/static" if path.startswith("/static/") else "unmatched"
