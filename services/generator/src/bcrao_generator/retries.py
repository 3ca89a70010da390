"""What happens when handling a record fails: retry, or dead-letter, never block the partition.

A record the handler calls `Poison` is dead-lettered at once. Other failures are retried in
place with capped backoff (other records keep running meanwhile) and dead-lettered after
`max_attempts`. Broker trouble is not the record's fault, so it is retried without spending
attempts, for as long as it lasts. The offset moves past a dead letter only once the DLQ holds it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeAlias

from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaError, KafkaTimeoutError
from bcrao_platform.deadletter import AttemptTracker

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
        transient = 0
        while True:
            try:
                await self._handle(record)
                self._attempts.forget(*where)
                return
            except Poison as exc:
                await self._store(record, exc.reason, exc, 1)
                return
            except Exception as exc:
                if is_transient(exc):
                    transient += 1
                    log.warning("record %s/%s@%s hit broker trouble, retrying", *where)
                    await asyncio.sleep(self._delay(transient))
                    continue
                attempts = self._attempts.record_failure(*where)
                if self._attempts.exhausted(*where):
                    log.error("record %s/%s@%s failed %d times", *where, attempts, exc_info=True)
                    await self._store(record, "exhausted", exc, attempts)
                    self._attempts.forget(*where)
                    return
                log.warning("record %s/%s@%s failed (attempt %d)", *where, attempts, exc_info=True)
                await asyncio.sleep(self._delay(attempts))

    async def _store(self, record: Record, reason: str, exc: BaseException, attempts: int) -> None:
        tries = 0
        while True:
            try:
                await self._dead_letter(record, reason, exc, attempts)
                return
            except Exception:
                tries += 1
                log.warning("dead-lettering failed, retrying", exc_info=True)
                await asyncio.sleep(self._delay(tries))

    def _delay(self, attempt: int) -> float:
        backoff = min(self._cap, self._base * 2 ** (attempt - 1))
        return backoff * (0.5 + random.random() / 2)
