"""Retries, every one of them: capped exponential backoff with jitter, from tenacity (never a
tight loop). A caller with its own schedule passes a `wait` (the LLM client honours Retry-After
with one) and, in tests, a `sleep` that records instead of waiting. Forever only when the
caller says so (`attempts=None`): for work whose only alternative is worse (a publish of a finished
generation, a claim that must be answered), and which shutdown or a rebalance cancels.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_never,
    wait_exponential_jitter,
)

__all__ = ["RetryCallState", "last_error", "retrying"]

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
    wait: Callable[[RetryCallState], float] | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> AsyncRetrying:
    """`async for attempt in retrying(...): with attempt: ...` — re-raises the last error.

    Each wait logs one line from one template (`what`, then the error's type), so an outage's
    thousands of them are folded into summary lines by the rate-limited log handler.

    Only an `Exception` is ever retried, whatever `retry_if` says: tenacity hands the predicate
    every BaseException, and a cancellation (a stop, a rebalance, an abandoned consumer) that was
    retried would keep the cancelled work running forever."""

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        logger.warning("%s, retrying: %s", what, type(error).__name__ if error else "?")
        if on_retry is not None and error is not None:
            on_retry(error)

    extra: dict[str, Any] = {"sleep": sleep} if sleep is not None else {}
    return AsyncRetrying(
        stop=stop_never if attempts is None else stop_after_attempt(max(1, attempts)),
        wait=wait or wait_exponential_jitter(multiplier=base, max=cap, jitter=base),
        retry=retry_if_exception(lambda exc: isinstance(exc, Exception) and retry_if(exc)),
        before_sleep=before_sleep,
        reraise=True,
        **extra,
    )


def last_error(state: RetryCallState) -> BaseException | None:
    """The error the attempt that just failed raised (for a custom `wait`)."""
    return state.outcome.exception() if state.outcome is not None else None
