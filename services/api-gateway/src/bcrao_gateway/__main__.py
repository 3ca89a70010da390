"""`bcrao-api-gateway`: load settings (exit 2 on bad configuration), then serve (see server.py)."""

from __future__ import annotations

import sys

from bcrao_platform.logs import configure_logging
from pydantic import ValidationError

from bcrao_gateway.config import Settings
from bcrao_gateway.metrics import SERVICE
from bcrao_gateway.settings_errors import describe


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
    configure_logging(SERVICE, settings.log_level)
    from bcrao_gateway.app import create_app
    from bcrao_gateway.server import GatewayServer, server_config

    app = create_app(settings)
    GatewayServer(server_config(settings, app), app).run()


if __name__ == "__main__":
    main()
