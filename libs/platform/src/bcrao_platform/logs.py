"""One structured logging setup for every service: JSON lines on stderr that carry the task id.

python-json-logger does the encoding (quotes, newlines and tracebacks stay valid JSON). What it
cannot do is keep an outage from flooding the log: aiokafka logs an ERROR per failed connection
attempt, thousands a second while the broker is away. `RepeatLimiter` lets the first few records
of one kind through in each window and then counts the rest into a single summary line.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from pythonjsonlogger.json import JsonFormatter

_task_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("bcrao_task_id", default=None)
_service = "-"


@contextlib.contextmanager
def task_scope(task_id: object) -> Iterator[None]:
    """Every record logged inside the block (across awaits, in this asyncio task) names the task."""
    token = _task_id.set(str(task_id))
    try:
        yield
    finally:
        _task_id.reset(token)


def current_task_id() -> str | None:
    return _task_id.get()


class _ContextFilter(logging.Filter):
    """Adds `service` and the scoped `task_id` (an explicit `extra={"task_id": ...}` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = _service
        if getattr(record, "task_id", None) is None:
            record.task_id = _task_id.get()
        return True


class RepeatLimiter(logging.Filter):
    """At most `burst` records per (logger, level, message template) per `window` seconds.

    When a window ends with records suppressed, the next record of that kind carries
    `suppressed_repeats` = how many were dropped, so nothing disappears without a trace.
    """

    def __init__(
        self,
        burst: int = 5,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        min_level: int = logging.WARNING,
    ) -> None:
        super().__init__()
        self._burst = burst
        self._window = window
        self._clock = clock
        self._min_level = min_level
        self._lock = threading.Lock()
        # key -> [window start, records let through, records suppressed]
        self._seen: dict[tuple[str, int, str], list[float]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < self._min_level:
            return True
        key = (record.name, record.levelno, str(record.msg))
        now = self._clock()
        with self._lock:
            state = self._seen.get(key)
            if state is None or now - state[0] >= self._window:
                suppressed = int(state[2]) if state is not None else 0
                self._seen[key] = [now, 1, 0]
                if len(self._seen) > 10_000:  # templates are finite; this only bounds a bug
                    self._seen = {key: self._seen[key]}
                if suppressed:
                    record.suppressed_repeats = suppressed
                return True
            if state[1] < self._burst:
                state[1] += 1
                return True
            state[2] += 1
            return False


def json_formatter() -> logging.Formatter:
    return JsonFormatter(
        "{asctime}{levelname}{name}{message}",
        style="{",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        timestamp=False,
    )


def configure_logging(
    service: str, level: str = "INFO", *, stream: Any = None, limiter: RepeatLimiter | None = None
) -> None:
    """Root logger → one JSON object per line on stderr, with service and task_id on each."""
    global _service
    _service = service
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(json_formatter())
    handler.addFilter(_ContextFilter())
    handler.addFilter(limiter or RepeatLimiter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiokafka narrates every metadata refresh at INFO, httpx/httpcore every request (a line per
    # service call, naming user ids in paths); their warnings and errors still come through.
    for name in ("aiokafka", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def faststream_logging() -> dict[str, Any]:
    """`KafkaBroker(**faststream_logging())`: FastStream's own lines through the JSON root handler
    (by default it installs a coloured text handler of its own), and its line per consumed or
    published message at DEBUG: at INFO that was a line per message, and a batch of 500 drafts
    wrote 1,000 of them."""
    return {"logger": logging.getLogger("faststream"), "log_level": logging.DEBUG}
