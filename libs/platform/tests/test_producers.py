"""A FastStream broker's producer broken the way a broker restart leaves it, and replaced."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest
from aiokafka.errors import OutOfOrderSequenceNumber
from bcrao_platform.producers import ProducerRenewal, renew_broken_producers
from bcrao_testkit.kafka_faults import break_sequences
from bcrao_testkit.topics import drop_topics
from bcrao_testkit.waits import eventually
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.kafka.publisher.usecase import DefaultPublisher

pytestmark = pytest.mark.integration


@pytest.fixture
async def kafka_prefix(kafka_bootstrap: str) -> AsyncIterator[str]:
    prefix = f"renew{secrets.token_hex(4)}."
    yield prefix
    await drop_topics(kafka_bootstrap, prefix)


async def started(
    bootstrap: str, prefix: str, *, renewing: bool
) -> tuple[KafkaBroker, DefaultPublisher, ProducerRenewal | None]:
    router = KafkaRouter()
    publisher = router.publisher(f"{prefix}events")
    broker = KafkaBroker(bootstrap, acks="all", enable_idempotence=True)
    renewal = renew_broken_producers(broker) if renewing else None
    broker.include_router(router)
    await broker.start()
    await publisher.publish(b"first", key=b"k")
    return broker, publisher, renewal


async def test_without_renewal_a_broken_producer_stays_broken(
    kafka_bootstrap: str, kafka_prefix: str
) -> None:
    broker, publisher, _ = await started(kafka_bootstrap, kafka_prefix, renewing=False)
    try:
        break_sequences(broker)
        for _ in range(3):  # not a hiccup: every later send fails the same way
            with pytest.raises(OutOfOrderSequenceNumber):
                await publisher.publish(b"again", key=b"k")
    finally:
        await broker.stop()


async def test_a_broken_producer_is_replaced_once_and_sends_go_on(
    kafka_bootstrap: str, kafka_prefix: str
) -> None:
    broker, publisher, renewal = await started(kafka_bootstrap, kafka_prefix, renewing=True)
    assert renewal is not None
    try:
        break_sequences(broker)
        # Two unconfirmed sends (one batch), whose acknowledgements fail later: both see the
        # breakage, the producer is replaced once.
        pending = [await publisher.publish(b"p", key=b"k", no_confirm=True) for _ in range(2)]
        failures = await asyncio.gather(*pending, return_exceptions=True)
        assert all(isinstance(f, OutOfOrderSequenceNumber) for f in failures), failures
        await eventually(lambda: renewal.generation == 1, "the producer replaced")
        assert (await publisher.publish(b"after", key=b"k")).offset >= 1

        break_sequences(broker)  # the new one breaks too: an awaited send sees it
        with pytest.raises(OutOfOrderSequenceNumber):
            await publisher.publish(b"confirmed", key=b"k")
        await eventually(lambda: renewal.generation == 2, "the producer replaced again")
        assert (await publisher.publish(b"after", key=b"k")).offset >= 2
    finally:
        await broker.stop()
    assert renewal.generation == 2


async def test_an_ordinary_failure_keeps_the_producer(
    kafka_bootstrap: str, kafka_prefix: str
) -> None:
    broker, _, renewal = await started(kafka_bootstrap, kafka_prefix, renewing=True)
    assert renewal is not None
    try:
        await renewal.renew(TimeoutError("slow broker"), renewal.generation)
        assert renewal.generation == 0
    finally:
        await broker.stop()
