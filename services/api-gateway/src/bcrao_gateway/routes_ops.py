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
    if all(checks.values()):
        return JSONResponse({"status": "ready", "checks": checks})
    return error_response(
        503, ErrorCode.UNAVAILABLE, "not ready", {"checks": checks}, {"Retry-After": "5"}
    )


STREAM_GAUGES = frozenset({"open_streams", "tasks_buffered", "tasks_running", "frames_buffered"})


@router.get("/metrics", response_class=PlainTextResponse)
async def get_metrics(request: Request, metrics: MetricsDep) -> PlainTextResponse:
    text = metrics.render()
    hub = getattr(request.app.state, "hub", None)
    if hub is not None:
        lines = []
        for name, value in hub.metrics().items():
            kind = "gauge" if name in STREAM_GAUGES else "counter"
            metric = f"gateway_stream_{name}" + ("" if kind == "gauge" else "_total")
            lines += [f"# TYPE {metric} {kind}", f"{metric} {value}"]
        text = text.rstrip("\n") + "\n" + "\n".join(lines) + "\n"
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4")
