"""Composition root: `create_app(settings)` wires the database, the broker, the consumers, the
sweeper and the internal REST. Nothing here runs at import time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import psycopg
from bcrao_contracts.enums import ErrorCode
from bcrao_contracts.errors import envelope
from bcrao_contracts.topics import Topics
from bcrao_platform.consumers import ConsumerSupervisor, SupervisionPolicy
from bcrao_platform.logs import faststream_logging
from bcrao_platform.metrics import HttpMetricsMiddleware
from bcrao_platform.producers import renew_broken_producers
from bcrao_platform.topics import broker_tracks_its_topics
from bcrao_platform.tracing import configure_tracing, instrument_app, tracer
from bcrao_rules.writing import inflect_engine
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from . import routes, routes_drafts, routes_tasks
from .config import Settings
from .db import create_engine, session_factory, warm_up
from .deps import Runtime, require_service
from .domain import Clock, utc_now
from .handlers import build_router
from .http_errors import install_error_handlers
from .metrics import Metrics
from .ops import install_ops, service_version
from .retry import is_transient
from .sweeper import SweepPolicy, run_outbox, run_sweeper

log = logging.getLogger(__name__)
SERVICE = "draft-store"


def create_broker(settings: Settings, registry: CollectorRegistry | None = None) -> KafkaBroker:
    """The service's broker. With a `registry`, FastStream's Prometheus middleware measures every
    consumed batch and every publish into it (`faststream_received_*`, `faststream_published_*`,
    label app_name="draft-store"); the service's own counters say what the batches did."""
    middlewares = (
        [KafkaPrometheusMiddleware(registry=registry, app_name=SERVICE)]
        if registry is not None
        else []
    )
    broker = KafkaBroker(
        settings.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=30_000,
        linger_ms=2,  # DraftStored of one batch leave together
        graceful_timeout=15.0,
        description="BC-RAO Drafts draft-store",
        middlewares=middlewares,
        **faststream_logging(),
    )
    # OutOfOrderSequenceNumber after a broker restart would fail every DraftStored of the
    # partition, each redelivered batch again: the producer is replaced instead.
    renew_broken_producers(broker)
    return broker


async def on_database_error(request: Request, exc: Exception) -> JSONResponse:
    """A database outage is expected: one warning line and a 503, never a traceback (handled
    here, before Starlette's catch-all, which would log the traceback and re-raise)."""
    if is_transient(exc):
        log.warning(
            "database unavailable on %s %s: %s",
            request.method,
            request.url.path,
            str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__,
        )
        return JSONResponse(
            envelope(ErrorCode.UNAVAILABLE, "the database is unavailable, try again shortly"),
            status_code=503,
            headers={"Retry-After": "2"},
        )
    log.exception("unhandled database error on %s %s", request.method, request.url.path)
    return JSONResponse(envelope(ErrorCode.INTERNAL_ERROR, "internal error"), status_code=500)


