"""The generator's outgoing events, as declared FastStream publishers (listed in AsyncAPI).

One KafkaBroker means one idempotent acks=all producer. Every event of a task is keyed by its
task id, so all of them go to one partition through one producer, which sends a partition's
batches in order (idempotence keeps retries from reordering or doubling them). That is why
progress can be sent without waiting for each acknowledgement: `send` hands back the pending
acknowledgement, and the handler awaits all of them before it publishes the terminal event.

A producer broken for good (OutOfOrderSequenceNumber after a broker restart, say) is replaced
by the broker's middleware (bcrao_platform.producers, installed in service.py), and what failed
on it is sent again like after any broker trouble: a finished generation is never run again
because its events could not go out.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiokafka.errors import ProducerClosed
from bcrao_contracts.events import DraftGenerated, Event, GenerationFailed, ProgressUpdated
from bcrao_contracts.topics import Topics, dlq
from bcrao_platform.deadletter import DeadLetter
from bcrao_platform.producers import producer_broken
from bcrao_platform.retry import retrying
from faststream.kafka import KafkaRouter
from opentelemetry import trace

from .metrics import GeneratorMetrics
from .retries import is_transient
from .tracing import trace_headers

log = logging.getLogger(__name__)


def can_resend(exc: BaseException) -> bool:
    """Whether an event whose send failed with `exc` goes again: broker trouble, or a producer
    that is being replaced (broken, or the broken one closing under the send)."""
    return is_transient(exc) or producer_broken(exc) or isinstance(exc, ProducerClosed)


class Publishers:
    def __init__(
        self,
        router: KafkaRouter,
        topics: Topics,
        metrics: GeneratorMetrics,
        tracer: trace.Tracer | None = None,
    ) -> None:
        self._metrics = metrics
        self._tracer = tracer or trace.NoOpTracer()
        self._by_type: dict[type[Event], Any] = {
            ProgressUpdated: router.publisher(
                topics.progress,
                title=f"{topics.progress}:ProgressUpdated",
                schema=ProgressUpdated,
                description="Stage statuses and text chunks of one task, numbered by seq.",
            ),
            DraftGenerated: router.publisher(
                topics.generated,
                title=f"{topics.generated}:DraftGenerated",
                schema=DraftGenerated,
                description="The terminal event of a task that produced a draft.",
            ),
            GenerationFailed: router.publisher(
                topics.failed,
                title=f"{topics.failed}:GenerationFailed",
                schema=GenerationFailed,
                description="The terminal event of a task that could not produce a draft.",
            ),
        }
        self.dlq_topic = dlq(topics.generate_requested)
        self._dlq = router.publisher(
            self.dlq_topic,
            title=f"{self.dlq_topic}:DeadLetter",
            description="GenerateRequested records that could not be handled (x-dlq-* headers).",
        )

    async def send(self, event: Event) -> asyncio.Future[Any]:
        """Queue the event on the producer; the returned future is its acknowledgement."""
        publisher = self._by_type[type(event)]
        future: asyncio.Future[Any] = await publisher.publish(
            event.to_json(), key=event.key, headers=trace_headers(), no_confirm=True
        )
        future.add_done_callback(self._count(publisher.topic))
        return future

    async def publish(self, event: Event) -> None:
        """Send and wait for acks=all. Broker trouble (and a broken producer, replaced meanwhile)
        is retried for as long as it lasts (until shutdown cancels it): the generation is done,
        and running it again would gain nothing."""
        topic = self._by_type[type(event)].topic
        with self._tracer.start_as_current_span(
            f"{topic} publish",
            kind=trace.SpanKind.PRODUCER,
            attributes={"messaging.system": "kafka", "messaging.destination.name": topic},
        ):
            async for attempt in retrying(
                None, 0.2, 5.0, retry_if=can_resend, logger=log, what="publish failed"
            ):
                with attempt:
                    await (await self.send(event))

    async def dead_letter(self, letter: DeadLetter) -> None:
        await self._dlq.publish(letter.value, key=letter.key, headers=letter.header_map)
        self._metrics.produced.labels(self.dlq_topic).inc()

    def _count(self, topic: str) -> Any:
        def done(future: asyncio.Future[Any]) -> None:
            if not future.cancelled() and future.exception() is None:
                self._metrics.produced.labels(topic).inc()

        return done
