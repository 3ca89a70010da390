"""`bcrao-generator` / `python -m bcrao_generator`: run the generator until SIGTERM.

uvicorn turns SIGTERM/SIGINT into the app's lifespan shutdown, where the consumer stops
fetching, drains in-flight generations for GENERATOR_SHUTDOWN_GRACE_SECONDS, commits what
finished and hands the rest back to the group.
"""

from __future__ import annotations

import logging

import uvicorn
from bcrao_platform.logs import configure_logging
from bcrao_platform.settings import load_settings

from .app import create_app
from .config import Settings


def main() -> None:
    settings = load_settings(Settings, env_prefix="GENERATOR_", program="bcrao-generator")
    configure_logging("generator", settings.log_level)
    llm = (
        "offline composer (no GENERATOR_LLM_API_KEY set)"
        if settings.uses_offline_composer
        else settings.llm_model
    )
    logging.getLogger("bcrao_generator").info(
        "generator starting with %s, up to %d generations at once", llm, settings.concurrency
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,  # configure_logging owns the handlers
        access_log=False,
        # Drain in the lifespan shutdown, not by uvicorn's connection timeout.
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    main()
