"""Composition root: create_app(settings, ...) wires settings, clients, routes and streaming."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from bcrao_platform.metrics import HttpMetricsMiddleware
from bcrao_platform.tracing import configure_tracing, instrument_app, tracer
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

from bcrao_gateway.admission import Clock, GenerateLimits
from bcrao_gateway.changes import ChangeFeed
from bcrao_gateway.config import Settings
from bcrao_gateway.deadletters import DeadLetterWriter
from bcrao_gateway.errors import install_error_handlers
from bcrao_gateway.metrics import SERVICE, Metrics
from bcrao_gateway.middleware import GatewayMiddleware
from bcrao_gateway.publisher import KafkaPublisher, Publisher
from bcrao_gateway.routes import routers
from bcrao_gateway.store_client import DraftStoreClient, create_http_client
from bcrao_gateway.streaming import start_streaming
from bcrao_gateway.streaming.routes import router as stream_router
from bcrao_gateway.ui import mount_ui
from bcrao_gateway.version import VERSION

log = logging.getLogger("bcrao_gateway.app")


def create_app(
    settings: Settings,
    *,
    store: DraftStoreClient | None = None,
    publisher: Publisher | None = None,
    clock: Clock | None = None,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """The gateway app. `store`/`publisher` given here are used as they are (tests pass fakes);
    otherwise the lifespan creates the draft-store client and the Kafka producer, and closes them.

    app.state: settings, store, publisher, limits, in_flight (the streaming side calls
    `in_flight.finish(task_id)` on a task's terminal event), metrics, changes (the per-user
    change feed); `hub` is set by streaming.

    Tracing (GATEWAY_OTLP_ENDPOINT, or a `tracer_provider` from a test): server spans for every
    request but the probes, client spans for draft-store calls, a PRODUCER span per publish and
    a span per terminal event delivered to the streams. Off, nothing is instrumented.
    """
    provider = tracer_provider or configure_tracing(
        SERVICE, VERSION, otlp_endpoint=settings.otlp_endpoint
    )
    spans = tracer(provider, "bcrao_gateway") if provider is not None else None

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            if provider is not None and tracer_provider is None:
                # Ours: flushes the batched OTLP export last, after every span ended.
                stack.callback(provider.shutdown)
            if store is None:
                http = create_http_client(settings)
                stack.push_async_callback(http.aclose)
                if provider is not None:
                    # Imported only when tracing is on, like FastAPI's instrumentation
                    # (bcrao_platform.tracing.instrument_app): a third of a CPU-second a start.
                    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

                    HTTPXClientInstrumentor().instrument_client(http, tracer_provider=provider)
                app.state.store = DraftStoreClient(http)
            if publisher is None:
                kafka = KafkaPublisher(settings, tracer=spans)
                stack.push_async_callback(kafka.stop)
                supervising = asyncio.create_task(kafka.run(), name="kafka-producer")
                stack.push_async_callback(_cancel, supervising)
                app.state.publisher = kafka
            # The stream reader's dead letters go out through the gateway's own producer.
            sink = None
            if isinstance(app.state.publisher, KafkaPublisher):
                sink = DeadLetterWriter(app.state.publisher, settings.publish_timeout_seconds)
                stack.push_async_callback(sink.drain)
            app.state.dead_letters = sink
            await stack.enter_async_context(
                start_streaming(app, settings, dead_letters=sink, tracer=spans)
            )
            stack.callback(app.state.changes.close_all)  # runs first: open feeds end
            log.info("api-gateway started")
            yield
        log.info("api-gateway stopped")

    app = FastAPI(
        title="BC-RAO Drafts API",
        version=VERSION,
        lifespan=lifespan,
        # Starlette's slash redirect builds its Location from the Host header; errors.py has one
        # that does not.
        redirect_slashes=False,
    )
    limits = GenerateLimits(settings, clock)
    metrics = Metrics()
    app.state.settings = settings
    app.state.store = store
    app.state.publisher = publisher
    app.state.limits = limits
    app.state.in_flight = limits.in_flight
    app.state.metrics = metrics
    app.state.changes = ChangeFeed()
    metrics.watch(app.state)

    install_error_handlers(app)
    app.add_middleware(
        GatewayMiddleware,
        max_body_bytes=settings.max_body_bytes,
        body_timeout=settings.body_timeout_seconds,
        allowed_hosts=settings.allowed_hosts,
    )
    # Outermost, so the gateway middleware's own answers (413, 408, 400) are counted too.
    app.add_middleware(HttpMetricsMiddleware, registry=metrics.registry, service=SERVICE)
    for router in routers:
        app.include_router(router)
    app.include_router(stream_router)
    mount_ui(app)
    if provider is not None:
        instrument_app(app, provider)
    return app


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
