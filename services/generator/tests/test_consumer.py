"""OrderedConsumer against the real broker: concurrency past the partition count, ordered commits,
redelivery of whatever was unfinished, dead letters after N attempts."""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter

import pytest
from aiokafka import ConsumerRecord, TopicPartition
from bcrao_generator.consumer import ConsumerConfig, OrderedConsumer
from bcrao_generator.retries import Poison
from bcrao_testkit.waits import eventually

from .kafka_helpers import committed, create_topics, produce

pytestmark = pytest.mark.integration

Record = ConsumerRecord[bytes, bytes]


def _config(bootstrap: str, topic: str, group: str, **kw: object) -> ConsumerConfig:
    return ConsumerConfig(
        bootstrap_servers=bootstrap,
        topic=topic,
        group_id=group,
        commit_interval=0.05,
        retry_base=0.01,
        retry_cap=0.05,
        **kw,  # type: ignore[arg-type]
    )


async def _no_dead_letters(record: Record, reason: str, exc: BaseException, attempts: int) -> None:
    raise AssertionError(f"unexpected dead letter {reason}: {exc!r}")


class Gate:
    """Handler that blocks every message until released; counts what runs at once."""

    def __init__(self, target: int) -> None:
        self.running = 0
        self.peak = 0
        self.seen: Counter[bytes] = Counter()
        self.finished: list[bytes] = []
        self.reached = asyncio.Event()
        self.release = asyncio.Event()
        self._target = target

    async def __call__(self, record: Record) -> None:
        self.seen[record.value] += 1
        self.running += 1
        self.peak = max(self.peak, self.running)
        if self.running >= self._target:
            self.reached.set()
        try:
            await self.release.wait()
        finally:
            self.running -= 1
        self.finished.append(record.value)


async def test_runs_more_messages_at_once_than_partitions(kafka_bootstrap: str) -> None:
    topic, group = f"gc{secrets.token_hex(4)}.in", f"g{secrets.token_hex(4)}"
    await create_topics(kafka_bootstrap, [topic], partitions=2)
    await produce(kafka_bootstrap, topic, [(None, b"m%d" % i, i % 2) for i in range(50)])
    gate = Gate(target=40)
    consumer = OrderedConsumer(
        _config(kafka_bootstrap, topic, group, concurrency=40), gate, _no_dead_letters
    )
    await consumer.start()
    try:
        await asyncio.wait_for(gate.reached.wait(), 30)
        assert consumer.in_flight == 40  # the cap holds: the other 10 wait, unfetched
        gate.release.set()
        await eventually(lambda: _done(gate, 50))
    finally:
        await consumer.stop(grace=5)
    assert gate.peak == 40
    assert sorted(gate.seen) == sorted(b"m%d" % i for i in range(50))
    tps = [TopicPartition(topic, p) for p in (0, 1)]
    assert await committed(kafka_bootstrap, group, tps) == {0: 25, 1: 25}


async def _done(gate: Gate, count: int) -> bool:
    return len(gate.finished) >= count


async def test_a_slow_message_holds_back_only_its_own_partition(kafka_bootstrap: str) -> None:
    topic, group = f"gc{secrets.token_hex(4)}.in", f"g{secrets.token_hex(4)}"
    await create_topics(kafka_bootstrap, [topic], partitions=2)
    await produce(
        kafka_bootstrap,
        topic,
        [(None, b"slow", 0), (None, b"a1", 0), (None, b"a2", 0)]
        + [(None, b"b%d" % i, 1) for i in range(3)],
    )
    slow_release = asyncio.Event()
    done: list[bytes] = []

    async def handle(record: Record) -> None:
        if record.value == b"slow":
            await slow_release.wait()
        done.append(record.value)

    consumer = OrderedConsumer(_config(kafka_bootstrap, topic, group), handle, _no_dead_letters)
    a, b = TopicPartition(topic, 0), TopicPartition(topic, 1)

    async def b_committed() -> bool:
        return (await committed(kafka_bootstrap, group, [b]))[1] == 3

    await consumer.start()
    try:
        await eventually(b_committed)
        await eventually(lambda: _contains(done, [b"a1", b"a2"]))
        # a1 and a2 finished, but the slow offset 0 before them did not: A stays at 0 at most.
        assert (await committed(kafka_bootstrap, group, [a]))[0] in (None, 0)
        slow_release.set()

        async def a_committed() -> bool:
            return (await committed(kafka_bootstrap, group, [a]))[0] == 3

        await eventually(a_committed)
    finally:
        await consumer.stop(grace=5)


async def _contains(done: list[bytes], wanted: list[bytes]) -> bool:
    return all(w in done for w in wanted)


async def test_unfinished_messages_go_to_the_next_member_after_a_crash(
    kafka_bootstrap: str,
) -> None:
    topic, group = f"gc{secrets.token_hex(4)}.in", f"g{secrets.token_hex(4)}"
    await create_topics(kafka_bootstrap, [topic], partitions=4)
    values = [b"t%d" % i for i in range(100)]
    await produce(kafka_bootstrap, topic, [(v, v, None) for v in values])
    first = Gate(target=100)
    crashed = OrderedConsumer(_config(kafka_bootstrap, topic, group), first, _no_dead_letters)
    await crashed.start()
    await asyncio.wait_for(first.reached.wait(), 30)
    await crashed.abandon()  # nothing finished, nothing committed

    second = Gate(target=100)
    second.release.set()
    survivor = OrderedConsumer(_config(kafka_bootstrap, topic, group), second, _no_dead_letters)
    await survivor.start()
    try:
        await eventually(lambda: _done(second, 100))
    finally:
        await survivor.stop(grace=5)
    assert sorted(second.seen) == sorted(values)
    assert set(second.seen.values()) == {1}


