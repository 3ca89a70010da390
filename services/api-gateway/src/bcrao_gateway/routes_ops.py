"""Liveness, readiness and metrics (no authentication, no /v1 prefix)."""

from __future__ import annotations

from typing import Any

from bcrao_contracts.enums import ErrorCode
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from bcrao_gateway.deps import MetricsDep
from bcrao_gateway.errors import error_response

router = APIRouter(tags=["ops"])


@router.get("/healthz")
async def get_health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def get_readiness(request: Request) -> JSONResponse:
    """Ready when draft-store answers and the Kafka producer is started."""
    store = getattr(request.app.state, "store", None)
    publisher = getattr(request.app.state, "publisher", None)
    checks: dict[str, Any] = {
        "draft_store": bool(store is not None and await store.ping()),
        "kafka_producer": bool(publisher is not None and publisher.ready),
    }
    if all(checks.values()):
        return JSONResponse({"status": "ready", "checks": checks})
    return error_response(
        503, ErrorCode.UNAVAILABLE, "not ready", {"checks": checks}, {"Retry-After": "5"}
    )


@router.get("/metrics", response_class=PlainTextResponse)
async def get_metrics(metrics: MetricsDep) -> PlainTextResponse:
    return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4")
