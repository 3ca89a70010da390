"""Batch ingestion against the real broker and database: bursts, redelivered batches, one bad
message among good ones, poison that keeps failing, oversized poison, and tombstoned tasks."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiokafka.admin import NewTopic
from bcrao_contracts.events import DraftStored
from bcrao_contracts.topics import Topics, dlq
from bcrao_draft_store.config import Settings
from bcrao_draft_store.db import create_engine
from bcrao_draft_store.metrics import Metrics
from bcrao_platform.topics import create_exact
from bcrao_stacktest.factories import draft_generated
from bcrao_testkit.waits import eventually
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from .kafka_helpers import open_tasks, publish, read, running_consumer

pytestmark = pytest.mark.integration
NOW = datetime(2025, 7, 1, 8, tzinfo=UTC)
MB = 1 << 20


@pytest.fixture
def kafka_settings(kafka_settings: Settings) -> Settings:
    """The suite's settings with a poison message allowed three deliveries."""
    return kafka_settings.model_copy(update={"max_attempts": 3})


async def counts(engine: AsyncEngine, task_ids: list[uuid.UUID]) -> tuple[int, dict[str, int]]:
    async with engine.connect() as connection:
        drafts = await connection.scalar(
            text("SELECT count(*) FROM drafts WHERE task_id = ANY(:ids)"), {"ids": task_ids}
        )
        units = await connection.execute(
            text("SELECT state, count(*) FROM usage_ledger WHERE task_id = ANY(:ids) GROUP BY 1"),
            {"ids": task_ids},
        )
        return int(drafts or 0), {state: int(n) for state, n in units}


