"""Kafka consumers: DraftGenerated and GenerationFailed in, in batches; DraftStored and dead
letters out.

At-least-once: each subscriber takes a batch (`getmany`), applies it in one transaction
(batching.py), publishes the batch's DraftStored events and awaits their acknowledgements
(acks=all) together, and only then returns, upon which the offsets of the whole batch are
committed once (NACK_ON_ERROR). A raised exception rewinds every partition of the batch to its
first message, so the batch comes back; applying it again stores nothing twice and moves no
unit twice (ingest.py).

Tracing (when a tracer is given): the W3C trace context in each record's headers is continued.
A batch is one CONSUMER span, linked to every record's producer span and a child of the first;
the transaction is a span inside it; each DraftStored gets a PRODUCER span in its own
generation's trace, whose context goes out in that record's headers to the gateway.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from aiokafka import ConsumerRecord
from bcrao_contracts.events import DraftGenerated, DraftStored, GenerationFailed, parse_as
from bcrao_contracts.topics import Topics, dlq
from bcrao_platform.deadletter import AttemptTracker
from bcrao_platform.tracing import context_from_headers, inject_headers
from faststream import AckPolicy
from faststream.kafka import KafkaRouter
from faststream.kafka.annotations import KafkaMessage
from opentelemetry import trace
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from . import ingest
from .batching import BatchApplier, Retries
from .config import Settings
from .metrics import Metrics
from .publishing import publish_all

PRODUCER = "draft-store"
log = logging.getLogger(__name__)


def stored_event_id(task_id: UUID) -> UUID:
    """The same DraftStored for every redelivery, so consumers can deduplicate on event_id."""
    return uuid5(NAMESPACE_URL, f"bcrao:draft-stored:{task_id}")


def _records(msg: KafkaMessage) -> tuple[ConsumerRecord[Any, Any], ...]:
    """The batch's records (the in-memory test broker nests them one level deeper)."""
    raw = msg.raw_message
    items = raw if isinstance(raw, tuple | list) else (raw,)
    return tuple(
        r for item in items for r in ([item] if isinstance(item, ConsumerRecord) else item)
    )


async def _undecoded(_: Any) -> None:
    """The handlers read the batch's records and parse each once (batching.py): FastStream's
    own decoding of every body as JSON, which nothing reads, is skipped."""
    return None


def _process_span(
    tracer: trace.Tracer, topic: str, records: tuple[ConsumerRecord[Any, Any], ...]
) -> Any:
    """One CONSUMER span per batch: linked to every record's producer span, and a child of the
    first one's (so a batch of one, the usual case when idle, is inside its generation's trace).

    Built here rather than by FastStream's KafkaTelemetryMiddleware (faststream[otel]), which
    for a batch subscriber starts a new trace per batch (a root "create" span with links): the
    stored draft would leave its generation's trace, and with it the trace a support person
    follows from the POST to the stored row. The DraftStored publish spans below are per
    generation for the same reason; the middleware's would all hang under the batch's span."""
    contexts = [
        trace.get_current_span(context_from_headers(r.headers)).get_span_context() for r in records
    ]
    traced = [c for c in contexts if c.is_valid]
    parent = trace.set_span_in_context(trace.NonRecordingSpan(traced[0])) if traced else None
    return tracer.start_as_current_span(
        f"{topic} process",
        context=parent,
        kind=trace.SpanKind.CONSUMER,
        links=[trace.Link(c) for c in traced],
        attributes={
            "messaging.system": "kafka",
            "messaging.operation.type": "process",
            "messaging.destination.name": topic,
            "messaging.batch.message_count": len(records),
        },
    )


def _publish_spans(
    tracer: trace.Tracer, topic: str, records: list[ConsumerRecord[Any, Any]]
) -> list[tuple[trace.Span, dict[str, str]]]:
    """Per DraftStored, a PRODUCER span in its own generation's trace (a child of the record's
    producer span, linked to the batch), and the headers that carry that trace to the gateway.
    Started here, ended once the batch's acknowledgements are in."""
    batch = trace.get_current_span().get_span_context()
    out = []
    for record in records:
        carried = context_from_headers(record.headers)
        traced = trace.get_current_span(carried).get_span_context().is_valid
        span = tracer.start_span(
            f"{topic} publish",
            context=carried if traced else None,  # untraced producer: under the batch's span
            kind=trace.SpanKind.PRODUCER,
            links=[trace.Link(batch)] if batch.is_valid else None,
            attributes={"messaging.system": "kafka", "messaging.destination.name": topic},
        )
        with trace.use_span(span, end_on_exit=False):
            headers = {name: value.decode("latin-1") for name, value in inject_headers()}
        out.append((span, headers))
    return out


