"""The generator's Kafka handler: in memory (TestKafkaBroker) and against the real broker."""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from bcrao_contracts.enums import Archetype
from bcrao_contracts.events import DraftGenerated, GenerationFailed, ProgressUpdated, parse_event
from bcrao_contracts.topics import Topics, dlq
from bcrao_generator.app import create_broker
from bcrao_generator.config import Settings
from bcrao_generator.llm import OfflineComposer
from faststream.kafka import TestKafkaBroker

from .factories import request


def _settings(prefix: str, bootstrap: str = "127.0.0.1:1") -> Settings:
    return Settings(kafka_bootstrap_servers=bootstrap, topic_prefix=prefix, concurrency=1)


async def test_handler_publishes_progress_then_one_terminal_event_in_memory() -> None:
    topics = Topics("mem.")
    metrics: Counter[str] = Counter()
    broker = create_broker(_settings("mem."), OfflineComposer(chunk_delay_ms=0), metrics)
    seen: list[Any] = []

    @broker.subscriber(topics.progress)
    async def progress(body: dict[str, Any]) -> None:
        seen.append(parse_event(body))

    @broker.subscriber(topics.generated)
    async def generated(body: dict[str, Any]) -> None:
        seen.append(parse_event(body))

    async with TestKafkaBroker(broker) as test_broker:
        event = request(context="late invoices")
        await test_broker.publish(event.to_json(), topics.generate_requested, key=event.key)
    assert isinstance(seen[-1], DraftGenerated)
    assert all(isinstance(e, ProgressUpdated) for e in seen[:-1])
    assert [e.seq for e in seen] == list(range(1, len(seen) + 1))
    assert metrics["drafts_generated"] == 1


async def _collect(bootstrap: str, topics: list[str], until: int, timeout: float = 30) -> list[Any]:
    consumer = AIOKafkaConsumer(
        *topics, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    records: list[Any] = []
    try:
        async with asyncio.timeout(timeout):
            while len(records) < until:
                batch = await consumer.getmany(timeout_ms=500)
                for items in batch.values():
                    records.extend(items)
    finally:
        await consumer.stop()
    return records


@pytest.mark.integration
async def test_real_broker_flow_and_dead_letters(kafka_bootstrap: str) -> None:
    prefix = f"gen{secrets.token_hex(3)}."
    topics = Topics(prefix)
    broker = create_broker(
        _settings(prefix, kafka_bootstrap), OfflineComposer(chunk_delay_ms=0), Counter()
    )
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    await broker.start()
    try:
        await producer.send_and_wait(topics.generate_requested, b"{not json", key=b"x")
        ok = request(context="late invoices")
        gated = request(subreddit="selfhosted", archetype=Archetype.JOURNEY).model_copy(
            update={"task_id": request().task_id.__class__(int=7)}
        )
        for event in (ok, gated):
            await producer.send_and_wait(topics.generate_requested, event.to_json(), key=event.key)
        terminal = await _collect(kafka_bootstrap, [topics.generated, topics.failed], until=2)
        dead = await _collect(kafka_bootstrap, [dlq(topics.generate_requested)], until=1)
        progress = await _collect(kafka_bootstrap, [topics.progress], until=3)
    finally:
        await broker.stop()
        await producer.stop()

    outcomes = {parse_event(r.value).task_id: parse_event(r.value) for r in terminal}
    assert isinstance(outcomes[ok.task_id], DraftGenerated)
    failed = outcomes[gated.task_id]
    assert isinstance(failed, GenerationFailed)
    assert failed.code.value == "ISC_ARCHETYPE_BLOCKED"
    assert all(r.key == str(e).encode() for r, e in zip(terminal, outcomes, strict=True))
    assert dead[0].value == b"{not json"
    headers = dict(dead[0].headers)
    assert headers["x-original-topic"] == topics.generate_requested.encode()
    assert headers["x-error"]
    assert progress  # stages went out on the progress topic
