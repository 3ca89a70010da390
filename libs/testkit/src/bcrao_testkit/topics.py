"""Topics for a test's own prefix: provisioned by the production command, dropped afterwards;
and reading back what was published to one.

Tests share one broker and isolate themselves with a topic prefix. They create their topics
with `bcrao_platform.topics` (what `make up`, compose and the Kubernetes job run), so a test
sees the same partitions and retention as a deployment, and drop them when done so the shared
broker does not accumulate hundreds of partitions per run.
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord
from bcrao_platform.topics import EnsureReport, ensure_topics, topic_specs


async def create_topics(bootstrap: str, prefix: str) -> EnsureReport:
    return await ensure_topics(bootstrap, prefix, timeout=30)


async def drop_topics(bootstrap: str, prefix: str) -> None:
    """Delete the prefix's topics that exist (never anything outside the prefix)."""
    if not prefix:
        raise ValueError("refusing to drop the unprefixed (production) topics")
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="bcrao-testkit")
    await admin.start()
    try:
        wanted = {s.name for s in topic_specs(prefix)}
        present = [t for t in await admin.list_topics() if t in wanted]
        if present:
            await admin.delete_topics(present)
    finally:
        await admin.close()


def create_topics_sync(bootstrap: str, prefix: str) -> EnsureReport:
    """For synchronous fixtures (process stacks); never call it inside a running event loop."""
    return asyncio.run(create_topics(bootstrap, prefix))


def drop_topics_sync(bootstrap: str, prefix: str) -> None:
    asyncio.run(drop_topics(bootstrap, prefix))


async def read_records(
    bootstrap: str, topic: str, count: int, *, hang_guard: float = 60
) -> list[ConsumerRecord[bytes, bytes]]:
    """The first `count` records of `topic`, read from the beginning without a consumer group
    (a test looking at what was published; the hang guard only stops a test that would hang)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        async with asyncio.timeout(hang_guard):
            async for record in consumer:
                records.append(record)
                if len(records) == count:
                    break
    finally:
        await consumer.stop()
    return records
