"""Kafka entry point of the generator: one GenerateRequested in, progress and one terminal out.

The consumer (consumer.py) commits a message's offset once this handler returned, i.e. after the
terminal event was acknowledged. A redelivery re-runs the task: the claim skips it when it has
ended meanwhile, the gateway drops progress seqs it has already seen, and draft-store keeps one
draft per task.

A second copy of a task's GenerateRequested (the gateway sends a queued task's request again when
a client retries with its Idempotency-Key, ADR 0010) that arrives while this instance is still
generating the task is skipped before its claim: the claim would let it through (a running task
is claimed again, for a redelivery after a crash) and it would pay for a second LLM call. Both
copies carry the task id as key, so they reach the same partition and, between rebalances, the
same instance; the first copy's record stays uncommitted until it is done.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

from aiokafka import ConsumerRecord
from bcrao_contracts.enums import ErrorCode
from bcrao_contracts.events import (
    DraftGenerated,
    GenerateRequested,
    GenerationFailed,
    ProgressUpdated,
    UnsupportedEvent,
    parse_as,
)
from bcrao_platform.deadletter import dead_letter_for
from bcrao_platform.logs import task_scope
from bcrao_platform.tracing import context_from_headers
from opentelemetry import trace
from pydantic import ValidationError

from .claims import TaskClaims
from .config import Settings
from .llm import LLM
from .metrics import GeneratorMetrics
from .pipeline import run_generation
from .progress import PRODUCER, Progress
from .publishers import Publishers, can_resend
from .retries import Poison, is_transient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Generator:
    """What the handler needs, built once by the composition root (service.py)."""

    settings: Settings
    llm: LLM
    publishers: Publishers
    metrics: GeneratorMetrics
    claims: TaskClaims | None = None
    tracer: trace.Tracer = field(default_factory=trace.NoOpTracer)
    # The tasks this instance is generating now (one handler each).
    running: set[UUID] = field(default_factory=set)


async def on_generate_requested(request: GenerateRequested, gen: Generator) -> None:
    if request.task_id in gen.running:
        log.info("task is being generated here already: this copy is skipped")
        gen.metrics.skipped("running_here")
        return
    gen.running.add(request.task_id)
    try:
        await _generate(request, gen)
    finally:
        gen.running.discard(request.task_id)


async def _generate(request: GenerateRequested, gen: Generator) -> None:
    started = time.monotonic()
    if gen.claims is not None:
        with gen.tracer.start_as_current_span("task claim", kind=trace.SpanKind.CLIENT) as span:
            claim = await gen.claims.claim(request, attempt_id=uuid4())
            span.set_attribute("bcrao.claim.status", claim.status)
        if not claim.proceed:
            # Ended (completed, failed, released, swept) or deleted: no LLM call, no events.
            log.info("task is %s: skipped", claim.status)
            gen.metrics.skipped(claim.status)
            return
    log.info("generation started")

    # Progress goes out without waiting for each acknowledgement, so the LLM call starts
    # right away; all of them are awaited before the terminal event (publishers.py: order).
    sent: list[tuple[ProgressUpdated, asyncio.Future[Any]]] = []

    async def send_progress(event: ProgressUpdated) -> None:
        sent.append((event, await gen.publishers.send(event)))

    progress = Progress(
        request.task_id, send_progress, interval=gen.settings.chunk_interval_ms / 1000
    )
    outcome: DraftGenerated | GenerationFailed
    try:
        outcome = await run_generation(
            request,
            llm=gen.llm,
            progress=progress,
            validation_timeout=gen.settings.validation_timeout_seconds,
        )
    except Exception as exc:
        if is_transient(exc):
            raise  # a progress send met broker trouble: the consumer retries the task
        # A bug must end the task (and give the unit back), not loop through redeliveries.
        log.exception("generation crashed")
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
    await _settle_progress(sent, gen.publishers)
    await gen.publishers.publish(outcome)
    if (ttft := progress.time_to_first_text) is not None:
        gen.metrics.ttft.labels(gen.llm.name).observe(ttft)
    gen.metrics.outcome(outcome, time.monotonic() - started)
    log.info("generation finished: %s", outcome.event_type)


async def _settle_progress(
    sent: list[tuple[ProgressUpdated, asyncio.Future[Any]]], publishers: Publishers
) -> None:
    """Every progress event is acknowledged before the terminal one. Those the broker lost
    (an outage, a producer that broke) are sent again in seq order, so the stream has no gap
    before its end; the gateway orders late seqs and drops ones it has seen."""
    results = await asyncio.gather(*(ack for _, ack in sent), return_exceptions=True)
    for (event, _), result in zip(sent, results, strict=True):
        if isinstance(result, BaseException):
            if not can_resend(result):
                raise result
            await publishers.publish(event)


def parse_request(value: bytes | None) -> GenerateRequested:
    """The record's GenerateRequested (bcrao_contracts.parse_as owns the dispatch on event type
    and schema version), or Poison naming why not (never the payload itself)."""
    try:
        return parse_as(value or b"", GenerateRequested)
    except UnsupportedEvent as exc:
        raise Poison("unsupported", f"not a GenerateRequested this version reads: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        where = f": {'.'.join(map(str, first['loc']))}: {first['msg']}"
        raise Poison("unreadable", f"breaks the GenerateRequested schema{where}") from exc
    except ValueError as exc:  # not JSON, or not an object
        raise Poison("unreadable", "not a JSON object") from exc


async def handle_record(record: ConsumerRecord[bytes, bytes], gen: Generator) -> None:
    gen.metrics.consumed.labels(record.topic).inc()
    with gen.tracer.start_as_current_span(
        f"{record.topic} process",
        context=context_from_headers(record.headers),
        kind=trace.SpanKind.CONSUMER,
        attributes={
            "messaging.system": "kafka",
            "messaging.operation.type": "process",
            "messaging.destination.name": record.topic,
            "messaging.destination.partition.id": str(record.partition),
            "messaging.kafka.offset": record.offset,
        },
    ) as span:
        request = parse_request(record.value)
        span.set_attribute("bcrao.task_id", str(request.task_id))
        with task_scope(request.task_id):
            await on_generate_requested(request, gen)


async def dead_letter(
    record: ConsumerRecord[bytes, bytes],
    reason: str,
    error: BaseException,
    attempts: int,
    gen: Generator,
) -> None:
    letter = dead_letter_for(
        record,
        reason=reason,
        error=error,
        attempts=attempts,
        consumer=gen.settings.group_id,
        logger=log,
        level=logging.ERROR,
    )
    await gen.publishers.dead_letter(letter)
    gen.metrics.dead_letters.labels(reason).inc()
    gen.metrics.generations.labels("dead_lettered", reason).inc()
