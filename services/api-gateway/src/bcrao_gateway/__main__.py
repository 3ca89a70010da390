"""`bcrao-api-gateway`: load settings (exit 2 on bad configuration), then serve with uvicorn."""

from __future__ import annotations

import sys

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


def main() -> None:
    settings = load_settings()
    configure_logging(settings.log_level)
    from bcrao_gateway.app import create_app

    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,  # the gateway middleware writes its own access line
        lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        server_header=False,
    )
    # uvicorn stops accepting on SIGTERM/SIGINT, lets requests finish, then runs the lifespan exit.
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
