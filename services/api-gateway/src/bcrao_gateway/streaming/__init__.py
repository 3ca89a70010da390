"""SSE progress streaming: the TaskHub buffer, the broadcast Kafka reader and the stream route.

The gateway's composition root enters `start_streaming(app, settings)` in its lifespan and
includes `streaming.routes.router`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import time
from collections.abc import AsyncIterator, Callable
from types import FrameType
from typing import Any, Protocol

from bcrao_contracts.topics import Topics

from .hub import TaskHub
from .reader import StreamReader
from .settings import StreamSettings

__all__ = ["StreamReader", "StreamSettings", "TaskHub", "start_streaming"]

log = logging.getLogger("bcrao_gateway.streaming")

SWEEP_SECONDS = 5.0
FAREWELL_GRACE_SECONDS = 2.0


class _GatewaySettings(Protocol):
    kafka_bootstrap_servers: str
    topic_prefix: str
    stream: StreamSettings


@contextlib.asynccontextmanager
async def start_streaming(
    app: Any, settings: _GatewaySettings, *, reader: bool = True
) -> AsyncIterator[TaskHub]:
    """Build the hub and the reader, start reading, set `app.state.hub` (and `.stream_reader`).

    A terminal event is reported to `app.state.in_flight.finish(task_id)` when that exists.

    On exit every open stream gets a farewell comment and is closed, so EventSource reconnects
    (to another instance behind the load balancer) with its Last-Event-ID. `reader=False` leaves
    the hub to be fed by the caller (benchmarks, tests) and marks it ready at once.
    """
    in_flight = getattr(app.state, "in_flight", None)
    hub = TaskHub(settings.stream, on_terminal=getattr(in_flight, "finish", None))
    stream_reader: StreamReader | None = None
    if reader:
        stream_reader = StreamReader(
            settings.kafka_bootstrap_servers, Topics(settings.topic_prefix), hub, settings.stream
        )
        await stream_reader.start()
    else:
        hub.mark_ready()
    app.state.hub = hub
    app.state.stream_reader = stream_reader
    every = min(SWEEP_SECONDS, settings.stream.send_timeout_seconds / 2)
    sweeper = asyncio.create_task(_sweep_forever(hub, every), name="stream-hub-sweep")
    restore = _farewell_on_signal(hub) if settings.stream.shutdown_farewell else None
    try:
        yield hub
    finally:
        if restore is not None:
            restore()
        await _farewell(hub)
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
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


def _farewell_on_signal(hub: TaskHub) -> Callable[[], None] | None:
    """Close streams as soon as SIGTERM/SIGINT arrives, then let the server's own handler run.

    uvicorn runs the lifespan shutdown only after every connection finished, and a stream never
    finishes by itself: without this hook a deploy would wait out the graceful timeout and then
    cut the streams without a farewell. The hook chains to whatever handler was installed.
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    loop = asyncio.get_running_loop()
    previous: dict[signal.Signals, Any] = {}

    def handler(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(hub.close_all)
        chained = previous.get(signal.Signals(signum))
        if callable(chained):
            chained(signum, frame)

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.getsignal(sig)
        signal.signal(sig, handler)

    def restore() -> None:
        for sig, old in previous.items():
            if signal.getsignal(sig) is handler:
                signal.signal(sig, old)

    return restore
