"""`bcrao-generator` / `python -m bcrao_generator`: run the generator until SIGTERM."""

from __future__ import annotations

import logging
import sys

import uvicorn
from pydantic import ValidationError

from .app import create_app
from .config import Settings


def main() -> None:
    try:
        settings = Settings()
    except ValidationError as exc:
        # Name the setting and the rule, never the value: it may be a key.
        problems = "; ".join(
            f"GENERATOR_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        print(f"bcrao-generator: invalid configuration: {problems}", file=sys.stderr)
        sys.exit(2)
    handler = logging.StreamHandler()
    handler.setFormatter(
        logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s task=%(task_id)s %(message)s",
            defaults={"task_id": "-"},
        )
    )
    logging.basicConfig(level=settings.log_level.upper(), handlers=[handler])
    llm = (
        "offline composer (no GENERATOR_LLM_API_KEY set)"
        if settings.uses_offline_composer
        else settings.llm_model
    )
    logging.getLogger("bcrao_generator").info("generator starting with %s", llm)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,
    )


if __name__ == "__main__":
    main()
