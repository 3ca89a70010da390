"""`bcrao-draft-store`: migrate (unless disabled), then serve the internal REST and consumers."""

from __future__ import annotations

import uvicorn
from bcrao_platform.logs import configure_logging

from .app import create_app
from .config import load_settings
from .db import upgrade


def main() -> None:
    settings = load_settings()
    configure_logging("draft-store", settings.log_level)
    if settings.migrate_on_start:
        upgrade(settings.database_url)
    # uvicorn turns SIGTERM/SIGINT into a graceful shutdown: open requests get 8 s, then the
    # lifespan stops the consumers within DRAFT_STORE_SHUTDOWN_SECONDS (18): under 30 s in all.
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        log_config=None,  # keep the JSON handler configure_logging installed
        # An internal API called for every accept and claim: a line per call is noise and CPU;
        # its requests are counted by route in /metrics, and errors are still logged.
        access_log=False,
        timeout_graceful_shutdown=8,
    )


if __name__ == "__main__":
    main()
