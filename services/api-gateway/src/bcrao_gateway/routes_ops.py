"""Liveness, readiness and metrics (no authentication, no /v1 prefix)."""

from __future__ import annotations

from typing import Any

from bcrao_contracts.enums import ErrorCode
from bcrao_platform.metrics import metrics_endpoint
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from bcrao_gateway.deps import MetricsDep, SettingsDep
from bcrao_gateway.errors import error_response
from bcrao_gateway.version import VERSION

router = APIRouter(tags=["ops"])


@router.get("/healthz")
async def get_health() -> dict[str, str]:
    """Liveness: the process serves. Nothing external is checked (that is /readyz)."""
    return {"status": "ok", "version": VERSION}


@router.get("/readyz")
async def get_readiness(request: Request) -> JSONResponse:
    """Ready when the Kafka producer reaches the broker and the stream reader is live and caught up.

    draft-store is deliberately not a check: while it is down its routes answer 503 with
    Retry-After, but every open stream keeps being served, and taking the instance out of the
    balancer would cut them all.
    """
    publisher = getattr(request.app.state, "publisher", None)
    hub = getattr(request.app.state, "hub", None)
    reader = getattr(request.app.state, "stream_reader", None)
    checks: dict[str, Any] = {
        "kafka_producer": bool(publisher is not None and publisher.ready),
        # A restarted gateway serves streams only once it has replayed the recent events;
        # until then a balancer should send reconnecting clients elsewhere.
        "stream_replay": bool(hub is not None and hub.ready),
        # No reader (tests, benchmarks feed the hub themselves) counts as healthy.
        "stream_reader": reader is None or bool(reader.healthy),
    }
    consumers = getattr(request.app.state, "consumers", None)
    if consumers is not None:  # the reader's consumer holds its partitions and polls
        checks["consumers"] = consumers.ready()[0]
    if all(checks.values()):
        return JSONResponse({"status": "ready", "checks": checks})
    return error_response(
        503, ErrorCode.UNAVAILABLE, "not ready", {"checks": checks}, {"Retry-After": "5"}
    )


@router.get("/metrics", include_in_schema=False)
async def get_metrics(request: Request, metrics: MetricsDep, settings: SettingsDep) -> Response:
    """Prometheus text: with GATEWAY_METRICS_TOKEN set it needs that bearer token; without one
    only a gateway bound to loopback serves it (bcrao_platform.metrics)."""
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    endpoint = metrics_endpoint(
        metrics.registry, token, bind_host=settings.host, token_setting="GATEWAY_METRICS_TOKEN"
    )
    return await endpoint(request)
