"""Prometheus metrics with prometheus_client: a guarded /metrics endpoint and HTTP metrics.

Each service owns one `CollectorRegistry` (passed in, never the global default, so tests and
several apps in one process do not share counters). `/metrics` answers only with the bearer
token when one is configured; binding it to an internal interface is the other option.
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from collections.abc import Awaitable, Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def bearer_matches(request: Request, token: str) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, presented = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip(), token)


def is_loopback(host: str) -> bool:
    """Whether a bind address only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refused(message: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": "AUTH_REQUIRED", "message": message, "details": {}}},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


def metrics_endpoint(
    registry: CollectorRegistry,
    token: str | None,
    *,
    bind_host: str = "127.0.0.1",
    token_setting: str = "the metrics token setting",  # noqa: S107 (a setting name)
) -> Callable[[Request], Awaitable[Response]]:
    """Prometheus text for `registry`.

    With a token, only a request bearing it is answered. Without one, metrics are served only by
    a process bound to loopback (a developer's machine); any other bind address keeps them
    closed, so a deployment that forgot the token does not publish its internals.
    """
    closed = token is None and not is_loopback(bind_host)

    async def get_metrics(request: Request) -> Response:
        if closed:
            return _refused(
                f"metrics are closed: set {token_setting} and send it as a bearer token"
            )
        if token and not bearer_matches(request, token):
            return _refused("metrics need the metrics bearer token")
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return get_metrics


class HttpMetricsMiddleware:
    """Requests by method, route template and status, and their latency (pure ASGI, so a
    streaming response is timed to its end without buffering it)."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry, service: str) -> None:
        self.app = app
        self.requests = Counter(
            "http_requests",
            "HTTP requests answered",
            ["service", "method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time from request to the end of the response",
            ["service", "method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "GET")
            self.requests.labels(self.service, method, template, str(status)).inc()
            self.latency.labels(self.service, method, template).observe(time.perf_counter() - start)
