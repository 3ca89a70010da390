"""Kafka consumers: DraftGenerated and GenerationFailed in, DraftStored and dead letters out.

At-least-once: subscribers commit the offset only after the handler returned (NACK_ON_ERROR),
and a handler returns only once its transaction committed and its follow-up event was
acknowledged by the broker (acks=all). A raised exception leaves the offset where it was, so
the message comes back; transient database errors are first retried with capped backoff.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from bcrao_contracts.events import DraftGenerated, DraftStored, GenerationFailed
from bcrao_contracts.topics import Topics, dlq
from faststream import AckPolicy
from faststream.kafka import KafkaRouter
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.publisher.usecase import DefaultPublisher
from pydantic import ValidationError
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from . import ingest
from .config import Settings
from .db import unit_of_work
from .metrics import Metrics
from .retry import Backoff, with_retries

PRODUCER = "draft-store"
JSON_HEADERS = {"content-type": "application/json"}
T = TypeVar("T")
E = TypeVar("E", DraftGenerated, GenerationFailed)
log = logging.getLogger(__name__)


def stored_event_id(task_id: UUID) -> UUID:
    """The same DraftStored for every redelivery, so consumers can deduplicate on event_id."""
    return uuid5(NAMESPACE_URL, f"bcrao:draft-stored:{task_id}")


def build_router(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    metrics: Metrics,
) -> KafkaRouter:
    topics = Topics(settings.topic_prefix)
    backoff = Backoff(settings.retry_attempts, settings.retry_base_delay, settings.retry_max_delay)
    router = KafkaRouter()
    stored = router.publisher(
        topics.stored, description="DraftStored: a task's draft is persisted (key = task id)."
    )
    dead_letters = {
        topic: router.publisher(
            dlq(topic), description=f"Messages of {topic} that cannot be parsed or applied."
        )
        for topic in (topics.generated, topics.failed)
    }

    async def dead_letter(msg: KafkaMessage, reason: str, error: object) -> None:
        record = msg.raw_message
        topic = getattr(record, "topic", None) or topics.generated
        publisher: DefaultPublisher = dead_letters.get(topic, dead_letters[topics.generated])
        await publisher.publish(
            msg.body,
            key=getattr(record, "key", None),
            headers={
                "x-dlq-reason": reason,
                "x-dlq-error": str(error)[:2000],
                "x-dlq-original-topic": str(topic),
                "x-dlq-original-offset": str(getattr(record, "offset", "")),
            },
        )
        metrics.dead_letters += 1
        log.warning("dead-lettered a message of %s (%s): %s", topic, reason, str(error)[:300])

    async def in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        async def attempt() -> T:
            async with unit_of_work(sessions) as session:
                return await work(session)

        def count_retry(_: BaseException) -> None:
            metrics.handler_retries += 1

        try:
            return await with_retries(attempt, backoff, on_retry=count_retry)
        except (ingest.Unprocessable, IntegrityError, DataError):
            raise
        except Exception:
            # Not retryable here and not the message's fault: leave the offset uncommitted and
            # pause before the redelivery, so a persistent fault cannot spin the consumer.
            await asyncio.sleep(backoff.max_delay)
            raise

    async def apply(
        msg: KafkaMessage,
        parse: Callable[[bytes], E],
        work: Callable[[AsyncSession, E], Awaitable[T]],
    ) -> tuple[E, T] | None:
        """Parse the message and apply it in one transaction; None when it went to the DLQ
        (unreadable, or well-formed but never applicable)."""
        try:
            event = parse(msg.body)
        except (ValidationError, ValueError) as exc:
            await dead_letter(msg, "invalid", exc)
            return None
        try:
            return event, await in_transaction(lambda s: work(s, event))
        except (ingest.Unprocessable, IntegrityError, DataError) as exc:
            await dead_letter(msg, "unprocessable", exc)
            return None

    @router.subscriber(
        topics.generated,
        group_id=settings.consumer_group,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="earliest",
        description="DraftGenerated: store the draft once per task, mark its unit used, "
        "complete the task, then publish DraftStored.",
    )
    async def on_draft_generated(msg: KafkaMessage) -> None:
        applied = await apply(msg, DraftGenerated.parse, ingest.store_generated)
        if applied is None:
            return
        event, result = applied
        if result.inserted:
            metrics.drafts_stored += 1
        else:
            metrics.redeliveries_skipped += 1
        reply = DraftStored(
            event_id=stored_event_id(event.task_id),
            task_id=event.task_id,
            correlation_id=event.correlation_id or event.task_id,
            producer=PRODUCER,
            seq=event.seq,
            draft=result.draft,
        )
        await stored.publish(reply.to_json(), key=reply.key, headers=JSON_HEADERS)
        log.info("stored draft %s of task %s", result.draft.id, event.task_id)

    @router.subscriber(
        topics.failed,
        group_id=settings.consumer_group,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="earliest",
        description="GenerationFailed: mark the task failed and release its quota unit.",
    )
    async def on_generation_failed(msg: KafkaMessage) -> None:
        applied = await apply(msg, GenerationFailed.parse, ingest.record_failure)
        if applied is None:
            return
        event, changed = applied
        if changed:
            metrics.generation_failures += 1
        log.info("task %s failed with %s", event.task_id, event.code.value)

    return router
