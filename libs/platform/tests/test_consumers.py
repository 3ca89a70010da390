"""Consumer supervision against the real broker: a FastStream subscriber whose group membership
dies (as aiokafka's coordination routine does in aio-libs/aiokafka#376/#582) is seen as not
assigned, its lag (committed vs end offsets, from the broker) grows while records arrive, and
it is recreated in the process, after which it consumes them and the lag falls back to zero.
It also fails if the two aiokafka internals the supervisor reads move (aiokafka is pinned)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiokafka.admin import NewTopic
from bcrao_platform.consumers import (
    ConsumerSupervisor,
    SupervisionPolicy,
    _idle_seconds,
    _membership_alive,
)
from bcrao_platform.topics import create_exact
from bcrao_testkit.chaos import LocalKafka
from bcrao_testkit.kafka_faults import kill_membership
from bcrao_testkit.topics import drop_topics
from bcrao_testkit.waits import eventually
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

pytestmark = pytest.mark.integration


@pytest.fixture
async def kafka_prefix(kafka_bootstrap: str) -> AsyncIterator[str]:
    prefix = f"supervise{secrets.token_hex(4)}."
    yield prefix
    await drop_topics(kafka_bootstrap, prefix)


def lag(registry: CollectorRegistry, topic: str) -> float | None:
    """The lag summed over the topic's partitions; None before any was measured."""
    samples = [
        sample.value
        for family in registry.collect()
        if family.name == "test_consumer_lag"
        for sample in family.samples
        if sample.labels["topic"] == topic
    ]
    return sum(samples) if samples else None


def lag_only_supervisor(bootstrap: str, registry: CollectorRegistry) -> ConsumerSupervisor:
    """A supervisor that measures lag and recreates nothing (its watched consumers are given
    `not_recreated`)."""
    return ConsumerSupervisor(
        bootstrap,
        registry=registry,
        prefix="test",
        policy=SupervisionPolicy(rejoin_seconds=600.0, poll_seconds=600.0, interval=0.1),
        on_fatal=lambda: None,
    )


async def not_recreated() -> None:
    raise AssertionError("nothing here is recreated (rejoin_seconds=600)")


async def test_a_consumer_that_lost_its_group_is_recreated_and_catches_up(
    kafka_bootstrap: str, kafka_prefix: str
) -> None:
    topic, group = f"{kafka_prefix}events", f"{kafka_prefix}group"
    seen: list[bytes] = []
    broker = KafkaBroker(kafka_bootstrap)
    subscriber = broker.subscriber(
        topic,
        group_id=group,
        batch=True,
        batch_timeout_ms=20,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="earliest",
    )

    @subscriber
    async def handle(body: list[bytes]) -> None:
        seen.extend(body)

    registry = CollectorRegistry()
    fatal: list[bool] = []
    supervisor = ConsumerSupervisor(
        kafka_bootstrap,
        registry=registry,
        prefix="test",
        policy=SupervisionPolicy(rejoin_seconds=1.0, poll_seconds=60.0, interval=0.1),
        on_fatal=lambda: fatal.append(True),
    )
    await broker.start()
    try:
        supervisor.watch_faststream(subscriber, "events")

        async def checked_ready() -> bool:
            await supervisor.check()
            return supervisor.ready()[0]

        async def checked_lag_zero() -> bool:
            await supervisor.check()
            return lag(registry, topic) == 0

        await eventually(checked_ready, "the consumer holds its partitions")
        await broker.publish(b"before", topic)
        await eventually(lambda: b"before" in seen, "the first record consumed")
        await eventually(checked_lag_zero, "lag back to zero")
        first = subscriber.consumer
        assert first is not None
        assert _idle_seconds(first) < 60.0  # the two aiokafka internals read are still there
        assert _membership_alive(first)

        kill_membership(first)
        await eventually(lambda: not _membership_alive(first), "the membership task ended")
        for n in range(5):
            await broker.publish(f"during-{n}".encode(), topic)

        await supervisor.check()  # the first look: unhealthy, not yet overdue
        ready, report = supervisor.ready()
        assert not ready
        assert report["events"]["assigned"] is False
        assert lag(registry, topic) == 5  # committed offsets stand still, the end moved on
        assert subscriber.consumer is first  # not recreated before the bound

        await eventually(checked_ready, "recreated and holding its partitions again")
        assert subscriber.consumer is not first
        assert registry.get_sample_value("test_consumer_recreated_total", {"consumer": "events"})
        await eventually(
            lambda: all(f"during-{n}".encode() in seen for n in range(5)),
            "the records sent while it was out consumed",
        )
        await eventually(checked_lag_zero, "lag back to zero after recreation")
        assert not fatal
    finally:
        await supervisor.stop()
        await broker.stop()


