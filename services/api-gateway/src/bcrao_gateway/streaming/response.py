"""A lean hand-rolled ASGI SSE response: one extra task per connection (the disconnect watch).

Starlette's StreamingResponse would add an anyio task group and a body iterator per connection;
with 10,000 held streams that overhead is the memory budget, so the loop is written out here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping

from bcrao_contracts.sse import PING, encode_retry
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .frames import FAREWELL
from .hub import REAPED, Subscription, SubState, TaskHub
from .settings import StreamSettings

log = logging.getLogger("bcrao_gateway.streaming")

MEDIA_TYPE = "text/event-stream"
SSE_HEADERS: Mapping[str, str] = {
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # nginx (and friends) must not buffer a stream
    "Connection": "keep-alive",
}


def sse_headers() -> dict[str, str]:
    return dict(SSE_HEADERS)


class OneShotResponse(Response):
    """A stream known in full (a finished task, from draft-store): sent at once, then closed."""

    media_type = MEDIA_TYPE

    def __init__(self, settings: StreamSettings, frames: bytes) -> None:
        super().__init__(encode_retry(settings.retry_ms) + frames, headers=sse_headers())


class RetryLaterResponse(Response):
    """Nothing can be said yet (draft-store is down): a reconnect hint, then the stream ends.

    EventSource treats the end of a 200 stream as a dropped connection and reconnects after the
    `retry:` delay; a 5xx would make it stop for good.
    """

    media_type = MEDIA_TYPE

    def __init__(self, retry_ms: int) -> None:
        body = encode_retry(retry_ms) + b": not available yet, reconnect\n\n"
        super().__init__(body, headers=sse_headers())


class StreamResponse(Response):
    media_type = MEDIA_TYPE

    def __init__(
        self, hub: TaskHub, sub: Subscription, first: list[bytes], settings: StreamSettings
    ) -> None:
        super().__init__(headers=sse_headers())
        # Starlette sets content-length: 0 for an empty body; a stream has none.
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self._hub = hub
        self._sub = sub
        self._first = first
        self._settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hub, sub, settings = self._hub, self._sub, self._settings
        loop = asyncio.get_running_loop()
        deadline = loop.time() + settings.max_lifetime_seconds
        watch = loop.create_task(_watch_disconnect(receive, sub))
        sub.owner = asyncio.current_task()
        body = _Body(send, sub)
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            await body(encode_retry(settings.retry_ms) + b"".join(self._first))
            self._first = []
            while True:
                # take() before every wait, and nothing awaited between an empty take and the
                # wait: a wake-up that lands while we were sending is never lost.
                frames = hub.take(sub)
                if frames:
                    await body(b"".join(frames))
                    continue
                remaining = deadline - loop.time()
                if not sub.is_open or remaining <= 0:
                    break  # ended, or bounded lifetime: the client reconnects with Last-Event-ID
                if not await sub.wait(min(settings.ping_seconds, remaining)) and sub.is_open:
                    await body(PING)
            if sub.state is SubState.CLOSED and hub.closing and settings.shutdown_farewell:
                await body(FAREWELL)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except asyncio.CancelledError:
            if sub.sending_since != REAPED:
                raise
            # The hub's sweep cancelled a write the client never took: it is gone for us.
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            log.info("stalled stream client dropped", extra={"task_id": str(sub.task_id)})
        except OSError:  # the peer vanished mid-write (servers differ in how they report it)
            log.debug("stream write failed", extra={"task_id": str(sub.task_id)})
        finally:
            watch.cancel()
            hub.unsubscribe(sub)


class _Body:
    """Writes body chunks, noting when a write is pending so the hub can reap stalled clients."""

    __slots__ = ("_send", "_sub")

    def __init__(self, send: Send, sub: Subscription) -> None:
        self._send = send
        self._sub = sub

    async def __call__(self, chunk: bytes) -> None:
        self._sub.sending_since = time.monotonic()
        await self._send({"type": "http.response.body", "body": chunk, "more_body": True})
        self._sub.sending_since = 0.0


async def _watch_disconnect(receive: Receive, sub: Subscription) -> None:
    # uvicorn's send() to a gone client is a silent no-op, so only receive() tells us it left.
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            sub.end(SubState.CLOSED)
            return