async def _bounded_shutdown(
    seconds: float,
    runtime: Runtime,
    consumers: ConsumerSupervisor,
    tasks: tuple[asyncio.Task[None], ...],
) -> None:
    """Stop within `seconds` whatever the consumers are doing: the broker's stop lets in-flight
    batches finish (graceful_timeout) and commits their offsets, but a consumer stuck on an
    unreachable coordinator, or a handler awaiting something that never comes, must not hold
    SIGTERM past Kubernetes' grace period. What is abandoned was not committed: the group
    redelivers it to the next member."""
    try:
        async with asyncio.timeout(seconds):
            await consumers.stop()
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await runtime.broker.stop()  # lets in-flight handlers finish (graceful_timeout)
    except TimeoutError:
        log.error("shutdown took longer than %.0f s; abandoning the rest uncommitted", seconds)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(2.0):
            await runtime.engine.dispose()


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    broker: KafkaBroker | None = None,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """The broker starts and stops with the app's lifespan; its consumers run inside it. The
    app's own broker carries FastStream's Prometheus middleware on the app's registry (served on
    /metrics); a `broker` passed in is used as it is.

    Tracing (DRAFT_STORE_OTLP_ENDPOINT, or a `tracer_provider` from a test): server spans for the
    internal REST; per consumed batch a span continuing the producers' traces, with the
    transaction inside; per DraftStored a publish span in its own generation's trace. Off,
    nothing is instrumented."""
    provider = tracer_provider or configure_tracing(
        SERVICE, service_version(), otlp_endpoint=settings.otlp_endpoint
    )
    engine = create_engine(
        settings.database_url, pool_size=settings.db_pool_size, pre_ping=settings.db_pre_ping
    )
    metrics = Metrics()
    consumers = ConsumerSupervisor(
        settings.kafka_bootstrap_servers,
        registry=metrics.registry,
        prefix="draft_store",
        policy=SupervisionPolicy(
            rejoin_seconds=settings.consumer_rejoin_seconds,
            poll_seconds=settings.consumer_poll_seconds,
        ),
    )
    runtime = Runtime(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        broker=broker or create_broker(settings, metrics.registry),
        metrics=metrics,
        clock=clock or utc_now,
        consumers=consumers,
    )
    runtime.broker.include_router(
        build_router(
            settings,
            runtime.sessions,
            metrics,
            tracer(provider, "bcrao_draft_store") if provider is not None else None,
        )
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Edits are checked for writing findings: the engine is made before the first one.
        # On the loop, before anything is served (about 0.4 CPU-seconds: inflect_engine()).
        inflect_engine()
        try:
            await warm_up(engine, settings.db_pool_size)
        except Exception as exc:  # the database may come later; /readyz says so meanwhile
            log.warning("could not pre-open database connections: %s", exc)
        await runtime.broker.start()
        await broker_tracks_its_topics(runtime.broker)
        log.info("draft-store consuming with group %s", settings.consumer_group)
        for subscriber in runtime.broker.subscribers:
            consumers.watch_faststream(subscriber)
        await consumers.start()
        sweeper = asyncio.create_task(
            run_sweeper(
                runtime.sessions,
                runtime.broker,
                Topics(settings.topic_prefix),
                clock=runtime.clock,
                policy=SweepPolicy(
                    unclaimed_after=timedelta(seconds=settings.unclaimed_task_seconds),
                    stale_after=timedelta(seconds=settings.stale_task_seconds),
                ),
                every=settings.sweep_interval_seconds,
                metrics=metrics,
            )
        )
        outbox = asyncio.create_task(
            run_outbox(
                runtime.sessions,
                runtime.broker,
                Topics(settings.topic_prefix),
                every=settings.outbox_interval_seconds,
                metrics=metrics,
            )
        )
        try:
            yield
        finally:
            await _bounded_shutdown(
                settings.shutdown_seconds, runtime, consumers, (sweeper, outbox)
            )
            if provider is not None and tracer_provider is None:
                provider.shutdown()  # ours: flushes the batched OTLP export

    app = FastAPI(
        title="BC-RAO draft-store (internal)",
        version=service_version(),
        lifespan=lifespan,
        docs_url=None,  # served by ops.install_ops behind the service token, or not at all
        redoc_url=None,
        openapi_url=None,
    )
    app.state.runtime = runtime
    app.add_middleware(HttpMetricsMiddleware, registry=metrics.registry, service=SERVICE)
    install_error_handlers(app)
    for error in (DBAPIError, PoolTimeout, OSError, psycopg.Error):
        app.add_exception_handler(error, on_database_error)
    install_ops(app, runtime)
    guarded = [Depends(require_service)]
    app.include_router(routes.router, dependencies=guarded)
    app.include_router(routes_drafts.router, dependencies=guarded)
    app.include_router(routes_tasks.router, dependencies=guarded)
    if provider is not None:
        instrument_app(app, provider)
    return app
