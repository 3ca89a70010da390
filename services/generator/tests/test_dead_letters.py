"""Poison records of any size are dead-lettered and never block their partition (real broker)."""

from __future__ import annotations

import json

import pytest
from aiokafka import TopicPartition
from bcrao_contracts.events import parse_event
from bcrao_contracts.topics import Topics, dlq
from bcrao_generator.llm import OfflineComposer
from bcrao_testkit.waits import eventually

from .kafka_helpers import collect, committed, create_topics, prefix, produce
from .test_handlers import running, settings, task

pytestmark = pytest.mark.integration

BIG = 3_000_000  # the test topic accepts records up to this; the producer limit stays 1 MiB


async def test_records_near_and_over_one_megabyte_are_dead_lettered_by_reference(
    kafka_bootstrap: str,
) -> None:
    p = prefix()
    topics = Topics(p)
    await create_topics(
        kafka_bootstrap, [topics.generate_requested], 1, {"max.message.bytes": str(BIG)}
    )
    await create_topics(kafka_bootstrap, [topics.generated, topics.failed, topics.progress], 1)
    await create_topics(kafka_bootstrap, [dlq(topics.generate_requested)], 1)
    near = json.dumps(
        {"event_type": "GenerateRequested", "context": "a" * 1_040_000}
    ).encode()  # schema-breaking, just under the broker's 1 MiB
    over = b"\xff" * 2_000_000  # not even text
    ok = task(1)
    await produce(
        kafka_bootstrap,
        topics.generate_requested,
        [(b"near", near, 0), (b"over", over, 0), (ok.key, ok.to_json(), 0)],
        max_request_size=BIG + 100_000,
    )
    s = settings(kafka_bootstrap, p)
    async with running(s, OfflineComposer(chunk_delay_ms=0)):
        out = await collect(kafka_bootstrap, [topics.generated], until=lambda r: len(r) >= 1)
        dead = await collect(
            kafka_bootstrap, [dlq(topics.generate_requested)], until=lambda r: len(r) >= 2
        )
        tp = TopicPartition(topics.generate_requested, 0)

        async def all_committed() -> bool:
            return (await committed(kafka_bootstrap, s.group_id, [tp]))[0] == 3

        await eventually(all_committed)

    assert parse_event(out[0].value).task_id == ok.task_id
    by_key = {r.key: r for r in dead}
    for key, offset, size in ((b"near", 0, len(near)), (b"over", 1, len(over))):
        record = by_key[key]
        headers = {k: v.decode() for k, v in record.headers}
        assert headers["x-dlq-payload"] == "reference"
        assert headers["x-dlq-reason"] == "unreadable"
        assert headers["x-dlq-original-offset"] == str(offset)
        ref = json.loads(record.value)
        assert ref == {
            "ref": {"topic": topics.generate_requested, "partition": 0, "offset": offset},
            "size": size,
        }
