"""Retrying transient database failures with capped exponential backoff (never a tight loop)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import psycopg
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

T = TypeVar("T")
log = logging.getLogger(__name__)


TRANSIENT_STATES = {"40001", "40P01", "55P03", "57P01", "57P02", "57P03"}


def is_transient(exc: BaseException) -> bool:
    """Connection loss, server shutdown, pool exhaustion, serialization failures and deadlocks,
    raised through SQLAlchemy or by psycopg itself (the hot paths use the driver directly)."""
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout | OSError):
        return True
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        exc = exc.orig or exc
    sqlstate = getattr(exc, "sqlstate", None) or ""
    return sqlstate in TRANSIENT_STATES or sqlstate.startswith("08")


# Errors no retry can fix: the message itself breaks a constraint or a column's type.
NEVER_APPLICABLE = (IntegrityError, DataError, psycopg.IntegrityError, psycopg.DataError)


@dataclass(frozen=True)
class Backoff:
    attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 5.0

    def delay(self, attempt: int) -> float:
        return min(self.max_delay, self.base_delay * 2**attempt)


async def with_retries(
    operation: Callable[[], Awaitable[T]],
    backoff: Backoff,
    *,
    on_retry: Callable[[BaseException], None] | None = None,
) -> T:
    """Run `operation`; after the last failed attempt wait once more and re-raise, so a consumer
    that redelivers the message right away still cannot spin."""
    for attempt in range(backoff.attempts):
        try:
            return await operation()
        except Exception as exc:
            if not is_transient(exc):
                raise
            if on_retry is not None:
                on_retry(exc)
            delay = backoff.delay(attempt)
            log.warning("transient database error (attempt %d): %s", attempt + 1, exc)
            await asyncio.sleep(delay)
            if attempt == backoff.attempts - 1:
                raise
    raise AssertionError("unreachable")
