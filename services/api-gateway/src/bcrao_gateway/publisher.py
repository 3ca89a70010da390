"""Publishing GenerateRequested: acks=all, idempotent producer, and an answer only after the ack.

`publish` returns when the broker acknowledged the write and raises PublishError otherwise (broker
down, producer not started, timeout). The producer's own request timeout is kept below the
gateway's publish timeout, so a refused write is normally refused by the producer (not left queued
inside it) by the time the gateway gives up and releases the task.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from aiokafka import AIOKafkaProducer
from bcrao_contracts.events import Event, topic_for

from bcrao_gateway.config import Settings

log = logging.getLogger("bcrao_gateway.publisher")

START_BACKOFF_INITIAL = 0.5
START_BACKOFF_MAX = 15.0


class PublishError(Exception):
    """The event was not acknowledged by Kafka; it may or may not have been written."""


class Publisher(Protocol):
    @property
    def ready(self) -> bool: ...

    async def publish(self, event: Event) -> None: ...


class KafkaPublisher:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._producer: AIOKafkaProducer | None = None
        self._started = False

    @property
    def ready(self) -> bool:
        return self._started

    def _new_producer(self) -> AIOKafkaProducer:
        timeout_ms = int(self._settings.publish_timeout_seconds * 1000)
        return AIOKafkaProducer(
            bootstrap_servers=self._settings.kafka_bootstrap_servers,
            client_id="bcrao-api-gateway",
            acks="all",
            enable_idempotence=True,
            # The producer gives up (and fails the send) before the gateway stops waiting.
            request_timeout_ms=max(1000, int(timeout_ms * 0.8)),
            retry_backoff_ms=200,
            linger_ms=5,
        )

    async def start(self) -> None:
        producer = self._new_producer()
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        self._producer = producer
        self._started = True
        log.info("kafka producer started")

    async def start_with_retry(self) -> None:
        """Keep trying until the broker answers (readiness stays false meanwhile)."""
        delay = START_BACKOFF_INITIAL
        while not self._started:
            try:
                await self.start()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("kafka producer not started (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, START_BACKOFF_MAX)

    async def stop(self) -> None:
        self._started = False
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await producer.stop()

    async def publish(self, event: Event) -> None:
        producer = self._producer
        if producer is None or not self._started:
            raise PublishError("the Kafka producer is not started")
        topic = topic_for(event, self._settings.topic_prefix)
        try:
            async with asyncio.timeout(self._settings.publish_timeout_seconds):
                delivery = await producer.send(topic, value=event.to_json(), key=event.key)
                await delivery
        except TimeoutError as exc:
            raise PublishError(f"no acknowledgement from Kafka for {topic} in time") from exc
        except Exception as exc:
            raise PublishError(f"publishing to {topic} failed: {type(exc).__name__}") from exc
