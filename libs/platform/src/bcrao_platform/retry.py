"""Retries for everything except the LLM (whose Retry-After handling lives in the generator).

Capped exponential backoff with jitter, from tenacity: never a tight loop. Forever only when the
caller says so (`attempts=None`): for work whose only alternative is worse (a publish of a finished
generation, a claim that must be answered), and which shutdown or a rebalance cancels.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_never,
    wait_exponential_jitter,
)

log = logging.getLogger("bcrao_platform.retry")


def retrying(
    attempts: int | None,
    base: float,
    cap: float,
    retry_if: Callable[[BaseException], bool] = lambda exc: isinstance(exc, Exception),
    *,
    on_retry: Callable[[BaseException], None] | None = None,
    logger: logging.Logger = log,
    what: str = "transient failure",
) -> AsyncRetrying:
    """`async for attempt in retrying(...): with attempt: ...` — re-raises the last error.

    Each wait logs one line from one template (`what`, then the error's type), so an outage's
    thousands of them are folded into summary lines by the rate-limited log handler."""

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        logger.warning("%s, retrying: %s", what, type(error).__name__ if error else "?")
        if on_retry is not None and error is not None:
            on_retry(error)

    return AsyncRetrying(
        stop=stop_never if attempts is None else stop_after_attempt(max(1, attempts)),
        wait=wait_exponential_jitter(multiplier=base, max=cap, jitter=base),
        retry=retry_if_exception(retry_if),
        before_sleep=before_sleep,
        reraise=True,
    )
