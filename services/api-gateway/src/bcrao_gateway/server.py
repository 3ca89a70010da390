"""The HTTP server around the app: uvicorn with uvloop and httptools, plus what it lacks.

- Header deadline and size: uvicorn has no timeout for a request whose headers never finish (its
  keep-alive timer is cancelled by the first byte), and its httptools parser no header size
  limit. `DeadlineProtocol` closes a connection whose request headers are not complete
  `header_timeout_seconds` after the connection opened (or after the previous response), and
  answers 431 to headers over `max_header_bytes`. Body deadlines are the middleware's (408).
- Signals: on SIGTERM/SIGINT the server first ends every open SSE stream (each with its
  farewell, so browsers reconnect elsewhere with Last-Event-ID), then runs uvicorn's graceful
  shutdown. uvicorn waits for every connection to finish before the lifespan shutdown, and a
  stream never finishes by itself: without this a deploy would wait out the graceful timeout and
  then cut the streams without a farewell. Nothing inside the app touches process-wide handlers.
"""

from __future__ import annotations

import asyncio
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from bcrao_gateway.config import Settings

GRACEFUL_SHUTDOWN_SECONDS = 20
HEADERS_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-length: 0\r\nconnection: close\r\n\r\n"
)


class DeadlineProtocol(HttpToolsProtocol):
    header_timeout = 10.0
    max_header_bytes = 16_384

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._header_timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        super().connection_made(transport)
        self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._header_bytes = 0
        self._header_timer = self.loop.call_later(self.header_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._header_timer is None or self.transport.is_closing():
            return
        self._header_bytes += len(data)
        if self._header_bytes > self.max_header_bytes:  # still no end of headers
            self._disarm()
            self.transport.write(HEADERS_TOO_LARGE)
            self.transport.close()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        waiting = bool(self.pipeline)  # a pipelined request whose headers already arrived
        super().on_response_complete()
        if not waiting and not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


class GatewayServer(uvicorn.Server):
    """uvicorn, plus: a shutdown signal ends the open streams before anything else."""

    def __init__(self, config: uvicorn.Config, app: Any) -> None:
        super().__init__(config)
        self._app = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        from bcrao_gateway.streaming import close_streams

        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            # A signal handler interrupts whatever the loop was doing: run the close on the loop.
            loop.call_soon_threadsafe(close_streams, self._app)
        super().handle_exit(sig, frame)


def server_config(settings: Settings, app: Any) -> uvicorn.Config:
    protocol = type(
        "GatewayHttpProtocol",
        (DeadlineProtocol,),
        {
            "header_timeout": settings.header_timeout_seconds,
            "max_header_bytes": settings.max_header_bytes,
        },
    )
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http=protocol,
        h11_max_incomplete_event_size=settings.max_header_bytes,
        timeout_keep_alive=settings.keep_alive_seconds,
        log_config=None,
        access_log=False,  # the gateway middleware writes its own access line
        lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        server_header=False,
    )