async def test_lag_is_absent_not_stale_while_the_broker_does_not_answer(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    """A broker of its own, frozen (SIGSTOP: it holds its sockets and answers nothing) and
    thawed: while it does not answer the lag series go away and `*_consumer_lag_measured` is 0
    (a stale 0 read as "nothing waits" during an outage); once it answers again both come back.
    The lag is the broker's view (end offsets, the group's committed offsets), so a group with
    no member running is enough: no consumer has to rejoin after the freeze.
    kafka_bootstrap: only where the shared broker runs does this machine have Kafka at all."""
    kafka = LocalKafka(tmp_path)
    await asyncio.to_thread(kafka.start)
    topic = "lagged.events"
    registry = CollectorRegistry()
    supervisor = lag_only_supervisor(kafka.bootstrap, registry)

    def measured() -> float | None:
        return registry.get_sample_value("test_consumer_lag_measured")

    async def measured_lag(expected: float) -> bool:
        await supervisor.check()
        return lag(registry, topic) == expected and measured() == 1

    try:
        await create_exact(kafka.bootstrap, [NewTopic(topic, 2, 1)])
        supervisor.watch(
            "events",
            topics=[topic],
            group="lagged.group",
            current=lambda: None,
            recreate=not_recreated,
        )
        await eventually(lambda: measured_lag(0), "lag measured", hang_guard=60)
        broker = KafkaBroker(kafka.bootstrap)
        await broker.start()
        try:
            for n in range(3):
                await broker.publish(f"waiting-{n}".encode(), topic)
        finally:
            await broker.stop()
        await eventually(lambda: measured_lag(3), "three records waiting", hang_guard=60)

        kafka.freeze()
        try:
            await supervisor.check()  # its requests time out (10 s): the broker does not answer
        finally:
            kafka.thaw()
        assert measured() == 0
        assert lag(registry, topic) is None  # absent, not its last value (3)

        await eventually(lambda: measured_lag(3), "lag measured again", hang_guard=60)
    finally:
        kafka.thaw()
        await supervisor.stop()
        await asyncio.to_thread(kafka.stop)


async def test_the_lag_clients_ask_the_broker_about_the_watched_topics_only(
    kafka_bootstrap: str, kafka_prefix: str
) -> None:
    """The admin client and the group-less consumer that measure lag follow no topic of their
    own, and aiokafka then refreshes the whole cluster's metadata every 5 minutes: on a broker
    of thousands of partitions, megabytes a refresh that each left the service a few MiB bigger.
    After a refresh (what that timer does), they hold the watched topics only."""
    watched, other = f"{kafka_prefix}watched", f"{kafka_prefix}other"
    await create_exact(kafka_bootstrap, [NewTopic(watched, 2, 1), NewTopic(other, 1, 1)])
    registry = CollectorRegistry()
    supervisor = lag_only_supervisor(kafka_bootstrap, registry)

    supervisor.watch(
        "events",
        topics=[watched],
        group=f"{kafka_prefix}group",
        current=lambda: None,
        recreate=not_recreated,
    )

    async def measured() -> bool:
        await supervisor.check()
        return lag(registry, watched) == 0

    try:
        await eventually(measured, "lag measured")
        for client in (supervisor._admin, supervisor._offsets):
            inner = client._client  # type: ignore[union-attr]
            assert await inner.force_metadata_update()  # the 5-minute refresh, now
            assert inner.cluster.topics() == {watched}  # not `other`, nor the cluster's rest
    finally:
        await supervisor.stop()
