"""Real-broker helpers for the generator's consumer tests: topics, producing, committed offsets."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from bcrao_contracts.topics import Topics, dlq
from bcrao_platform.topics import create_exact

# Every topic these tests create, by broker: conftest.py deletes them when the session ends, so
# the shared local broker does not keep thousands of partitions (a broker restart loads each).
CREATED: dict[str, set[str]] = {}


def prefix() -> str:
    return f"gc{secrets.token_hex(4)}."


async def create_topics(
    bootstrap: str, names: list[str], partitions: int, config: dict[str, str] | None = None
) -> None:
    CREATED.setdefault(bootstrap, set()).update(names)
    await create_exact(
        bootstrap, [NewTopic(n, partitions, 1, topic_configs=config or {}) for n in names]
    )


async def delete_created_topics() -> None:
    for bootstrap, names in CREATED.items():
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            present = set(await admin.list_topics())
            # Topics a test's code created on its own (its DLQs) carry the same prefixes.
            prefixes = {name.split(".", 1)[0] + "." for name in names}
            doomed = sorted(t for t in present if t in names or t.startswith(tuple(prefixes)))
            if doomed:
                await admin.delete_topics(doomed)
        finally:
            await admin.close()
    CREATED.clear()


async def create_generator_topics(bootstrap: str, topics: Topics, partitions: int = 24) -> None:
    names = list(topics.all())
    await create_topics(bootstrap, names + [dlq(n) for n in names], partitions)


async def produce(
    bootstrap: str,
    topic: str,
    items: list[tuple[bytes | None, bytes, int | None]],
    headers: list[tuple[str, bytes]] | None = None,
    **kw: Any,
) -> None:
    """(key, value, partition or None) each, acks=all, in order; `kw` configures the producer."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", **kw)
    await producer.start()
    try:
        for key, value, partition in items:
            await producer.send_and_wait(
                topic, value, key=key, partition=partition, headers=headers
            )
    finally:
        await producer.stop()


async def committed(bootstrap: str, group: str, tps: list[TopicPartition]) -> dict[int, int | None]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        return {tp.partition: await consumer.committed(tp) for tp in tps}
    finally:
        await consumer.stop()


async def collect(
    bootstrap: str, topics: list[str], until: Callable[[list[Any]], bool], timeout: float = 60
) -> list[Any]:
    consumer = AIOKafkaConsumer(
        *topics, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    records: list[Any] = []
    try:
        async with asyncio.timeout(timeout):
            while not until(records):
                batch = await consumer.getmany(timeout_ms=200)
                for items in batch.values():
                    records.extend(items)
    finally:
        await consumer.stop()
    return records
