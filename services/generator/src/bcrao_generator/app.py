"""Composition root: the Kafka broker with the generator's handlers, plus /healthz and /metrics."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from faststream.kafka import KafkaBroker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from .config import Settings
from .handlers import build_router
from .llm import LLM, build_llm


def create_broker(settings: Settings, llm: LLM, metrics: Counter[str]) -> KafkaBroker:
    broker = KafkaBroker(
        settings.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        client_id="bcrao-generator",
        graceful_timeout=settings.shutdown_grace_seconds,
    )
    broker.include_router(build_router(settings, llm, metrics))
    return broker


def create_app(settings: Settings, *, llm: LLM | None = None) -> Starlette:
    metrics: Counter[str] = Counter()
    model = llm or build_llm(settings)
    broker = create_broker(settings, model, metrics)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await broker.start()
        try:
            yield
        finally:
            await broker.stop()
            close = getattr(model, "aclose", None)
            if close is not None:
                await close()

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "llm": model.name})

    async def metrics_text(request: Request) -> PlainTextResponse:
        lines = [f"bcrao_generator_{name}_total {value}" for name, value in sorted(metrics.items())]
        return PlainTextResponse("\n".join(lines) + "\n")

    app = Starlette(
        routes=[Route("/healthz", healthz), Route("/metrics", metrics_text)], lifespan=lifespan
    )
    app.state.broker = broker
    app.state.metrics = metrics
    return app
