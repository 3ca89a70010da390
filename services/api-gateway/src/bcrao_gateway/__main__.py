"""`bcrao-api-gateway`: load settings (exit 2 on bad configuration), then serve (see server.py)."""

from __future__ import annotations

from bcrao_platform.logs import configure_logging
from bcrao_platform.settings import load_settings as load

from bcrao_gateway.config import Settings
from bcrao_gateway.metrics import SERVICE


def load_settings() -> Settings:
    """Required fields come from the environment; exit 2 naming the wrong ones (never values)."""
    return load(Settings, env_prefix="GATEWAY_", program="api-gateway")


def main() -> None:
    settings = load_settings()
    configure_logging(SERVICE, settings.log_level)
    from bcrao_gateway.app import create_app
    from bcrao_gateway.server import GatewayServer, server_config

    app = create_app(settings)
    GatewayServer(server_config(settings, app), app).run()


if __name__ == "__main__":
    main()
