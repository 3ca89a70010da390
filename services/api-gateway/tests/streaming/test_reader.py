"""The broadcast reader against the real Kafka broker (root conftest `kafka_bootstrap`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError
from bcrao_contracts.events import topic_for
from bcrao_contracts.topics import Topics
from bcrao_gateway.deadletters import DeadLetterWriter
from bcrao_gateway.publisher import KafkaPublisher
from bcrao_gateway.streaming.hub import TaskHub
from bcrao_gateway.streaming.reader import StreamReader
from bcrao_gateway.streaming.settings import StreamSettings
from bcrao_testkit.servers import free_port
from bcrao_testkit.waits import eventually

from ..conftest import make_settings
from .conftest import TaskEvents

pytestmark = pytest.mark.integration


@pytest.fixture
def topics() -> Topics:
    return Topics(f"t{uuid4().hex[:10]}.")


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    p = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=True)
    await p.start()
    try:
        yield p
    finally:
        await p.stop()


async def publish(producer: AIOKafkaProducer, topics: Topics, *events) -> None:
    for event in events:
        await producer.send_and_wait(
            topic_for(event, topics.prefix), event.to_json(), key=event.key
        )


@contextlib.asynccontextmanager
async def reading(
    bootstrap: str, topics: Topics, wall_clock=time.time, **kw
) -> AsyncIterator[tuple[TaskHub, StreamReader]]:
    settings = StreamSettings(**kw)
    hub = TaskHub(settings)
    reader = StreamReader(
        bootstrap, topics, hub, settings, partition_refresh_seconds=0.5, wall_clock=wall_clock
    )
    await reader.start()
    try:
        yield hub, reader
    finally:
        await reader.stop()


def ids(frames: list[bytes]) -> list[int]:
    return [int(f.split(b"\n", 1)[0].removeprefix(b"id: ")) for f in frames]


async def test_replay_rebuilds_a_task_published_before_the_reader_started(
    kafka_bootstrap, producer, topics, task
):
    await publish(producer, topics, task.status(1), task.chunk(2), task.chunk(3))
    await publish(producer, topics, task.stored(4))
    # Garbage on a stream topic is skipped, not fatal.
    await producer.send_and_wait(topics.progress, b"{not json", key=b"x")
    async with reading(kafka_bootstrap, topics) as (hub, reader):
        await eventually(lambda: reader.caught_up)
        assert hub.ready
        sub = hub.subscribe(task.task_id)
        assert sub is not None
        assert ids(hub.take(sub)) == [1, 2, 3, 4]
        assert reader.unparsable == 1


async def test_replay_window_leaves_out_older_events(kafka_bootstrap, producer, topics, task):
    # The older event is stamped a minute in the past (CreateTime) instead of waiting for it to age.
    older = task.status(1)
    await producer.send_and_wait(
        topic_for(older, topics.prefix),
        older.to_json(),
        key=older.key,
        timestamp_ms=int(time.time() * 1000) - 60_000,
    )
    newer = type(task)()
    sent = await producer.send_and_wait(
        topic_for(newer.status(1), topics.prefix),
        newer.status(1).to_json(),
        key=newer.status(1).key,
    )
    # "Now" is pinned just after the newer event, whatever the time the reader takes to start.
    now = sent.timestamp / 1000 + 0.5
    async with reading(kafka_bootstrap, topics, wall_clock=lambda: now, replay_seconds=1.0) as (
        hub,
        reader,
    ):
        await eventually(lambda: reader.caught_up)
        assert hub.knows(newer.task_id)
        assert not hub.knows(task.task_id)


async def test_two_readers_both_receive_every_event(kafka_bootstrap, producer, topics, task):
    await publish(producer, topics, task.status(1))  # creates the topic before the readers start
    async with (
        reading(kafka_bootstrap, topics) as (hub_a, reader_a),
        reading(kafka_bootstrap, topics) as (hub_b, reader_b),
    ):
        await eventually(lambda: reader_a.caught_up and reader_b.caught_up)
        live = [type(task)() for _ in range(5)]
        for t in live:
            await publish(producer, topics, t.status(1), t.chunk(2), t.failed(3))
        for hub in (hub_a, hub_b):
            await eventually(lambda hub=hub: all(hub.knows(t.task_id) for t in live))
            for t in live:
                await eventually(lambda hub=hub, t=t: len(hub.take(hub.subscribe(t.task_id))) == 3)


async def test_topics_created_after_start_are_read_from_their_beginning(
    kafka_bootstrap, producer, topics, task
):
    async with reading(kafka_bootstrap, topics) as (hub, reader):
        await eventually(lambda: reader.caught_up)  # nothing to replay: no topic exists yet
        await publish(producer, topics, task.status(1), task.chunk(2))
        await eventually(lambda: hub.knows(task.task_id))
        await eventually(lambda: len(hub.take(hub.subscribe(task.task_id))) == 2)


# ---- supervision: the reader survives any failure of its Kafka clients ----


class BreakableConsumer(AIOKafkaConsumer):
    """A real consumer whose fetch fails on demand, and whose close then raises CancelledError,
    as aiokafka's does after a broker outage (the reader task used to die of exactly that)."""

    def __init__(self, switch: dict[str, Any], **kw: Any) -> None:
        super().__init__(**kw)
        self._switch = switch
        self._failed = False

    async def getmany(self, *partitions: Any, **kw: Any) -> Any:
        error = self._switch.get("fail_fetch")
        if error is not None:
            self._failed = True
            raise error
        return await super().getmany(*partitions, **kw)

    async def start(self) -> None:
        if self._switch.get("refuse_start"):
            raise KafkaConnectionError("injected: broker unreachable")
        await super().start()

    async def stop(self) -> None:
        await super().stop()
        if self._failed:
            raise asyncio.CancelledError  # what aiokafka's close raised after the outage


