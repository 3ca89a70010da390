"""Kafka entry point of the generator: one GenerateRequested in, progress and one terminal out.

The offset is committed only after the terminal event was acknowledged by the broker
(AckPolicy.NACK_ON_ERROR: a handler that raises is redelivered). Redelivery re-runs the task;
the gateway drops progress seqs it has already seen and draft-store keeps one draft per task.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

from bcrao_contracts.enums import ErrorCode
from bcrao_contracts.events import (
    DraftGenerated,
    Event,
    GenerateRequested,
    GenerationFailed,
    ProgressUpdated,
    topic_for,
)
from bcrao_contracts.topics import Topics, dlq
from faststream import AckPolicy
from faststream.kafka import KafkaRouter
from faststream.kafka.annotations import KafkaBroker, KafkaMessage
from pydantic import ValidationError

from .config import Settings
from .llm import LLM
from .pipeline import run_generation
from .progress import PRODUCER, Progress

log = logging.getLogger(__name__)

PUBLISH_ATTEMPTS = 5


async def publish_event(broker: KafkaBroker, event: Event, prefix: str) -> None:
    """Publish and wait for acks=all; transient broker trouble is retried with capped backoff."""
    for attempt in range(1, PUBLISH_ATTEMPTS + 1):
        try:
            await broker.publish(event.to_json(), topic_for(event, prefix), key=event.key)
            return
        except Exception:
            if attempt == PUBLISH_ATTEMPTS:
                raise
            log.warning("publish of %s failed, retrying", type(event).__name__, exc_info=True)
            await asyncio.sleep(min(5.0, 0.2 * 2**attempt))


def build_router(settings: Settings, llm: LLM, metrics: Counter[str]) -> KafkaRouter:
    topics = Topics(settings.topic_prefix)
    router = KafkaRouter()

    @router.subscriber(
        topics.generate_requested,
        group_id=settings.group_id,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        max_workers=settings.concurrency,
        max_poll_interval_ms=settings.max_poll_interval_ms,
        description="Runs the generation pipeline for one requested draft.",
    )
    async def on_generate_requested(message: KafkaMessage, broker: KafkaBroker) -> None:
        try:
            request = GenerateRequested.parse(message.body)
        except (ValidationError, ValueError) as exc:
            metrics["dead_lettered"] += 1
            log.error("unreadable GenerateRequested sent to the DLQ: %s", exc.__class__.__name__)
            await broker.publish(
                message.body,
                dlq(topics.generate_requested),
                key=getattr(message.raw_message, "key", None),
                headers={"x-error": str(exc)[:1000], "x-original-topic": topics.generate_requested},
            )
            return

        task = str(request.task_id)
        metrics["generations_started"] += 1
        log.info("generation started", extra={"task_id": task})

        async def publish_progress(event: ProgressUpdated) -> None:
            await publish_event(broker, event, settings.topic_prefix)

        progress = Progress(
            request.task_id, publish_progress, interval=settings.chunk_interval_ms / 1000
        )
        outcome: DraftGenerated | GenerationFailed
        try:
            outcome = await run_generation(
                request,
                llm=llm,
                progress=progress,
                validation_timeout=settings.validation_timeout_seconds,
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            # A bug must end the task (and give the unit back), not loop through redeliveries.
            log.exception("generation crashed", extra={"task_id": task})
            outcome = GenerationFailed(
                task_id=request.task_id,
                producer=PRODUCER,
                seq=progress.next_seq(),
                user_id=request.user_id,
                campaign_id=request.campaign.id,
                code=ErrorCode.GENERATION_FAILED,
                message="The draft could not be generated because of an internal error.",
                retryable=True,
            )
        await publish_event(broker, outcome, settings.topic_prefix)
        if isinstance(outcome, DraftGenerated):
            metrics["drafts_generated"] += 1
        else:
            metrics[f"failed_{outcome.code.value}"] += 1
        log.info("generation finished: %s", outcome.event_type, extra={"task_id": task})

    return router
