"""`bcrao-draft-store`: migrate (unless disabled), then serve the internal REST and consumers."""

from __future__ import annotations

import logging

import uvicorn

from .app import create_app
from .config import load_settings
from .db import upgrade


def main() -> None:
    settings = load_settings()
    logging.basicConfig(
        level=settings.log_level,
        format='{"time":"%(asctime)s","level":"%(levelname)s","logger":"%(name)s","message":"%(message)s"}',
    )
    if settings.migrate_on_start:
        upgrade(settings.database_url)
    # uvicorn turns SIGTERM/SIGINT into a graceful shutdown: the lifespan stops the broker after
    # in-flight messages are handled and their offsets committed.
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=20,
    )


if __name__ == "__main__":
    main()