def breakable(switch: dict[str, Any]):
    def factory(bootstrap: str) -> AIOKafkaConsumer:
        return BreakableConsumer(
            switch, bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False
        )

    return factory


@contextlib.asynccontextmanager
async def supervised(bootstrap: str, topics: Topics, switch: dict[str, Any], **kw):
    settings = StreamSettings(**kw)
    hub = TaskHub(settings)
    reader = StreamReader(
        bootstrap,
        topics,
        hub,
        settings,
        partition_refresh_seconds=0.5,
        consumer_factory=breakable(switch),
    )
    await reader.start()
    try:
        yield hub, reader
    finally:
        await reader.stop()


@pytest.mark.parametrize(
    "error",
    [KafkaConnectionError("injected: connection lost"), RuntimeError("injected: not Kafka's")],
    ids=["kafka-error", "other-error"],
)
async def test_events_flow_again_after_the_consumer_fails(kafka_bootstrap, producer, topics, error):
    first, second = TaskEvents(), TaskEvents()
    await publish(producer, topics, first.status(1))
    switch: dict[str, Any] = {}
    async with supervised(kafka_bootstrap, topics, switch) as (hub, reader):
        await eventually(lambda: hub.knows(first.task_id))
        switch["fail_fetch"] = error
        await eventually(lambda: reader.restarts >= 1)
        switch.pop("fail_fetch")
        await publish(producer, topics, second.status(1), second.chunk(2))
        await eventually(lambda: hub.knows(second.task_id))
        await eventually(lambda: len(hub.take(hub.subscribe(second.task_id))) == 2)
        assert reader.alive


async def test_a_reader_that_cannot_reach_the_broker_is_not_healthy_until_it_can(
    kafka_bootstrap, producer, topics
):
    task = TaskEvents()
    switch: dict[str, Any] = {"refuse_start": True}
    async with supervised(kafka_bootstrap, topics, switch) as (hub, reader):
        await eventually(lambda: reader.restarts >= 2)
        assert reader.alive
        assert not reader.connected
        assert not reader.healthy
        assert not hub.ready
        switch.pop("refuse_start")
        await eventually(lambda: reader.healthy)
        await publish(producer, topics, task.status(1))
        await eventually(lambda: hub.knows(task.task_id))


async def test_stop_ends_a_reader_that_is_between_two_attempts(topics):
    settings = StreamSettings()
    reader = StreamReader(f"127.0.0.1:{free_port()}", topics, TaskHub(settings), settings)
    await reader.start()
    await eventually(lambda: reader.restarts >= 1)
    await reader.stop()
    assert not reader.alive


