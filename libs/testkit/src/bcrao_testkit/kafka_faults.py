"""Faults on the broker's data: poison records, a rewound consumer group, and DLQ look-ups."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from bcrao_contracts.topics import ALL, dlq
from bcrao_platform.topics import create_exact

EXAMPLES = Path(__file__).resolve().parents[3] / "contracts" / "examples" / "v1"
EVENT_OF = {
    "drafts.generate-requested": "GenerateRequested",
    "drafts.progress": "ProgressUpdated",
    "drafts.generated": "DraftGenerated",
    "drafts.failed": "GenerationFailed",
    "drafts.stored": "DraftStored",
}
BROKER_LIMIT = 1_048_576  # the producer's and broker's default maximum record size
BIG_TOPIC_LIMIT = 4 * 1024 * 1024  # source topics accept the 2 MB poison record


async def create_topics(bootstrap: str, prefix: str, partitions: int = 24) -> None:
    """Every topic before any service starts; source topics take records up to 4 MB.

    Their dead-letter topics keep the broker's default limit: a dead letter must fit there.
    """
    big = {"max.message.bytes": str(BIG_TOPIC_LIMIT)}
    wanted = [NewTopic(prefix + t, partitions, 1, topic_configs=big) for t in ALL]
    wanted += [NewTopic(dlq(prefix + t), 1, 1) for t in ALL]
    await create_exact(bootstrap, wanted)


def _example(topic: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EXAMPLES / f"{EVENT_OF[topic]}.json").read_text())
    event["task_id"] = event["correlation_id"] = str(uuid.uuid4())
    event["event_id"] = str(uuid.uuid4())
    return event


def _padded(topic: str, size: int) -> bytes:
    """A record of about `size` bytes that breaks the schema (required fields missing)."""
    head = {"event_type": EVENT_OF[topic], "schema_version": 1, "task_id": str(uuid.uuid4())}
    skeleton = json.dumps({**head, "padding": ""}).encode()
    return json.dumps({**head, "padding": "x" * (size - len(skeleton))}).encode()


def poison_records(topic: str) -> dict[str, tuple[bytes | None, bytes]]:
    """name → (key, value) of every poison kind for one topic (unprefixed name)."""
    kinds: dict[str, tuple[bytes | None, bytes]] = {}
    key = str(uuid.uuid4()).encode()
    kinds["invalid-json"] = (key, b'{"event_type": "' + EVENT_OF[topic].encode() + b'", oops')
    wrong = _example(topic)
    wrong["task_id"] = "not-a-uuid"
    wrong["occurred_at"] = 12
    kinds["wrong-schema"] = (key, json.dumps(wrong).encode())
    unknown = {**_example(topic), "event_type": "DraftExploded"}
    kinds["unknown-type"] = (key, json.dumps(unknown).encode())
    # A version no consumer knows (ProgressUpdated has a real version 2, read side by side).
    future = {**_example(topic), "schema_version": 99}
    kinds["schema-unknown-version"] = (str(future["task_id"]).encode(), json.dumps(future).encode())
    kinds["just-under-1mb"] = (key, _padded(topic, BROKER_LIMIT - 2048))
    kinds["2mb"] = (key, _padded(topic, 2 * 1024 * 1024))
    no_key = _example(topic)
    del no_key["task_id"]
    kinds["no-key"] = (None, json.dumps(no_key).encode())
    return kinds


@dataclass(frozen=True)
class Placed:
    kind: str
    topic: str
    partition: int
    offset: int
    size: int


async def inject_poison(bootstrap: str, prefix: str) -> list[Placed]:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, max_request_size=BIG_TOPIC_LIMIT, acks="all"
    )
    await producer.start()
    placed: list[Placed] = []
    try:
        for topic in ALL:
            for kind, (key, value) in poison_records(topic).items():
                meta = await producer.send_and_wait(prefix + topic, value, key=key)
                placed.append(Placed(kind, prefix + topic, meta.partition, meta.offset, len(value)))
    finally:
        await producer.stop()
    return placed


async def dead_letters(
    bootstrap: str, topic: str, read_timeout: float = 20
) -> list[tuple[dict[str, bytes], bytes]]:
    """Every record on `topic`'s DLQ so far: (headers, value)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        max_partition_fetch_bytes=BIG_TOPIC_LIMIT,
        fetch_max_bytes=BIG_TOPIC_LIMIT * 2,
    )
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(dlq(topic)) or set()
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(dlq(topic)) or set()
        tps = [TopicPartition(dlq(topic), p) for p in partitions]
        if not tps:
            return []
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        await consumer.seek_to_beginning(*tps)
        found: list[tuple[dict[str, bytes], bytes]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + read_timeout
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            if loop.time() > deadline:  # what was read so far; a test then names what is missing
                break
            batch = await consumer.getmany(timeout_ms=1000)
            for records in batch.values():
                for record in records:
                    headers = {k: v for k, v in (record.headers or ())}
                    found.append((headers, record.value or b""))
        return found
    finally:
        await consumer.stop()


def dead_lettered(placed: Placed, letters: list[tuple[dict[str, bytes], bytes]]) -> bool:
    """True when some dead letter names this record in the shared DLQ headers."""
    for headers, _value in letters:
        named = (
            headers.get("x-dlq-original-topic", b"").decode() == placed.topic
            and headers.get("x-dlq-original-partition", b"").decode() == str(placed.partition)
            and headers.get("x-dlq-original-offset", b"").decode() == str(placed.offset)
        )
        if named:
            return True
    return False


async def rewind_group(bootstrap: str, group: str) -> dict[str, int]:
    """Commit the earliest offset of every partition `group` has committed (group must be empty).

    The next member of the group reads everything again: a duplicate delivery of all history.
    Returns topic → partitions rewound.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    tps = list(committed)
    if not tps:
        return {}
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(tps)
        earliest = await consumer.beginning_offsets(tps)
        await consumer.commit({tp: earliest[tp] for tp in tps})
    finally:
        await consumer.stop()
    counts: dict[str, int] = {}
    for tp in tps:
        counts[tp.topic] = counts.get(tp.topic, 0) + 1
    return counts


async def group_lag(bootstrap: str, group: str) -> int | None:
    """Records not yet committed by `group` over the partitions it tracks (None: none tracked)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    if not committed:
        return None
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(list(committed))
    finally:
        await consumer.stop()
    return sum(max(0, ends[tp] - meta.offset) for tp, meta in committed.items())


async def group_members(bootstrap: str, group: str) -> int:
    """How many members the group has right now (0 when it is empty or unknown)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    for response in described:
        for entry in response.groups:
            # (error_code, group_id, state, protocol_type, protocol, members, ...)
            return len(entry[5])
    return 0


def break_sequences(broker: Any, skip: int = 7) -> None:
    """Puts the sequence numbers of a FastStream broker's idempotent producer `skip` ahead on
    every partition it wrote to, as a broker restart can leave them: each later send there is
    refused with OutOfOrderSequenceNumber until the producer is replaced."""
    producer: AIOKafkaProducer = broker.config.producer._producer.producer
    manager = producer._txn_manager
    assert manager is not None, "only an idempotent producer numbers its batches"
    for tp in list(manager._sequence_numbers):
        manager.increment_sequence_number(tp, skip)


def kill_membership(consumer: AIOKafkaConsumer) -> None:
    """End `consumer`'s group-membership task with an unexpected error, the way aiokafka's
    coordination routine dies in aio-libs/aiokafka#376 and #582: the member stops taking part
    in its group, and every later `getmany()` raises the same `KafkaError` (which FastStream's
    consume loop logs and retries for ever). Reaches into aiokafka's coordinator on purpose:
    that is the state being reproduced."""
    coordinator: Any = consumer._coordinator

    async def crashed() -> None:
        raise AssertionError("injected: the coordination routine crashed")

    coordinator.ensure_coordinator_known = crashed
    coordinator.coordinator_dead()  # wakes the routine, which then meets the crash
