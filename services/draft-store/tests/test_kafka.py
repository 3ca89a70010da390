"""Against the real Kafka broker: at-least-once consumption, idempotent storage, dead letters."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from bcrao_contracts.events import DraftStored
from bcrao_contracts.topics import Topics, dlq
from bcrao_draft_store.app import create_broker
from bcrao_draft_store.config import Settings
from bcrao_draft_store.db import create_engine, session_factory
from bcrao_draft_store.models import Draft, UsageUnit
from bcrao_platform.topics import ensure_topics
from bcrao_stacktest.factories import draft_generated, generation_failed
from bcrao_testkit.kafka_faults import break_sequences
from bcrao_testkit.waits import eventually
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from .kafka_helpers import (
    Records,
    open_tasks,
    publish,
    read,
    running_broker,
    running_consumer,
)

pytestmark = pytest.mark.integration
NOW = datetime(2025, 6, 1, 8, tzinfo=UTC)


consumer = running_consumer


async def open_task(settings: Settings, user_id: str) -> tuple[uuid.UUID, uuid.UUID]:
    [task_id], campaign_id = await open_tasks(settings, user_id, NOW)
    return task_id, campaign_id


async def ledger_state(settings: Settings, task_id: uuid.UUID) -> tuple[int, str | None]:
    engine = create_engine(settings.database_url, pool_size=1)
    async with session_factory(engine)() as session:
        drafts = await session.scalar(select(func.count()).where(Draft.task_id == task_id))
        state = await session.scalar(select(UsageUnit.state).where(UsageUnit.task_id == task_id))
    await engine.dispose()
    return int(drafts or 0), state


async def test_redelivered_draft_is_stored_once_and_announced(
    kafka_settings: Settings, user_id: str
) -> None:
    task_id, campaign_id = await open_task(kafka_settings, user_id)
    topics = Topics(kafka_settings.topic_prefix)
    event = draft_generated(task_id, user_id, campaign_id)
    bootstrap = kafka_settings.kafka_bootstrap_servers
    await publish(bootstrap, topics.generated, event.to_json(), event.to_json())
    async with consumer(kafka_settings) as metrics:
        announced = await read(bootstrap, topics.stored, lambda r: len(r) >= 2)
    stored = [DraftStored.parse(r.value) for r in announced]
    assert [s.task_id for s in stored] == [task_id, task_id]
    assert announced[0].key == str(task_id).encode()
    assert await ledger_state(kafka_settings, task_id) == (1, "used")
    assert metrics.value("draft_store_drafts_stored_total") == 1
    assert metrics.value("draft_store_redeliveries_skipped_total") == 1


async def test_failure_releases_and_garbage_goes_to_the_dlq(
    kafka_settings: Settings, user_id: str
) -> None:
    task_id, campaign_id = await open_task(kafka_settings, user_id)
    topics = Topics(kafka_settings.topic_prefix)
    bootstrap = kafka_settings.kafka_bootstrap_servers
    failed = generation_failed(task_id, user_id, campaign_id)
    await publish(bootstrap, topics.failed, b"\x00garbage", failed.to_json())
    async with consumer(kafka_settings) as metrics:
        dead = await read(bootstrap, dlq(topics.failed), lambda r: len(r) >= 1)

        async def released() -> bool:
            return (await ledger_state(kafka_settings, task_id))[1] == "released"

        await eventually(released)
    assert dead[0].value == b"\x00garbage"
    headers = dict(dead[0].headers)
    assert headers["x-dlq-reason"] == b"unreadable"
    assert headers["x-dlq-original-topic"] == topics.failed.encode()
    assert headers["x-dlq-payload"] == b"inline"
    labels = {"topic": topics.failed, "reason": "unreadable"}
    assert metrics.value("draft_store_dead_letters_total", **labels) == 1
    assert metrics.value("draft_store_generation_failures_total") == 1


async def test_offset_is_committed_only_after_the_database_write(
    kafka_settings: Settings, user_id: str, database_url: str
) -> None:
    task_id, campaign_id = await open_task(kafka_settings, user_id)
    topics = Topics(kafka_settings.topic_prefix)
    event = draft_generated(task_id, user_id, campaign_id)
    await publish(kafka_settings.kafka_bootstrap_servers, topics.generated, event.to_json())
    missing = make_url(database_url).set(database=f"absent_{uuid.uuid4().hex[:8]}")
    broken = kafka_settings.model_copy(
        update={"database_url": missing.render_as_string(hide_password=False)}
    )
    rounds = broken.max_attempts + 1  # more redeliveries than a poison message is allowed
    per_round = broken.retry_attempts - 1
    async with consumer(broken) as failing:

        async def retried() -> bool:
            return failing.value("draft_store_handler_retries_total") >= rounds * per_round

        await eventually(retried)
    assert await ledger_state(kafka_settings, task_id) == (0, "reserved")
    # An outage is not poison: however often the batch came back, nothing was dead-lettered.
    for reason in ("exhausted", "unprocessable", "unreadable"):
        labels = {"topic": topics.generated, "reason": reason}
        assert failing.value("draft_store_dead_letters_total", **labels) == 0
    async with consumer(kafka_settings) as healthy:  # same group: resumes at the uncommitted offset

        async def stored() -> bool:
            return healthy.value("draft_store_drafts_stored_total") == 1

        await eventually(stored)
    assert await ledger_state(kafka_settings, task_id) == (1, "used")


async def test_sweeper_ends_a_task_left_queued_and_gives_its_unit_back(
    kafka_settings: Settings, user_id: str
) -> None:
    from datetime import timedelta

    from bcrao_contracts.events import GenerationFailed
    from bcrao_draft_store.sweeper import SweepPolicy, sweep_once

    task_id, _ = await open_task(kafka_settings, user_id)
    topics = Topics(kafka_settings.topic_prefix)
    engine = create_engine(kafka_settings.database_url, pool_size=1)
    sessions = session_factory(engine)
    broker = create_broker(kafka_settings)
    policy = SweepPolicy(unclaimed_after=timedelta(minutes=10), stale_after=timedelta(minutes=30))
    await broker.start()
    try:
        fresh = await sweep_once(
            sessions, broker, topics, clock=lambda: datetime.now(UTC), policy=policy
        )
        later = lambda: datetime.now(UTC) + timedelta(minutes=11)  # noqa: E731
        swept = await sweep_once(sessions, broker, topics, clock=later, policy=policy)
    finally:
        await broker.stop()
        await engine.dispose()
    assert task_id not in {t.task_id for t in fresh.overdue}  # queued a moment ago: left alone
    assert task_id in {t.task_id for t in swept.overdue}
    assert (await ledger_state(kafka_settings, task_id))[1] == "released"
    failures = await read(
        kafka_settings.kafka_bootstrap_servers,
        topics.failed,
        lambda r: any(GenerationFailed.parse(x.value).task_id == task_id for x in r),
    )
    event = next(
        GenerationFailed.parse(r.value) for r in failures if r.key == str(task_id).encode()
    )
    assert event.code.value == "GENERATION_FAILED"
    assert (event.retryable, event.details) == (True, {"reason": "unclaimed"})


async def test_a_producer_broken_by_a_broker_restart_is_replaced_and_the_draft_announced(
    kafka_settings: Settings, user_id: str
) -> None:
    """OutOfOrderSequenceNumber (what a broker restart can leave an idempotent producer with)
    would fail the DraftStored of every redelivery of the batch: the producer is replaced."""
    bootstrap = kafka_settings.kafka_bootstrap_servers
    topics = Topics(kafka_settings.topic_prefix)
    await ensure_topics(bootstrap, kafka_settings.topic_prefix, partitions=1)
    [first, second], campaign_id = await open_tasks(kafka_settings, user_id, NOW, count=2)

    def announced(task_id: uuid.UUID) -> Callable[[Records], bool]:
        return lambda records: any(DraftStored.parse(r.value).task_id == task_id for r in records)

    async with running_broker(kafka_settings) as (broker, metrics):
        event = draft_generated(first, user_id, campaign_id)
        await publish(bootstrap, topics.generated, event.to_json())
        await read(bootstrap, topics.stored, announced(first))
        break_sequences(broker)
        event = draft_generated(second, user_id, campaign_id)
        await publish(bootstrap, topics.generated, event.to_json())
        stored = await read(bootstrap, topics.stored, announced(second))
    assert announced(second)(stored), [DraftStored.parse(r.value).task_id for r in stored]
    assert await ledger_state(kafka_settings, second) == (1, "used")
    assert metrics.value("draft_store_drafts_stored_total") == 2


async def test_faststream_metrics_of_the_consumers_are_on_the_metrics_endpoint(
    kafka_settings: Settings, user_id: str
) -> None:
    """FastStream's Prometheus middleware on the app's broker: a consumed batch and the
    DraftStored it published are counted in the registry /metrics serves."""
    import httpx
    from bcrao_draft_store.app import create_app
    from bcrao_testkit.waits import eventually as until
    from prometheus_client.parser import text_string_to_metric_families
    from pydantic import SecretStr

    token = "metrics-token-" + uuid.uuid4().hex
    settings = kafka_settings.model_copy(update={"metrics_token": SecretStr(token)})
    task_id, campaign_id = await open_task(settings, user_id)
    topics = Topics(settings.topic_prefix)
    event = draft_generated(task_id, user_id, campaign_id)
    app = create_app(settings)
    samples: dict[str, float] = {}

    async def scraped(client: httpx.AsyncClient) -> dict[str, float]:
        answer = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        return {
            f"{s.name}{sorted(s.labels.items())}": s.value
            for family in text_string_to_metric_families(answer.text)
            for s in family.samples
            if s.name.startswith("faststream_") and s.labels.get("app_name") == "draft-store"
        }

    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://draft-store") as client,
        app.router.lifespan_context(app),
    ):
        assert await scraped(client) == {}  # nothing consumed, nothing counted
        await publish(settings.kafka_bootstrap_servers, topics.generated, event.to_json())

        async def counted() -> bool:
            # The DraftStored is counted inside the handler, the batch's outcome ("acked") only
            # once the handler has returned: a scrape can fall between the two.
            samples.update(await scraped(client))
            return any("published_messages_total" in name for name in samples) and any(
                "processed_messages_total" in name and "acked" in name for name in samples
            )

        await until(counted, "the consumed batch and its DraftStored on /metrics")
    consumed = [("broker", "kafka"), ("handler", topics.generated)]
    received = "faststream_received_messages_total" + str([("app_name", "draft-store"), *consumed])
    assert samples[received] == 1
    processed = [("app_name", "draft-store"), *consumed, ("status", "acked")]
    assert samples["faststream_received_processed_messages_total" + str(processed)] == 1
    assert any(topics.stored in name for name in samples if "published_messages_total" in name)