async def test_unparsable_live_messages_are_dead_lettered_and_replayed_ones_are_not(
    kafka_bootstrap, producer, topics
):
    """Through the gateway's own publisher, with the shared header schema; a poison message just
    under the broker's limit is dead-lettered as a reference (its copy would not fit)."""
    await producer.send_and_wait(topics.progress, b"{old garbage", key=b"old")
    settings = make_settings(kafka_bootstrap_servers=kafka_bootstrap, topic_prefix=topics.prefix)
    publisher = KafkaPublisher(settings)
    await publisher.start()
    writer = DeadLetterWriter(publisher, 10.0)
    stream = StreamSettings()
    hub = TaskHub(stream)
    reader = StreamReader(
        kafka_bootstrap,
        topics,
        hub,
        stream,
        partition_refresh_seconds=0.5,
        dead_letters=writer,
    )
    await reader.start()
    try:
        await eventually(lambda: reader.caught_up and reader.unparsable == 1)
        unknown = await producer.send_and_wait(topics.failed, b'{"event_type": "Nope"}', key=b"k")
        huge = await producer.send_and_wait(topics.stored, b"x" * 950_000, key=b"big")
        await eventually(lambda: writer.written == 2)
        letters = {
            r.topic: r
            for r in await read_all(
                kafka_bootstrap, [f"{topics.failed}.dlq", f"{topics.stored}.dlq"]
            )
        }
    finally:
        await reader.stop()
        await publisher.stop()
    first = letters[f"{topics.failed}.dlq"]
    headers = {name: value.decode() for name, value in first.headers}
    assert first.value == b'{"event_type": "Nope"}'
    assert headers["x-dlq-reason"] == "unsupported"
    assert headers["x-dlq-original-topic"] == topics.failed
    assert headers["x-dlq-original-offset"] == str(unknown.offset)
    assert headers["x-dlq-consumer"] == "api-gateway/stream-reader"
    assert headers["x-dlq-payload"] == "inline"
    big = letters[f"{topics.stored}.dlq"]
    assert dict(big.headers)["x-dlq-payload"] == b"reference"
    assert json.loads(big.value)["ref"] == {
        "topic": topics.stored,
        "partition": huge.partition,
        "offset": huge.offset,
    }
    # The replayed "{old garbage" predates this process: skipped, not dead-lettered again.
    assert f"{topics.progress}.dlq" not in letters


async def read_all(bootstrap: str, names: list[str]) -> list[Any]:
    consumer = AIOKafkaConsumer(
        *names, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    try:
        found: list[Any] = []
        async with asyncio.timeout(30):
            while len(found) < len(names):
                batch = await consumer.getmany(timeout_ms=500)
                found += [r for records in batch.values() for r in records]
        return found
    finally:
        await consumer.stop()


async def test_a_reader_whose_consumer_lost_its_partitions_is_recreated(
    kafka_bootstrap, producer, topics, task
):
    """The gateway's broadcast reader under bcrao_platform.consumers: its consumer loses its
    partitions while it keeps polling; the supervisor sees it unassigned, and after the bound
    ends the session, and the reader's next session reads again."""
    from bcrao_gateway.streaming.reader import stream_topics
    from bcrao_platform.consumers import ConsumerSupervisor, SupervisionPolicy
    from prometheus_client import CollectorRegistry

    other = type(task)()  # every stream topic exists before the reader starts
    await publish(producer, topics, task.status(1), other.stored(1), other.failed(2))
    settings = StreamSettings()
    hub = TaskHub(settings)
    reader = StreamReader(kafka_bootstrap, topics, hub, settings)  # no refresh to heal it
    supervisor = ConsumerSupervisor(
        kafka_bootstrap,
        registry=CollectorRegistry(),
        prefix="test",
        policy=SupervisionPolicy(rejoin_seconds=1.0, poll_seconds=60.0),
        on_fatal=lambda: pytest.fail("the reader could not be recreated"),
    )
    supervisor.watch(
        "stream-reader",
        topics=stream_topics(topics),
        group=None,
        current=lambda: reader.consumer,
        recreate=reader.restart_session,
    )

    async def checked_ready() -> bool:
        await supervisor.check()
        return supervisor.ready()[0]

    await reader.start()
    try:
        await eventually(lambda: reader.caught_up, "caught up")
        await eventually(checked_ready, "the reader's consumer holds every partition")
        first = reader.consumer
        assert first is not None
        first.assign([])  # the fault: no partition any more, polling on
        await supervisor.check()
        assert supervisor.ready()[1]["stream-reader"]["assigned"] is False
        await eventually(checked_ready, "recreated: a new session holds every partition")
        assert reader.consumer is not first
        await publish(producer, topics, task.chunk(2), task.stored(3))
        sub = hub.subscribe(task.task_id)
        assert sub is not None
        frames: list[bytes] = []

        def complete() -> bool:
            frames.extend(hub.take(sub))
            return ids(frames) == [1, 2, 3]

        await eventually(complete, "the events after the recreation are read")
    finally:
        await supervisor.stop()
        await reader.stop()
