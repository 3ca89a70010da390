"""The topic-provisioning command against the real broker: create, idempotence, repair."""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from bcrao_contracts import topics as contract
from bcrao_platform.topics import (
    DEFAULT_PARTITIONS,
    broker_tracks_its_topics,
    create_exact,
    ensure_topics,
    topic_specs,
)
from bcrao_testkit.topics import drop_topics
from faststream.kafka import KafkaBroker


@pytest.fixture
async def prefix(kafka_bootstrap: str) -> AsyncIterator[str]:
    value = f"topics{secrets.token_hex(4)}."
    yield value
    await drop_topics(kafka_bootstrap, value)


@pytest.fixture
async def admin(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    client = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await client.start()
    yield client
    await client.close()


async def partitions(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    return {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(names)}


async def retention(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    [response] = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, n, {"retention.ms": None}) for n in names]
    )
    return {
        r["resource_name"]: int(r["config_entries"][0]["config_value"])
        for r in response.to_object()["resources"]
    }


def test_every_contract_topic_and_its_dead_letter_topic_is_provisioned() -> None:
    names = [s.name for s in topic_specs("p.")]
    assert sorted(names) == sorted(
        [f"p.{t}" for t in contract.ALL] + [contract.dlq(f"p.{t}") for t in contract.ALL]
    )
    assert {s.partitions for s in topic_specs()} == {DEFAULT_PARTITIONS}


def test_progress_is_kept_shortest_and_dead_letters_longest() -> None:
    by_name = {s.name: s.retention_ms for s in topic_specs()}
    dlq = {n: ms for n, ms in by_name.items() if n.endswith(".dlq")}
    events = {n: ms for n, ms in by_name.items() if n not in dlq}
    assert min(events, key=events.__getitem__) == contract.PROGRESS
    assert min(dlq.values()) > max(events.values())


async def test_ensure_creates_everything_then_changes_nothing(
    kafka_bootstrap: str, prefix: str, admin: AIOKafkaAdminClient
) -> None:
    specs = topic_specs(prefix)
    names = [s.name for s in specs]

    first = await ensure_topics(kafka_bootstrap, prefix)
    assert sorted(first.created) == sorted(names)
    assert await partitions(admin, names) == dict.fromkeys(names, 24)
    assert await retention(admin, names) == {s.name: s.retention_ms for s in specs}

    again = await ensure_topics(kafka_bootstrap, prefix)
    assert (again.created, again.grown, again.reconfigured) == ([], {}, [])
    assert sorted(again.unchanged) == sorted(names)


async def test_ensure_grows_partitions_and_resets_drifted_retention(
    kafka_bootstrap: str, prefix: str, admin: AIOKafkaAdminClient
) -> None:
    small = prefix + contract.GENERATED
    await admin.create_topics([NewTopic(small, 4, 1, topic_configs={"retention.ms": "60000"})])

    report = await ensure_topics(kafka_bootstrap, prefix)

    assert report.grown == {small: (4, 24)}
    assert report.reconfigured == [small]
    assert small not in report.created
    assert (await partitions(admin, [small]))[small] == 24
    wanted = next(s.retention_ms for s in topic_specs(prefix) if s.name == small)
    assert (await retention(admin, [small]))[small] == wanted


async def test_more_partitions_than_wanted_are_left_alone(
    kafka_bootstrap: str, prefix: str, admin: AIOKafkaAdminClient
) -> None:
    await ensure_topics(kafka_bootstrap, prefix, partitions=30)
    report = await ensure_topics(kafka_bootstrap, prefix)
    assert report.grown == {}
    name = prefix + contract.STORED
    assert (await partitions(admin, [name]))[name] == 30


def test_the_command_line(kafka_bootstrap: str, prefix: str) -> None:
    command = [sys.executable, "-m", "bcrao_platform.topics", "ensure"]
    done = subprocess.run(
        [*command, "--bootstrap", kafka_bootstrap, "--prefix", prefix, "--partitions", "6"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "10 created" in done.stdout
    assert f"created {prefix}{contract.PROGRESS}\n" in done.stdout


def test_the_command_line_names_an_unreachable_broker() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bcrao_platform.topics",
            "ensure",
            "--bootstrap",
            "127.0.0.1:1",
            "--timeout",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "no Kafka broker answers on 127.0.0.1:1" in done.stderr


async def test_two_provisioning_runs_at_once_both_succeed(
    kafka_bootstrap: str, prefix: str, admin: AIOKafkaAdminClient
) -> None:
    import asyncio

    first, second = await asyncio.gather(
        ensure_topics(kafka_bootstrap, prefix), ensure_topics(kafka_bootstrap, prefix)
    )
    names = [s.name for s in topic_specs(prefix)]
    assert sorted(first.created + second.created) == sorted(names)
    assert await partitions(admin, names) == dict.fromkeys(names, 24)


async def test_create_exact_returns_with_every_partition_led_and_keeps_what_exists(
    admin: AIOKafkaAdminClient, kafka_bootstrap: str
) -> None:
    p = f"exact{secrets.token_hex(4)}."
    first, second = p + "a", p + "b"
    try:
        created = await create_exact(kafka_bootstrap, [NewTopic(first, 3, 1)])
        assert created == [first]
        # Straight after returning, the metadata serves every partition with a leader.
        [described] = await admin.describe_topics([first])
        assert [q["leader"] >= 0 for q in described["partitions"]] == [True] * 3
        # An existing topic is kept as it is (3 partitions, not 5); only the new one is made.
        created = await create_exact(
            kafka_bootstrap, [NewTopic(first, 5, 1), NewTopic(second, 2, 1)]
        )
        assert created == [second]
        assert await partitions(admin, [first, second]) == {first: 3, second: 2}
    finally:
        await admin.delete_topics([t for t in (first, second) if t in await admin.list_topics()])


@pytest.mark.integration
async def test_a_faststream_brokers_admin_client_asks_about_the_brokers_topics_only(
    kafka_bootstrap: str, prefix: str
) -> None:
    """FastStream's broker keeps an admin client that follows no topic, so aiokafka refreshed
    the whole cluster's metadata for it every 5 minutes (a few MiB more RSS each time on a
    broker of thousands of partitions). After `broker_tracks_its_topics` and a refresh (what
    that timer does), it holds the broker's own topics only."""
    read, written, other = f"{prefix}read", f"{prefix}written", f"{prefix}other"
    await create_exact(kafka_bootstrap, [NewTopic(t, 1, 1) for t in (read, written, other)])
    broker = KafkaBroker(kafka_bootstrap)
    broker.publisher(written)

    @broker.subscriber(read, group_id=f"{prefix}group", auto_offset_reset="earliest")
    async def handle(body: bytes) -> None:
        del body

    await broker.start()
    try:
        await broker_tracks_its_topics(broker)
        inner = broker.config.admin.admin_client._client
        assert await inner.force_metadata_update()  # the 5-minute refresh, now
        assert inner.cluster.topics() == {read, written}
    finally:
        await broker.stop()