@pytest.fixture
async def db(kafka_settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(kafka_settings.database_url, pool_size=2)
    yield engine
    await engine.dispose()


async def test_a_burst_is_stored_in_batches_and_a_redelivered_batch_changes_nothing(
    kafka_settings: Settings, user_id: str, db: AsyncEngine
) -> None:
    topics, bootstrap = Topics(kafka_settings.topic_prefix), kafka_settings.kafka_bootstrap_servers
    task_ids, campaign_id = await open_tasks(kafka_settings, user_id, NOW, count=60)
    events = [draft_generated(t, user_id, campaign_id).to_json() for t in task_ids]
    await publish(bootstrap, topics.generated, *events)
    async with running_consumer(kafka_settings) as metrics:
        await eventually(lambda: metrics.value("draft_store_drafts_stored_total") == 60)
        batches = metrics.value("draft_store_batch_size_count", topic=topics.generated)
        await publish(bootstrap, topics.generated, *events)  # the whole burst, delivered again
        await eventually(lambda: metrics.value("draft_store_redeliveries_skipped_total") == 60)
    assert batches < 60  # the burst was not taken one message at a time
    assert await counts(db, task_ids) == (60, {"used": 60})
    announced = await read(bootstrap, topics.stored, lambda r: len(r) >= 120)
    stored = [DraftStored.parse(r.value) for r in announced]
    assert len(stored) == 120
    by_task: dict[uuid.UUID, set[uuid.UUID]] = {}
    for event in stored:
        by_task.setdefault(event.task_id, set()).add(event.draft.id)
    assert set(by_task) == set(task_ids)
    assert all(len(ids) == 1 for ids in by_task.values())  # the same draft both times
    assert len({e.event_id for e in stored}) == 60  # and the same DraftStored fact


async def test_one_unstorable_message_is_dead_lettered_and_its_batch_is_stored(
    kafka_settings: Settings, user_id: str, db: AsyncEngine
) -> None:
    topics, bootstrap = Topics(kafka_settings.topic_prefix), kafka_settings.kafka_bootstrap_servers
    task_ids, campaign_id = await open_tasks(kafka_settings, user_id, NOW, count=5)
    good = [draft_generated(t, user_id, campaign_id) for t in task_ids[1:]]
    bad = draft_generated(task_ids[0], user_id, campaign_id, cost=1e9)  # overflows numeric(12,6)
    await publish(
        bootstrap,
        topics.generated,
        good[0].to_json(),
        bad.to_json(),
        *(e.to_json() for e in good[1:]),
    )
    async with running_consumer(kafka_settings) as metrics:
        await eventually(lambda: metrics.value("draft_store_drafts_stored_total") == 4)
        dead = await read(bootstrap, dlq(topics.generated), lambda r: len(r) >= 1)
    headers = {k: v.decode() for k, v in dead[0].headers}
    assert (headers["x-dlq-reason"], headers["x-dlq-payload"]) == ("unprocessable", "inline")
    assert json.loads(dead[0].value)["task_id"] == str(task_ids[0])
    assert await counts(db, task_ids) == (4, {"used": 4, "reserved": 1})


async def test_a_message_that_keeps_failing_is_dead_lettered_after_max_attempts(
    kafka_settings: Settings, user_id: str, db: AsyncEngine
) -> None:
    """Not a data error and not transient (a trigger raising for one title): every attempt is
    counted, and after DRAFT_STORE_MAX_ATTEMPTS (3 here) the message goes to the DLQ."""
    topics, bootstrap = Topics(kafka_settings.topic_prefix), kafka_settings.kafka_bootstrap_servers
    task_ids, campaign_id = await open_tasks(kafka_settings, user_id, NOW, count=3)
    title = f"poison {uuid.uuid4().hex}"
    async with db.begin() as connection:
        await connection.execute(text(TRIGGER.replace("{title}", title)))
    try:
        poison = draft_generated(task_ids[0], user_id, campaign_id)
        poison = poison.model_copy(
            update={"draft": poison.draft.model_copy(update={"title": title})}
        )
        rest = [draft_generated(t, user_id, campaign_id).to_json() for t in task_ids[1:]]
        await publish(bootstrap, topics.generated, poison.to_json(), *rest)
        async with running_consumer(kafka_settings) as metrics:
            dead = await read(bootstrap, dlq(topics.generated), lambda r: len(r) >= 1)
            await eventually(lambda: metrics.value("draft_store_drafts_stored_total") == 2)
    finally:
        async with db.begin() as connection:
            await connection.execute(text("DROP TRIGGER IF EXISTS poison_title ON drafts"))
    headers = {k: v.decode() for k, v in dead[0].headers}
    assert (headers["x-dlq-reason"], headers["x-dlq-attempts"]) == ("exhausted", "3")
    assert "poisoned title" in headers["x-dlq-error"]
    assert metrics.value("draft_store_handler_retries_total") == 0  # never taken for transient
    assert await counts(db, task_ids) == (2, {"used": 2, "reserved": 1})


TRIGGER = """
CREATE OR REPLACE FUNCTION poison_title() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.title = '{title}' THEN RAISE EXCEPTION 'poisoned title'; END IF;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS poison_title ON drafts;
CREATE TRIGGER poison_title BEFORE INSERT ON drafts FOR EACH ROW EXECUTE FUNCTION poison_title();
"""


@pytest.mark.parametrize("size", [MB - 2048, 2 * MB], ids=["just-under-1MB", "2MB"])
async def test_oversized_poison_is_dead_lettered_by_reference(
    kafka_settings: Settings, user_id: str, size: int
) -> None:
    topics, bootstrap = Topics(kafka_settings.topic_prefix), kafka_settings.kafka_bootstrap_servers
    await create_exact(
        bootstrap, [NewTopic(topics.failed, 1, 1, topic_configs={"max.message.bytes": str(3 * MB)})]
    )
    poison = b'{"event_type": "GenerationFailed", "junk": "' + b"x" * size + b'"}'
    await publish(bootstrap, topics.failed, poison, max_bytes=3 * MB)
    async with running_consumer(kafka_settings) as metrics:
        dead = await read(bootstrap, dlq(topics.failed), lambda r: len(r) >= 1)
    headers = {k: v.decode() for k, v in dead[0].headers}
    assert (headers["x-dlq-reason"], headers["x-dlq-payload"]) == ("unreadable", "reference")
    reference = json.loads(dead[0].value)
    assert reference == {
        "ref": {"topic": topics.failed, "partition": 0, "offset": 0},
        "size": len(poison),
    }
    labels = {"topic": topics.failed, "reason": "unreadable"}
    assert metrics.value("draft_store_dead_letters_total", **labels) == 1


async def test_late_drafts_of_deleted_work_are_dropped_without_a_dead_letter(
    kafka_settings: Settings, user_id: str, db: AsyncEngine
) -> None:
    from bcrao_draft_store import repository as repo
    from bcrao_draft_store.db import session_factory, unit_of_work

    topics, bootstrap = Topics(kafka_settings.topic_prefix), kafka_settings.kafka_bootstrap_servers
    [in_flight], doomed_campaign = await open_tasks(kafka_settings, user_id, NOW)
    [kept], campaign_id = await open_tasks(kafka_settings, user_id, NOW)
    async with unit_of_work(session_factory(db)) as session:
        campaign = await repo.get_campaign(session, user_id, doomed_campaign)
        assert campaign is not None
        await repo.delete_campaign(session, campaign)
    late = draft_generated(in_flight, user_id, doomed_campaign)
    await publish(
        bootstrap,
        topics.generated,
        late.to_json(),
        draft_generated(kept, user_id, campaign_id).to_json(),
    )
    async with running_consumer(kafka_settings, Metrics()) as metrics:
        await eventually(lambda: metrics.value("draft_store_drafts_stored_total") == 1)
        labels = {"topic": topics.generated, "reason": "campaign_deleted"}
        await eventually(lambda: metrics.value("draft_store_events_dropped_total", **labels) == 1)
    dead = metrics.value(
        "draft_store_dead_letters_total", topic=topics.generated, reason="unprocessable"
    )
    assert dead == 0
    assert await counts(db, [in_flight, kept]) == (1, {"used": 1, "released": 1})
