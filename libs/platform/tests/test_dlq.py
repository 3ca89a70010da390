"""Listing and replaying dead letters on the real broker, through the documented command."""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from bcrao_contracts import topics as contract
from bcrao_platform.deadletter import dead_letter_record
from bcrao_platform.dlq import REPLAYED_FROM
from bcrao_platform.topics import ensure_topics
from bcrao_testkit.topics import drop_topics

PARTITIONS = 3


@pytest.fixture
async def prefix(kafka_bootstrap: str) -> AsyncIterator[str]:
    value = f"dlq{secrets.token_hex(4)}."
    await ensure_topics(kafka_bootstrap, value, partitions=PARTITIONS)
    yield value
    await drop_topics(kafka_bootstrap, value)


async def dead_letter(
    bootstrap: str,
    source: str,
    value: bytes,
    *,
    offset: int,
    max_bytes: int = 900_000,
    reason: str = "unprocessable",
) -> None:
    record = dead_letter_record(
        value,
        topic=source,
        partition=1,
        offset=offset,
        key=f"task-{offset}".encode(),
        reason=reason,
        error=ValueError(f"broken {offset}"),
        attempts=3,
        consumer="draft-store",
        max_bytes=max_bytes,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            contract.dlq(source), record.value, key=record.key, headers=record.headers
        )
    finally:
        await producer.stop()


def dlq(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bcrao_platform.dlq", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


async def read_all(bootstrap: str, topic: str) -> list:
    """Every record of the topic (the replay command has returned: nothing more is coming)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        records: list = []
        async with asyncio.timeout(30):
            while [tp for tp in parts if await consumer.position(tp) < ends[tp]]:
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    records += batch
        return records
    finally:
        await consumer.stop()


async def test_list_shows_every_dead_letter_with_its_origin(
    kafka_bootstrap: str, prefix: str
) -> None:
    source = prefix + contract.GENERATED
    await dead_letter(kafka_bootstrap, source, b'{"event_type": "DraftGenerated"}', offset=7)
    await dead_letter(kafka_bootstrap, source, b"x" * 5000, offset=8, max_bytes=1000)

    done = await asyncio.to_thread(
        dlq, "list", "--bootstrap", kafka_bootstrap, "--topic", contract.dlq(source), "--json"
    )

    assert done.returncode == 0, done.stderr
    listed = sorted(
        (json.loads(line) for line in done.stdout.splitlines()), key=lambda e: e["original_offset"]
    )
    assert [
        (e["original_topic"], e["original_partition"], e["original_offset"]) for e in listed
    ] == [(source, "1", "7"), (source, "1", "8")]
    assert [e["payload"] for e in listed] == ["inline", "reference"]
    assert listed[0]["error"] == "ValueError: broken 7"
    assert (listed[0]["reason"], listed[0]["attempts"], listed[0]["consumer"]) == (
        "unprocessable",
        "3",
        "draft-store",
    )
    assert "2 dead letters" in done.stderr


async def test_replay_republishes_the_payload_and_refuses_references(
    kafka_bootstrap: str, prefix: str
) -> None:
    source = prefix + contract.FAILED
    payload = b'{"event_type": "GenerationFailed", "n": 1}'
    await dead_letter(kafka_bootstrap, source, payload, offset=3)
    await dead_letter(kafka_bootstrap, source, b"y" * 5000, offset=4, max_bytes=1000)

    done = await asyncio.to_thread(
        dlq, "replay", "--bootstrap", kafka_bootstrap, "--topic", contract.dlq(source), "--all"
    )

    assert done.returncode == 1, "a reference-only dead letter was selected"
    assert "1 replayed, 1 not replayable" in done.stdout
    assert f"only a reference to {source}[1]@4" in done.stderr
    [replayed] = await read_all(kafka_bootstrap, source)
    assert (replayed.value, replayed.key) == (payload, b"task-3")
    assert dict(replayed.headers)[REPLAYED_FROM].decode().startswith(contract.dlq(source) + ":")


async def test_replay_of_chosen_offsets_only(kafka_bootstrap: str, prefix: str) -> None:
    source = prefix + contract.GENERATED
    for n in (1, 2):
        await dead_letter(kafka_bootstrap, source, f'{{"n": {n}}}'.encode(), offset=n)
    listing = await asyncio.to_thread(
        dlq, "list", "--bootstrap", kafka_bootstrap, "--topic", contract.dlq(source), "--json"
    )
    second = next(
        json.loads(x)
        for x in listing.stdout.splitlines()
        if json.loads(x)["original_offset"] == "2"
    )
    where = f"{second['partition']}:{second['offset']}"

    dry = await asyncio.to_thread(
        dlq,
        "replay",
        "--bootstrap",
        kafka_bootstrap,
        "--topic",
        contract.dlq(source),
        "--offset",
        where,
        "--dry-run",
    )
    assert dry.stdout.strip() == f"would replay {where} -> {source}"
    done = await asyncio.to_thread(
        dlq,
        "replay",
        "--bootstrap",
        kafka_bootstrap,
        "--topic",
        contract.dlq(source),
        "--offset",
        where,
    )

    assert done.returncode == 0, done.stderr
    [replayed] = await read_all(kafka_bootstrap, source)
    assert replayed.value == b'{"n": 2}'


def test_only_dead_letter_topics_are_accepted(kafka_bootstrap: str) -> None:
    done = dlq("list", "--bootstrap", kafka_bootstrap, "--topic", contract.GENERATED)
    assert done.returncode == 2
    assert "not a dead-letter topic" in done.stderr
    missing = dlq("list", "--bootstrap", kafka_bootstrap, "--topic", "nothing-here.dlq")
    assert missing.returncode == 1
    assert "no topic nothing-here.dlq" in missing.stderr
