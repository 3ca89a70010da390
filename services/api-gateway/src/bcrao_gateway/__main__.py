"""`bcrao-api-gateway`: load settings (exit 2 on bad configuration), then serve with uvicorn.

The server owns the process's signals: on SIGTERM/SIGINT it first ends every open SSE stream (each
with its farewell, so browsers reconnect elsewhere with Last-Event-ID), then lets uvicorn's own
graceful shutdown run. Nothing inside the app replaces process-wide handlers.
"""

from __future__ import annotations

import asyncio
import sys
from types import FrameType
from typing import Any

import uvicorn
from pydantic import ValidationError

from bcrao_gateway.config import Settings
from bcrao_gateway.logs import configure_logging
from bcrao_gateway.settings_errors import describe

GRACEFUL_SHUTDOWN_SECONDS = 20


def load_settings() -> Settings:
    try:
        return Settings()  # required fields come from the environment
    except ValidationError as exc:
        print("api-gateway: invalid configuration:", file=sys.stderr)
        for line in describe(exc):
            print(f"  {line}", file=sys.stderr)
        raise SystemExit(2) from None


class GatewayServer(uvicorn.Server):
    """uvicorn, plus: a shutdown signal ends the open streams before anything else.

    uvicorn waits for every connection to finish before it runs the lifespan shutdown, and a
    stream never finishes by itself: without this a deploy would wait out the graceful timeout
    and then cut the streams without a farewell.
    """

    def __init__(self, config: uvicorn.Config, app: Any) -> None:
        super().__init__(config)
        self._app = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        from bcrao_gateway.streaming import close_streams

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            # A signal handler interrupts whatever the loop was doing: run the close on the loop.
            loop.call_soon_threadsafe(close_streams, self._app)
        super().handle_exit(sig, frame)


def server_config(settings: Settings, app: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,  # the gateway middleware writes its own access line
        lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        server_header=False,
    )


def main() -> None:
    settings = load_settings()
    configure_logging(settings.log_level)
    from bcrao_gateway.app import create_app

    app = create_app(settings)
    GatewayServer(server_config(settings, app), app).run()


if __name__ == "__main__":
    main()
