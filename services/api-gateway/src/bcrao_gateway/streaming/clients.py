"""The stream reader's Kafka clients: how they are made, and the metadata it asks them for."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

ConsumerFactory = Callable[[str], AIOKafkaConsumer]
AdminFactory = Callable[[str], AIOKafkaAdminClient]


def default_consumer(
    bootstrap: str, *, fetch_wait_ms: int, fetch_min_bytes: int
) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",  # only used if a saved position fell off retention
        client_id="bcrao-gateway-stream",
        fetch_max_wait_ms=fetch_wait_ms,
        fetch_min_bytes=fetch_min_bytes,
    )


def default_admin(bootstrap: str) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="bcrao-gateway-stream", request_timeout_ms=5000
    )


async def topic_partitions(
    admin: AIOKafkaAdminClient, topics: Iterable[str]
) -> set[TopicPartition]:
    # Metadata for all topics, filtered here: asking for named topics would auto-create them on
    # a broker that allows it. A topic that does not exist yet is picked up by a later check.
    wanted = set(topics)
    found: set[TopicPartition] = set()
    for topic in await admin.describe_topics():
        if topic.get("topic") in wanted and not topic.get("error_code"):
            for p in topic.get("partitions") or ():
                found.add(TopicPartition(topic["topic"], p["partition"]))
    return found


def describe_error(exc: Exception) -> str:
    text = str(exc)  # aiokafka's errors already start with their class name
    name = type(exc).__name__
    return (text if text.startswith(name) else f"{name}: {text}")[:300]
