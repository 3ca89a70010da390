"""Retries for everything except the LLM (whose Retry-After handling lives in the generator).

Capped exponential backoff with jitter, from tenacity: never a tight loop, never forever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

log = logging.getLogger("bcrao_platform.retry")


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning(
        "transient failure, retrying (attempt %d): %s",
        state.attempt_number,
        type(error).__name__ if error else "?",
    )


def retrying(
    attempts: int,
    base: float,
    cap: float,
    retry_if: Callable[[BaseException], bool] = lambda exc: isinstance(exc, Exception),
    *,
    on_retry: Callable[[BaseException], None] | None = None,
) -> AsyncRetrying:
    """`async for attempt in retrying(...): with attempt: ...` — re-raises the last error."""

    def before_sleep(state: RetryCallState) -> None:
        _log_retry(state)
        error = state.outcome.exception() if state.outcome else None
        if on_retry is not None and error is not None:
            on_retry(error)

    return AsyncRetrying(
        stop=stop_after_attempt(max(1, attempts)),
        wait=wait_exponential_jitter(multiplier=base, max=cap, jitter=base),
        retry=retry_if_exception(retry_if),
        before_sleep=before_sleep,
        reraise=True,
    )
