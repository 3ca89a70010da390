"""A FastStream broker's producer broken the way a broker restart leaves it, and replaced."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

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


@asynccontextmanager
async def started(
    bootstrap: str, prefix: str, *, renewing: bool
) -> AsyncIterator[tuple[KafkaBroker, DefaultPublisher, ProducerRenewal | None]]:
    """A broker (renewing its producer or not) whose publisher has sent one record."""
    router = KafkaRouter()
    publisher = router.publisher(f"{prefix}events")
    broker = KafkaBroker(bootstrap, acks="all", enable_idempotence=True)
    renewal = renew_broken_producers(broker) if renewing else None
    broker.include_router(router)
    await broker.start()
    try:
        await publisher.publish(b"first", key=b"k")
        yield broker, publisher, renewal
    finally:
        await broker.stop()


async def test_without_renewal_a_broken_producer_stays_broken(
    kafka_bootstrap: str, kafka_prefix: str
) -> None:
    async with started(kafka_bootstrap, kafka_prefix, renewing=False) as (broker, publisher, _):
        break_sequences(broker)
        for _ in range(3):  # not a hiccup: every later send fails the same way
            with pytest.raises(OutOfOrderSequenceNumber):
                await publisher.publish(b"again", key=b"k")


async def test_a_broken_producer_is_replaced_once_and_sends_go_on(
    kafka_bootstrap: str, kafka_prefix: str
) -> None:
    async with started(kafka_bootstrap, kafka_prefix, renewing=True) as (broker, publisher, r):
        assert r is not None
        renewal = r
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
    assert renewal.generation == 2


async def test_an_ordinary_failure_keeps_the_producer(
    kafka_bootstrap: str, kafka_prefix: str
) -> None:
    async with started(kafka_bootstrap, kafka_prefix, renewing=True) as (_, _, renewal):
        assert renewal is not None
        await renewal.renew(TimeoutError("slow broker"), renewal.generation)
        assert renewal.generation == 0