async def test_stop_drains_in_flight_then_commits_and_hands_back_the_rest(
    kafka_bootstrap: str,
) -> None:
    topic, group = f"gc{secrets.token_hex(4)}.in", f"g{secrets.token_hex(4)}"
    await create_topics(kafka_bootstrap, [topic], partitions=1)
    await produce(kafka_bootstrap, topic, [(None, b"quick", 0), (None, b"stuck", 0)])
    started = asyncio.Event()

    async def handle(record: Record) -> None:
        if record.value == b"stuck":
            started.set()
            await asyncio.Event().wait()  # never finishes: cancelled after the grace

    consumer = OrderedConsumer(_config(kafka_bootstrap, topic, group), handle, _no_dead_letters)
    await consumer.start()
    await asyncio.wait_for(started.wait(), 30)
    await consumer.stop(grace=0.2)
    # "quick" (offset 0) is done and committed; "stuck" (offset 1) comes back to the next owner.
    assert await committed(kafka_bootstrap, group, [TopicPartition(topic, 0)]) == {0: 1}


async def test_failing_message_is_dead_lettered_after_max_attempts(kafka_bootstrap: str) -> None:
    topic, group = f"gc{secrets.token_hex(4)}.in", f"g{secrets.token_hex(4)}"
    await create_topics(kafka_bootstrap, [topic], partitions=1)
    await produce(
        kafka_bootstrap, topic, [(None, b"bad", 0), (None, b"poison", 0), (None, b"ok", 0)]
    )
    calls: Counter[bytes] = Counter()
    dead: list[tuple[bytes, str, int]] = []

    async def handle(record: Record) -> None:
        calls[record.value] += 1
        if record.value == b"bad":
            raise RuntimeError("always fails")
        if record.value == b"poison":
            raise Poison("unreadable", "not JSON")

    async def dead_letter(record: Record, reason: str, exc: BaseException, attempts: int) -> None:
        dead.append((record.value, reason, attempts))

    consumer = OrderedConsumer(
        _config(kafka_bootstrap, topic, group, max_attempts=3), handle, dead_letter
    )

    async def all_committed() -> bool:
        return (await committed(kafka_bootstrap, group, [TopicPartition(topic, 0)]))[0] == 3

    await consumer.start()
    try:
        await eventually(all_committed)
    finally:
        await consumer.stop(grace=5)
    assert calls == {b"bad": 3, b"poison": 1, b"ok": 1}
    assert sorted(dead) == [(b"bad", "exhausted", 3), (b"poison", "unreadable", 1)]


async def test_a_rebalance_keeps_work_that_stays_and_hands_back_work_that_moves(
    kafka_bootstrap: str,
) -> None:
    topic, group = f"gc{secrets.token_hex(4)}.in", f"g{secrets.token_hex(4)}"
    await create_topics(kafka_bootstrap, [topic], partitions=4)
    slow = [b"s%d" % p for p in range(4)]
    await produce(
        kafka_bootstrap, topic, [(None, s, p) for p, s in enumerate(slow)] + [(None, b"a1", 0)]
    )
    runs: Counter[bytes] = Counter()
    finished: Counter[bytes] = Counter()
    release = asyncio.Event()

    async def handle(record: Record) -> None:
        runs[record.value] += 1
        if record.value in slow:
            await release.wait()  # longer than the revoke grace
        finished[record.value] += 1

    config = _config(kafka_bootstrap, topic, group, rebalance_grace=0.3)
    first = OrderedConsumer(config, handle, _no_dead_letters)
    second = OrderedConsumer(config, handle, _no_dead_letters)
    tps = [TopicPartition(topic, p) for p in range(4)]
    await first.start()
    try:
        await eventually(lambda: _ran(runs, [*slow, b"a1"]))
        # a1 finished behind the unfinished s0: partition 0 stays at 0.
        assert (await committed(kafka_bootstrap, group, tps[:1]))[0] in (None, 0)
        await second.start()  # joins: every partition of the first member is revoked

        async def split() -> bool:
            kept, moved = first.partitions(), second.partitions()
            return len(kept) == len(moved) == 2 and kept | moved == {0, 1, 2, 3}

        await eventually(split)
        kept, moved = first.partitions(), second.partitions()
        # The new owner runs what moved; the first member keeps running what stayed.
        await eventually(lambda: _ran(runs, [slow[p] for p in moved], times=2))
        await eventually(lambda: _in_flight(first, len(kept)))
        release.set()

        async def all_done() -> bool:
            return await committed(kafka_bootstrap, group, tps) == {0: 2, 1: 1, 2: 1, 3: 1}

        await eventually(all_done, hang_guard=60)
    finally:
        await second.stop(grace=5)
        await first.stop(grace=5)
    # a1 had finished (uncommitted, behind s0): where partition 0 stayed, it is not run again.
    assert runs[b"a1"] == (1 if 0 in kept else 2)
    for p in kept:
        assert runs[slow[p]] == 1, f"partition {p} stayed: its running task was adopted"
    for p in moved:
        assert runs[slow[p]] == 2, f"partition {p} moved: cancelled, run by the new owner"
    assert all(finished[s] == 1 for s in slow)


async def _ran(runs: Counter[bytes], values: list[bytes], times: int = 1) -> bool:
    return all(runs[v] >= times for v in values)


async def _in_flight(consumer: OrderedConsumer, count: int) -> bool:
    return consumer.in_flight == count
