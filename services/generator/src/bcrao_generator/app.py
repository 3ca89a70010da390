"""The generator's process: the Kafka service plus /healthz, /readyz and /metrics over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from bcrao_platform.metrics import HttpMetricsMiddleware, metrics_endpoint
from bcrao_platform.tracing import configure_tracing
from bcrao_rules.writing import inflect_engine
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .asyncapi import document
from .config import Settings
from .llm import LLM, build_llm
from .service import GeneratorService

VERSION = version("bcrao-generator")


def create_app(
    settings: Settings,
    *,
    llm: LLM | None = None,
    registry: CollectorRegistry | None = None,
    tracer_provider: TracerProvider | None = None,
) -> Starlette:
    registry = registry or CollectorRegistry()
    provider = tracer_provider or configure_tracing(
        "generator", VERSION, otlp_endpoint=settings.otlp_endpoint
    )
    service = GeneratorService(settings, llm or build_llm(settings), registry, provider)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Drafts are composed and checked with it: made before the first generation, not in it.
        # On the loop, before anything is served (about 0.4 CPU-seconds: inflect_engine()).
        inflect_engine()
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    async def healthz(request: Request) -> JSONResponse:
        # Liveness only: the process serves. Whether it consumes is /readyz.
        return JSONResponse({"status": "ok", "version": VERSION, "llm": service.llm.name})

    async def readyz(request: Request) -> JSONResponse:
        if service.ready:
            return JSONResponse({"status": "ready", "in_flight": service.consumer.in_flight})
        return JSONResponse(
            {
                "error": {
                    "code": "NOT_READY",
                    "message": "the consumer is not polling or has no partitions yet",
                    "details": {},
                }
            },
            status_code=503,
        )

    spec = document(settings)

    async def asyncapi_json(request: Request) -> JSONResponse:
        return JSONResponse(spec)

    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route(
                "/metrics",
                metrics_endpoint(
                    registry,
                    token,
                    bind_host=settings.host,
                    token_setting="GENERATOR_METRICS_TOKEN",
                ),
            ),
            Route("/asyncapi.json", asyncapi_json),
        ],
        middleware=[Middleware(HttpMetricsMiddleware, registry=registry, service="generator")],
        lifespan=lifespan,
    )
    app.state.service = service
    return app