def build_router(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    metrics: Metrics,
    tracer: trace.Tracer | None = None,
) -> KafkaRouter:
    """`tracer` None: tracing off (no header is looked at)."""
    topics = Topics(settings.topic_prefix)
    router = KafkaRouter()
    stored = router.publisher(
        topics.stored, description="DraftStored: a task's draft is persisted (key = task id)."
    )
    tracker = AttemptTracker(settings.max_attempts)
    retries = Retries(settings.retry_attempts, settings.retry_base_delay, settings.retry_max_delay)

    def subscriber(topic: str, description: str) -> Any:
        return router.subscriber(
            topic,
            group_id=settings.consumer_group,
            batch=True,
            max_records=settings.batch_max_records,
            batch_timeout_ms=settings.batch_timeout_ms,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            auto_offset_reset="earliest",
            description=description,
            decoder=_undecoded,
        )

    def applier(topic: str, parse: Any, work: Any) -> BatchApplier[Any, Any]:
        return BatchApplier(
            topic=topic,
            parse=parse,
            work=work,
            sessions=sessions,
            dead_letters=router.publisher(
                dlq(topic), description=f"Messages of {topic} that cannot be parsed or applied."
            ),
            tracker=tracker,
            retries=retries,
            metrics=metrics,
            tracer=tracer,
        )

    generated = applier(
        topics.generated, lambda b: parse_as(b, DraftGenerated), ingest.store_generated_batch
    )
    failed = applier(
        topics.failed, lambda b: parse_as(b, GenerationFailed), ingest.record_failure_batch
    )

    @subscriber(
        topics.generated,
        "DraftGenerated, in batches: store each task's draft once, mark its unit used, "
        "complete the task, then publish DraftStored for the batch.",
    )
    async def on_draft_generated(msg: KafkaMessage) -> None:
        records = _records(msg)
        metrics.batch_size.labels(topics.generated).observe(len(records))
        if tracer is None:
            await store_generated(records)
        else:
            with _process_span(tracer, topics.generated, records):
                await store_generated(records)

    async def store_generated(records: tuple[ConsumerRecord[Any, Any], ...]) -> None:
        replies: list[DraftStored] = []
        sources: list[ConsumerRecord[Any, Any]] = []
        for item in await generated.apply(records):
            outcome, event = item.outcome, item.event
            if isinstance(outcome, ingest.Refused):
                await generated.dead_letter(item.record, "unprocessable", outcome.reason)
            elif isinstance(outcome, ingest.Dropped):
                metrics.events_dropped.labels(topics.generated, outcome.reason).inc()
                log.info(
                    "dropped the draft of task %s (%s)",
                    event.task_id,
                    outcome.reason,
                    extra={"task_id": str(event.task_id)},
                )
            else:
                (metrics.drafts_stored if outcome.inserted else metrics.redeliveries_skipped).inc()
                sources.append(item.record)
                replies.append(
                    DraftStored(
                        event_id=stored_event_id(event.task_id),
                        task_id=event.task_id,
                        correlation_id=event.correlation_id or event.task_id,
                        producer=PRODUCER,
                        seq=event.seq,
                        draft=outcome.draft,
                    )
                )
        if tracer is None:
            await publish_all(stored, None, replies)
            return
        spans = _publish_spans(tracer, topics.stored, sources)
        try:
            await publish_all(stored, None, replies, [headers for _, headers in spans])
        except Exception as exc:
            for span, _ in spans:
                span.record_exception(exc)
                span.set_status(trace.StatusCode.ERROR)
            raise
        finally:
            for span, _ in spans:
                span.end()

    @subscriber(
        topics.failed, "GenerationFailed, in batches: mark each task failed and release its unit."
    )
    async def on_generation_failed(msg: KafkaMessage) -> None:
        records = _records(msg)
        metrics.batch_size.labels(topics.failed).observe(len(records))
        with (
            _process_span(tracer, topics.failed, records)
            if tracer is not None
            else contextlib.nullcontext()
        ):
            applied = await failed.apply(records)
        for item in applied:
            outcome = item.outcome
            if isinstance(outcome, ingest.Refused):
                await failed.dead_letter(item.record, "unprocessable", outcome.reason)
            elif isinstance(outcome, ingest.Dropped):
                metrics.events_dropped.labels(topics.failed, outcome.reason).inc()
            elif outcome.changed:
                metrics.generation_failures.inc()

    return router
