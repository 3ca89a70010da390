"""Composition root: `create_app(settings)` wires the database, the broker, the consumers and the
internal REST. Nothing here runs at import time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from bcrao_contracts.enums import ErrorCode
from bcrao_contracts.errors import envelope
from bcrao_contracts.topics import Topics
from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse
from faststream.kafka import KafkaBroker
from sqlalchemy import text

from . import routes, routes_drafts, routes_tasks
from .config import Settings
from .db import create_engine, session_factory, warm_up
from .deps import Runtime, RuntimeDep, require_service
from .domain import Clock, utc_now
from .handlers import build_router
from .http_errors import install_error_handlers
from .metrics import Metrics
from .sweeper import SweepPolicy, run_sweeper

log = logging.getLogger(__name__)
ops = APIRouter()


@ops.get("/healthz")
async def get_health() -> dict[str, str]:
    """The process is up (no dependency checked)."""
    return {"status": "ok"}


@ops.get("/readyz")
async def get_readiness(runtime: RuntimeDep) -> JSONResponse:
    """Ready when PostgreSQL answers and the Kafka broker is connected."""
    checks = {"database": False, "broker": False}
    try:
        async with runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["database"] = True
    except Exception as exc:
        log.warning("readiness: database check failed: %s", exc)
    try:
        checks["broker"] = bool(runtime.broker.running) and await runtime.broker.ping(timeout=2.0)
    except Exception as exc:
        log.warning("readiness: broker check failed: %s", exc)
    if all(checks.values()):
        return JSONResponse({"status": "ready", **checks})
    return JSONResponse(envelope(ErrorCode.UNAVAILABLE, "not ready", checks), status_code=503)


@ops.get("/metrics", response_class=PlainTextResponse)
async def get_metrics(runtime: RuntimeDep) -> str:
    return runtime.metrics.render()


def create_broker(settings: Settings) -> KafkaBroker:
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=30_000,
        graceful_timeout=15.0,
        description="BC-RAO Drafts draft-store",
    )


def create_app(
    settings: Settings, *, clock: Clock | None = None, broker: KafkaBroker | None = None
) -> FastAPI:
    """The broker starts and stops with the app's lifespan; its consumers run inside it."""
    engine = create_engine(
        settings.database_url, pool_size=settings.db_pool_size, pre_ping=settings.db_pre_ping
    )
    metrics = Metrics()
    runtime = Runtime(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        broker=broker or create_broker(settings),
        metrics=metrics,
        clock=clock or utc_now,
    )
    runtime.broker.include_router(build_router(settings, runtime.sessions, metrics))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            await warm_up(engine, settings.db_pool_size)
        except Exception as exc:  # the database may come later; /readyz says so meanwhile
            log.warning("could not pre-open database connections: %s", exc)
        await runtime.broker.start()
        log.info("draft-store consuming with group %s", settings.consumer_group)
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
            )
        )
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await runtime.broker.stop()  # lets in-flight handlers finish (graceful_timeout)
            await engine.dispose()

    app = FastAPI(title="BC-RAO draft-store (internal)", version="0.1.0", lifespan=lifespan)
    app.state.runtime = runtime
    install_error_handlers(app)
    app.include_router(ops)
    guarded = [Depends(require_service)]
    app.include_router(routes.router, dependencies=guarded)
    app.include_router(routes_drafts.router, dependencies=guarded)
    app.include_router(routes_tasks.router, dependencies=guarded)
    return app
