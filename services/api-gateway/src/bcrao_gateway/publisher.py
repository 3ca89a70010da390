"""Publishing GenerateRequested: acks=all, idempotent producer, and an answer only after the ack.

`publish` returns when the broker acknowledged the write and raises PublishError otherwise.
`PublishError.sent` says whether the record may have reached the broker: False when it was never
handed to the producer (broker known unreachable, producer being replaced), True when the outcome
is unknown (no acknowledgement in time). The caller releases the task either way; draft-store and
the generator's claim make sure a released task is never generated later.

Supervision (`run()`, a background task of the app):
- the producer is started, and restarted with capped backoff while the broker is down;
- the broker is probed every `kafka_probe_seconds` (an empty metadata request of an admin client),
  so while it is unreachable (two failed probes in a row, the second sent at once) `publish`
  fails at once instead of waiting out a timeout, and readiness reports it;
- after an error that breaks the producer for good (OutOfOrderSequenceNumber, a fenced or closed
  producer: `bcrao_platform.producers.producer_broken`) it is replaced by a new one, once per
  breakage, by `bcrao_platform.producers.ProducerRenewal` (the generator's and draft-store's
  FastStream brokers use the same): an idempotent producer whose sequence numbers went wrong
  never recovers by itself.
The producer's own request timeout is kept below the gateway's publish timeout, so a refused write
is refused by the producer (not left queued inside it, to go out later) by the time we give up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from bcrao_contracts.events import Event, topic_for
from bcrao_contracts.topics import Topics
from bcrao_platform.producers import ProducerRenewal, producer_broken
from bcrao_platform.retry import retrying
from bcrao_platform.topics import track_only
from bcrao_platform.tracing import inject_headers
from opentelemetry import trace

from bcrao_gateway.config import Settings

log = logging.getLogger("bcrao_gateway.publisher")

START_BACKOFF_INITIAL = 0.5
START_BACKOFF_MAX = 5.0
STOP_TIMEOUT = 5.0

# Two failed probes in a row mark the broker unreachable (the second is sent at once after the
# first: one probe late on a CPU-starved machine does not refuse anyone); so does no successful
# probe for this many periods (a probe that hangs). A failed send probes at once too.
FAILED_PROBES = 2
STALE_PROBES = 3


class PublishError(Exception):
    """The event was not acknowledged by Kafka; `sent` says whether it may have been written."""

    def __init__(self, message: str, *, sent: bool = True) -> None:
        super().__init__(message)
        self.sent = sent


class Publisher(Protocol):
    @property
    def ready(self) -> bool: ...

    async def publish(self, event: Event, *, payload: bytes | None = None) -> None: ...


ProducerFactory = Callable[[Settings], AIOKafkaProducer]


def default_producer(settings: Settings) -> AIOKafkaProducer:
    timeout_ms = int(settings.publish_timeout_seconds * 1000)
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id="bcrao-api-gateway",
        acks="all",
        enable_idempotence=True,
        # The producer gives up (and fails the send) before the gateway stops waiting.
        request_timeout_ms=max(1000, int(timeout_ms * 0.8)),
        retry_backoff_ms=100,
        # A few ms of lingering batches concurrent accepts into one request per partition.
        linger_ms=settings.kafka_linger_ms,
        max_batch_size=64 * 1024,
    )


class KafkaPublisher:
    def __init__(
        self,
        settings: Settings,
        *,
        producer_factory: ProducerFactory = default_producer,
        admin_factory: Callable[[Settings], AIOKafkaAdminClient] | None = None,
        tracer: trace.Tracer | None = None,
    ) -> None:
        self._settings = settings
        self._tracer = tracer or trace.NoOpTracer()
        self._new_producer = producer_factory
        self._new_admin = admin_factory or _default_admin
        self._producer: AIOKafkaProducer | None = None
        self._admin: AIOKafkaAdminClient | None = None
        self._reachable_at = 0.0  # time.monotonic() of the last sign of a live broker
        self._reachable = False
        self._wake = asyncio.Event()
        self._probing = False
        self._failed_probes = 0
        self._renewal = ProducerRenewal(self._swap)

    # ---- state ----

    @property
    def producer(self) -> AIOKafkaProducer | None:
        """The current producer (None while it is being started or replaced)."""
        return self._producer

    @property
    def replacements(self) -> int:
        """Producers replaced after breaking (gateway_producer_replacements)."""
        return self._renewal.generation

    @property
    def started(self) -> bool:
        return self._producer is not None

    @property
    def reachable(self) -> bool:
        if not self._probing:  # started without run(): only what sends and start() observed
            return self._reachable
        fresh = time.monotonic() - self._reachable_at < self._probe_every * STALE_PROBES
        return self._reachable and fresh

    @property
    def ready(self) -> bool:
        return self.started and self.reachable

    @property
    def _probe_every(self) -> float:
        return self._settings.kafka_probe_seconds

    def _mark(self, reachable: bool) -> None:
        if reachable != self._reachable:
            log.warning("Kafka is %s", "reachable again" if reachable else "unreachable")
        self._reachable = reachable
        if reachable:
            self._reachable_at = time.monotonic()

    # ---- lifecycle ----

    async def start(self) -> None:
        """Start the producer once (raises when the broker does not answer)."""
        producer = self._new_producer(self._settings)
        try:
            await producer.start()
        except BaseException:
            await _quietly(producer.stop())
            raise
        self._producer = producer
        self._mark(True)
        log.info("kafka producer started")

    async def run(self) -> None:
        """Keep a working producer and a fresh view of the broker's reachability, forever."""
        self._probing = True
        try:
            await self._supervise()
        finally:
            self._probing = False

    async def _supervise(self) -> None:
        while True:
            if self._producer is None:
                # Capped, jittered backoff while the broker is down (bcrao_platform.retry).
                async for attempt in retrying(
                    None,
                    START_BACKOFF_INITIAL,
                    START_BACKOFF_MAX,
                    on_retry=lambda _: self._mark(False),
                    logger=log,
                    what="kafka producer not started",
                ):
                    with attempt:
                        await self.start()
            await self._probe()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._probe_every):
                    await self._wake.wait()
            self._wake.clear()

    async def _probe(self) -> None:
        try:
            if self._admin is None:
                admin = self._new_admin(self._settings)
                async with asyncio.timeout(self._probe_every * 2):
                    await admin.start()
                    # It needs no topic's metadata, but one it follows keeps its 5-minute
                    # refresh from fetching the whole cluster's (bcrao_platform.topics).
                    await track_only(
                        admin, [Topics(self._settings.topic_prefix).generate_requested]
                    )
                self._admin = admin
            async with asyncio.timeout(self._probe_every * 2):
                # A metadata request for no topic: a round trip to the broker that costs nothing
                # (describe_cluster would fetch every topic's metadata).
                await self._admin.describe_topics([])
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.debug("Kafka probe failed: %r", exc)
            self._failed_probes += 1
            if self._failed_probes >= FAILED_PROBES:
                self._mark(False)
            else:
                self._wake.set()  # probe again now: one late answer is not an outage
            if self._admin is not None:
                admin, self._admin = self._admin, None  # a fresh client on the next probe
                await _quietly(admin.close())
            return
        self._failed_probes = 0
        self._mark(True)

    async def stop(self) -> None:
        producer, self._producer = self._producer, None
        admin, self._admin = self._admin, None
        if producer is not None:
            await _quietly(producer.stop())
        if admin is not None:
            await _quietly(admin.close())
        await self._renewal.drain()

    async def _swap(self) -> AIOKafkaProducer | None:
        """ProducerRenewal's swap: a fresh producer from the same factory, put in place."""
        broken = self._producer
        if broken is None:
            return None  # stopping, or not started yet: run() starts one
        fresh = self._new_producer(self._settings)
        try:
            await fresh.start()
        except BaseException:
            await _quietly(fresh.stop())
            raise
        self._producer = fresh
        return broken

    # ---- publishing ----

    async def publish(self, event: Event, *, payload: bytes | None = None) -> None:
        """Publish `event`; `payload`, when given, is its exact serialisation to send instead (a
        relayed event goes out byte-for-byte as its owner built it)."""
        producer = self._producer
        if producer is None:
            raise PublishError("the Kafka producer is not started", sent=False)
        if not self.reachable:
            raise PublishError("Kafka is unreachable", sent=False)
        topic = topic_for(event, self._settings.topic_prefix)
        value = event.to_json() if payload is None else payload
        # A PRODUCER span whose context rides in the record's headers: the consumer's span is
        # its child, so the request's trace continues in the generator.
        with self._tracer.start_as_current_span(
            f"{topic} publish",
            kind=trace.SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "send",
                "messaging.destination.name": topic,
                "bcrao.event": type(event).__name__,
            },
        ):
            await self._send(producer, topic, event.key, value)
        self._mark(True)

    async def _send(self, producer: AIOKafkaProducer, topic: str, key: bytes, value: bytes) -> None:
        sent = False
        seen = self._renewal.generation
        try:
            async with asyncio.timeout(self._settings.publish_timeout_seconds):
                delivery = await producer.send(
                    topic, value=value, key=key, headers=inject_headers()
                )
                sent = True
                await delivery
        except TimeoutError as exc:
            self._wake.set()  # probe now: this may be the start of an outage
            message = f"no acknowledgement from Kafka for {topic} in time"
            raise PublishError(message, sent=sent) from exc
        except Exception as exc:
            if producer_broken(exc):
                self._renewal.saw(exc, seen)
            else:
                self._wake.set()  # probe now: the broker may be away
            name = type(exc).__name__
            raise PublishError(f"publishing to {topic} failed: {name}", sent=sent) from exc


def _default_admin(settings: Settings) -> AIOKafkaAdminClient:
    timeout_ms = max(500, int(settings.kafka_probe_seconds * 1000))
    return AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id="bcrao-api-gateway-probe",
        request_timeout_ms=timeout_ms,
    )


async def _quietly(closing: Any) -> None:
    """Close a Kafka client without letting its failure (or its own cancellation) escape."""
    try:
        async with asyncio.timeout(STOP_TIMEOUT):
            await closing
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
    except Exception as exc:
        log.debug("closing a Kafka client failed: %r", exc)
