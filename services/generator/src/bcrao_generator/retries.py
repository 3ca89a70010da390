"""What happens when handling a record fails: retry, or dead-letter, never block the partition.

A record the handler calls `Poison` is dead-lettered at once. Other failures are retried in
place with capped backoff (other records keep running meanwhile) and dead-lettered after
`max_attempts`. Broker trouble is not the record's fault, so it is retried without spending
attempts, for as long as it lasts. The offset moves past a dead letter only once the DLQ holds it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeAlias

from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaError, KafkaTimeoutError
from bcrao_platform.deadletter import AttemptTracker
from bcrao_platform.retry import retrying

log = logging.getLogger(__name__)

Record: TypeAlias = "ConsumerRecord[bytes, bytes]"
Handle: TypeAlias = Callable[[Record], Awaitable[None]]
# (record, reason, error, attempts) -> None; must raise when the dead letter was not stored.
DeadLetter: TypeAlias = Callable[[Record, str, BaseException, int], Awaitable[None]]


class Poison(Exception):
    """Raised by a handler for a record that can never succeed: dead-lettered at once.

    `reason` is one of bcrao_platform.deadletter.REASONS (unreadable, unsupported, ...).
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def is_transient(exc: BaseException) -> bool:
    """Broker trouble (unreachable, no leader, a send timing out), not the record's fault.
    A record the broker refuses (too large) is not transient."""
    return isinstance(exc, KafkaTimeoutError) or (
        isinstance(exc, KafkaError) and bool(getattr(exc, "retriable", False))
    )


class Retrying:
    """Wraps a handler so that it returns once the record is handled or dead-lettered."""

    def __init__(
        self,
        handle: Handle,
        dead_letter: DeadLetter,
        *,
        max_attempts: int,
        base: float = 0.5,
        cap: float = 10.0,
    ) -> None:
        self._handle = handle
        self._dead_letter = dead_letter
        self._attempts = AttemptTracker(max_attempts)
        self._base = base
        self._cap = cap

    async def __call__(self, record: Record) -> None:
        where = (record.topic, record.partition, record.offset)

        def again(exc: BaseException) -> bool:
            """Broker trouble: always (no attempt spent). Poison: never. Anything else counts
            an attempt (also across redeliveries, AttemptTracker) until max_attempts."""
            if isinstance(exc, Poison):
                return False
            if is_transient(exc):
                return True
            attempts = self._attempts.record_failure(*where)
            if self._attempts.exhausted(*where):
                return False
            log.warning("record %s/%s@%s failed (attempt %d)", *where, attempts, exc_info=exc)
            return True

        try:
            async for attempt in retrying(
                None, self._base, self._cap, again, logger=log, what="handling a record failed"
            ):
                with attempt:
                    await self._handle(record)
        except Poison as exc:
            await self._store(record, exc.reason, exc, 1)
            return
        except Exception as exc:
            attempts = self._attempts.attempts(*where)
            log.error("record %s/%s@%s failed %d times", *where, attempts, exc_info=exc)
            await self._store(record, "exhausted", exc, attempts)
            self._attempts.forget(*where)
            return
        self._attempts.forget(*where)

    async def _store(self, record: Record, reason: str, exc: BaseException, attempts: int) -> None:
        """Until the dead-letter topic holds it: the offset must not move past it before."""
        async for attempt in retrying(
            None, self._base, self._cap, logger=log, what="dead-lettering failed"
        ):
            with attempt:
                await self._dead_letter(record, reason, exc, attempts)
