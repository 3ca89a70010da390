"""Applying a consumed batch: parse, one transaction for all, and a way out for each bad message.

A batch is applied in one transaction. When that transaction fails for a reason that is not
transient, the messages are applied one by one (each in its own transaction) so that the bad
one is found: a message that can never apply (an integrity or data error) is dead-lettered at
once; any other error counts an attempt for that message, and once it has failed
`max_attempts` times it is dead-lettered too. Until then the handler raises and the whole
batch comes back (its offsets are not committed); what was already applied is a no-op then.

Transient database errors (connection loss, failover, serialization failures) are retried with
capped backoff and never count as attempts: a database outage must not dead-letter anything.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aiokafka import ConsumerRecord
from bcrao_contracts.events import UnsupportedEvent
from bcrao_platform.deadletter import AttemptTracker, dead_letter_for
from bcrao_platform.retry import retrying
from faststream.kafka.publisher.usecase import DefaultPublisher
from opentelemetry import trace
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .db import unit_of_work
from .metrics import Metrics
from .retry import NEVER_APPLICABLE, is_transient

E = TypeVar("E")
R = TypeVar("R")
log = logging.getLogger(__name__)
CONSUMER = "draft-store"


@dataclass(frozen=True)
class Retries:
    attempts: int
    base: float
    cap: float


@dataclass(frozen=True)
class Applied(Generic[E, R]):
    record: ConsumerRecord[Any, Any]
    event: E
    outcome: R


class BatchApplier(Generic[E, R]):
    """One per subscribed topic: `apply(records)` returns what applied, in order."""

    def __init__(
        self,
        *,
        topic: str,
        parse: Callable[[bytes], E],
        work: Callable[[AsyncSession, Sequence[E]], Awaitable[list[R]]],
        sessions: async_sessionmaker[AsyncSession],
        dead_letters: DefaultPublisher,
        tracker: AttemptTracker,
        retries: Retries,
        metrics: Metrics,
        tracer: trace.Tracer | None = None,
    ) -> None:
        self.topic = topic
        self.tracer = tracer or trace.NoOpTracer()
        self.parse = parse
        self.work = work
        self.sessions = sessions
        self.dead_letters = dead_letters
        self.tracker = tracker
        self.retries = retries
        self.metrics = metrics

    async def apply(self, records: Sequence[ConsumerRecord[Any, Any]]) -> list[Applied[E, R]]:
        parsed: list[tuple[ConsumerRecord[Any, Any], E]] = []
        for record in records:
            try:
                parsed.append((record, self.parse(record.value or b"")))
            except UnsupportedEvent as exc:  # another event type, or a version not known here
                await self.dead_letter(record, "unsupported", exc)
            except (ValidationError, ValueError) as exc:  # not JSON, or not the schema
                await self.dead_letter(record, "unreadable", exc)
        if not parsed:
            return []
        try:
            outcomes = await self._transaction([event for _, event in parsed])
        except Exception as exc:
            if is_transient(exc):
                raise  # retried already; the batch comes back, and no attempt is counted
            log.warning(
                "a batch of %d on %s failed (%s); applying one by one",
                len(parsed),
                self.topic,
                _short(exc),
            )
            return await self._one_by_one(parsed)
        applied = [Applied(r, e, o) for (r, e), o in zip(parsed, outcomes, strict=True)]
        for item in applied:
            self._forget(item.record)
        return applied

    async def _one_by_one(
        self, parsed: list[tuple[ConsumerRecord[Any, Any], E]]
    ) -> list[Applied[E, R]]:
        applied: list[Applied[E, R]] = []
        for record, event in parsed:
            try:
                [outcome] = await self._transaction([event])
            except Exception as exc:
                if is_transient(exc):
                    raise
                if isinstance(exc, NEVER_APPLICABLE):
                    await self.dead_letter(record, "unprocessable", exc)
                    continue
                attempts = self.tracker.record_failure(
                    record.topic, record.partition, record.offset
                )
                if self.tracker.exhausted(record.topic, record.partition, record.offset):
                    await self.dead_letter(record, "exhausted", exc, attempts=attempts)
                    continue
                log.warning(
                    "message %s/%d@%d failed (attempt %d): %s",
                    record.topic,
                    record.partition,
                    record.offset,
                    attempts,
                    _short(exc),
                )
                raise
            self._forget(record)
            applied.append(Applied(record, event, outcome))
        return applied

    async def _transaction(self, events: list[E]) -> list[R]:
        retry = retrying(
            self.retries.attempts,
            self.retries.base,
            self.retries.cap,
            retry_if=is_transient,
            on_retry=lambda _: self.metrics.handler_retries.inc(),
        )
        async for attempt in retry:  # re-raises the last error once the attempts are spent
            with (
                attempt,
                self.tracer.start_as_current_span(
                    f"{self.topic} store",
                    kind=trace.SpanKind.CLIENT,
                    attributes={"db.system.name": "postgresql", "bcrao.batch.size": len(events)},
                ),
            ):
                async with unit_of_work(self.sessions) as session:
                    return await self.work(session, events)
        raise AssertionError("unreachable: the retrying loop returns or raises")

    def _forget(self, record: ConsumerRecord[Any, Any]) -> None:
        self.tracker.forget(record.topic, record.partition, record.offset)

    async def dead_letter(
        self,
        record: ConsumerRecord[Any, Any],
        reason: str,
        error: BaseException | str,
        *,
        attempts: int = 1,
    ) -> None:
        letter = dead_letter_for(
            record, reason=reason, error=error, attempts=attempts, consumer=CONSUMER, logger=log
        )
        await self.dead_letters.publish(letter.value, key=letter.key, headers=letter.header_map)
        self._forget(record)
        self.metrics.dead_letters.labels(topic=self.topic, reason=reason).inc()


def _short(error: object) -> str:
    return str(error).splitlines()[0][:300] if str(error) else type(error).__name__
