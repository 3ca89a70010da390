"""SSE progress streaming: the TaskHub buffer, the broadcast Kafka reader and the stream route.

The gateway's composition root enters `start_streaming(app, settings)` in its lifespan and
includes `streaming.routes.router`. Process-wide signal handling is not done here: the server
(`bcrao_gateway.__main__`) owns it and calls `close_streams(app)` on SIGTERM/SIGINT.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any, Protocol

from bcrao_contracts.topics import Topics
from bcrao_platform.consumers import ConsumerSupervisor, SupervisionPolicy
from opentelemetry import trace

from .hub import TaskHub
from .reader import DeadLetterSink, StreamReader, stream_topics
from .settings import StreamSettings

__all__ = ["StreamReader", "StreamSettings", "TaskHub", "close_streams", "start_streaming"]

log = logging.getLogger("bcrao_gateway.streaming")

SWEEP_SECONDS = 5.0
FAREWELL_GRACE_SECONDS = 2.0


class _GatewaySettings(Protocol):
    kafka_bootstrap_servers: str
    topic_prefix: str
    stream: StreamSettings


@contextlib.asynccontextmanager
async def start_streaming(
    app: Any,
    settings: _GatewaySettings,
    *,
    reader: bool = True,
    dead_letters: DeadLetterSink | None = None,
    tracer: trace.Tracer | None = None,
) -> AsyncIterator[TaskHub]:
    """Build the hub and the reader, start reading, set `app.state.hub` (and `.stream_reader`).

    A terminal event is reported to `app.state.in_flight.finish(task_id)` when that exists.

    On exit every open stream gets a farewell comment and is closed, so EventSource reconnects
    (to another instance behind the load balancer) with its Last-Event-ID. `reader=False` leaves
    the hub to be fed by the caller (benchmarks, tests) and marks it ready at once. With a
    `tracer`, each terminal event's delivery is a span of its generation's trace.
    """
    in_flight = getattr(app.state, "in_flight", None)
    changes = getattr(app.state, "changes", None)
    hub = TaskHub(
        settings.stream,
        on_terminal=getattr(in_flight, "finish", None),
        on_stored=getattr(changes, "draft_stored", None),
    )
    stream_reader: StreamReader | None = None
    consumers: ConsumerSupervisor | None = None
    if reader:
        stream_reader = StreamReader(
            settings.kafka_bootstrap_servers,
            Topics(settings.topic_prefix),
            hub,
            settings.stream,
            dead_letters=dead_letters,
            tracer=tracer,
        )
        await stream_reader.start()
        metrics = getattr(app.state, "metrics", None)
        if metrics is not None:
            consumers = ConsumerSupervisor(
                settings.kafka_bootstrap_servers,
                registry=metrics.registry,
                prefix="gateway",
                policy=SupervisionPolicy(
                    rejoin_seconds=settings.stream.consumer_rejoin_seconds,
                    poll_seconds=settings.stream.consumer_poll_seconds,
                ),
            )
            current = stream_reader
            consumers.watch(
                "stream-reader",
                topics=stream_topics(Topics(settings.topic_prefix)),
                group=None,
                current=lambda: current.consumer,
                recreate=current.restart_session,
            )
            await consumers.start()
    else:
        hub.mark_ready()
    app.state.consumers = consumers
    app.state.hub = hub
    app.state.stream_reader = stream_reader
    every = min(SWEEP_SECONDS, settings.stream.send_timeout_seconds / 2)
    sweeper = asyncio.create_task(_sweep_forever(hub, every), name="stream-hub-sweep")
    try:
        yield hub
    finally:
        await _farewell(hub)
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
        if consumers is not None:
            await consumers.stop()
        if stream_reader is not None:
            await stream_reader.stop()


async def _farewell(hub: TaskHub) -> None:
    closed = hub.close_all()
    await hub.wait_drained(FAREWELL_GRACE_SECONDS)
    if closed:
        log.info("closed %d open streams with a farewell", closed)


async def _sweep_forever(hub: TaskHub, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        hub.sweep()
        hub.reap_stalled(time.monotonic())


def close_streams(app: Any) -> None:
    """SIGTERM/SIGINT arrived: end every open stream now, each with its farewell.

    uvicorn runs the lifespan shutdown only after every connection finished, and a stream never
    finishes by itself: without this a deploy would wait out the graceful timeout and then cut
    the streams without a farewell. Called by the server's signal handling, from the loop thread.
    """
    changes = getattr(app.state, "changes", None)
    if changes is not None:
        changes.close_all()
    hub: TaskHub | None = getattr(app.state, "hub", None)
    settings = getattr(app.state, "settings", None)
    if hub is not None and (settings is None or settings.stream.shutdown_farewell):
        hub.close_all()
