"""The Kafka publisher against the real broker: a fatal producer error replaces the producer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, OutOfOrderSequenceNumber
from bcrao_contracts.events import parse_event, topic_for
from bcrao_gateway.config import Settings
from bcrao_gateway.publisher import KafkaPublisher, PublishError, default_producer
from bcrao_testkit.waits import eventually

from .conftest import make_settings
from .streaming.conftest import TaskEvents

pytestmark = pytest.mark.integration


class BrokenSequenceProducer(AIOKafkaProducer):
    """A producer whose every delivery fails the way an idempotent producer's does once its
    sequence numbers and the broker's disagree (it never recovers by itself)."""

    async def send(self, *args: Any, **kwargs: Any) -> asyncio.Future[Any]:
        delivery: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        delivery.set_exception(OutOfOrderSequenceNumber())
        return delivery


@pytest.fixture
def settings(kafka_bootstrap: str) -> Settings:
    return make_settings(
        kafka_bootstrap_servers=kafka_bootstrap, topic_prefix=f"pub{uuid4().hex[:8]}."
    )


@pytest.fixture
async def supervised() -> AsyncIterator[Any]:
    running: list[tuple[KafkaPublisher, asyncio.Task[None]]] = []

    async def start(publisher: KafkaPublisher) -> KafkaPublisher:
        running.append((publisher, asyncio.create_task(publisher.run())))
        await eventually(lambda: publisher.ready)
        return publisher

    yield start
    for publisher, task in running:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await publisher.stop()


async def first_record(settings: Settings, topic: str) -> bytes:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=settings.kafka_bootstrap_servers, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        async with asyncio.timeout(30):
            record = await consumer.getone()
        return bytes(record.value)
    finally:
        await consumer.stop()


async def test_a_fatal_producer_error_replaces_the_producer(
    settings: Settings, supervised: Any
) -> None:
    made: list[AIOKafkaProducer] = []

    def factory(s: Settings) -> AIOKafkaProducer:
        if not made:
            producer: AIOKafkaProducer = BrokenSequenceProducer(
                bootstrap_servers=s.kafka_bootstrap_servers
            )
        else:
            producer = default_producer(s)
        made.append(producer)
        return producer

    publisher = await supervised(KafkaPublisher(settings, producer_factory=factory))
    task = TaskEvents()
    with pytest.raises(PublishError):
        await publisher.publish(task.status(1))
    await eventually(lambda: len(made) == 2 and publisher.ready)
    assert publisher.replacements == 1

    await publisher.publish(task.status(2))
    value = await first_record(settings, topic_for(task.status(2), settings.topic_prefix))
    assert parse_event(value).seq == 2  # type: ignore[union-attr]


async def test_a_relayed_payload_reaches_kafka_byte_for_byte(
    settings: Settings, supervised: Any
) -> None:
    event = TaskEvents().status(1)
    # The owner's serialisation, with spacing and a field our contracts do not know: a re-parse and
    # re-serialisation would change both.
    payload = event.to_json()[:-1] + b', "added_later": {"k": [1, 2]}}'
    publisher = await supervised(KafkaPublisher(settings))
    await publisher.publish(event, payload=payload)
    assert await first_record(settings, topic_for(event, settings.topic_prefix)) == payload


async def test_a_transient_error_keeps_the_producer(settings: Settings, supervised: Any) -> None:
    made: list[AIOKafkaProducer] = []

    class Hiccup(AIOKafkaProducer):
        failed = False

        async def send(self, *args: Any, **kwargs: Any) -> Any:
            if not Hiccup.failed:
                Hiccup.failed = True
                raise KafkaConnectionError("injected: one lost connection")
            return await super().send(*args, **kwargs)

    def factory(s: Settings) -> AIOKafkaProducer:
        made.append(Hiccup(bootstrap_servers=s.kafka_bootstrap_servers, acks="all"))
        return made[-1]

    publisher = await supervised(KafkaPublisher(settings, producer_factory=factory))
    with pytest.raises(PublishError) as raised:
        await publisher.publish(TaskEvents().status(1))
    assert raised.value.sent is False  # send() refused it: the record never left
    await publisher.publish(TaskEvents().status(1))
    assert publisher.replacements == 0
    assert len(made) == 1
