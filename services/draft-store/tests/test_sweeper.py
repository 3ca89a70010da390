"""The sweeper against the real broker: overdue tasks are failed and announced, and the failures
of a deleted campaign's tasks are announced once from their tombstones."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from bcrao_contracts.events import GenerationFailed
from bcrao_contracts.topics import Topics
from bcrao_draft_store import repository as repo
from bcrao_draft_store.app import create_broker
from bcrao_draft_store.config import Settings
from bcrao_draft_store.db import create_engine, session_factory, unit_of_work
from bcrao_draft_store.metrics import Metrics
from bcrao_draft_store.sweeper import SweepPolicy, Swept, run_outbox, sweep_once
from bcrao_testkit.waits import eventually
from faststream.kafka import KafkaBroker
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .kafka_helpers import Records, open_tasks, read, running_consumer

pytestmark = pytest.mark.integration
POLICY = SweepPolicy(unclaimed_after=timedelta(minutes=10), stale_after=timedelta(minutes=30))


class Sweeping:
    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.settings, self.sessions = settings, sessions
        self.topics = Topics(settings.topic_prefix)
        self.broker: KafkaBroker = create_broker(settings)

    async def sweep(self, after: timedelta = timedelta(0)) -> Swept:
        def clock() -> datetime:
            return datetime.now(UTC) + after

        return await sweep_once(self.sessions, self.broker, self.topics, clock=clock, policy=POLICY)

    async def swept(self, ours: list[uuid.UUID], after: timedelta) -> list[tuple[uuid.UUID, str]]:
        """This test's tasks among those swept (the database is shared with other tests)."""
        swept = await self.sweep(after)
        return [(t.task_id, t.reason) for t in swept.overdue if t.task_id in ours]

    async def states(self, task_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str]]:
        async with self.sessions() as session:
            rows = await session.execute(
                text(
                    "SELECT t.task_id, t.status, u.state FROM generation_tasks t"
                    " JOIN usage_ledger u USING (task_id) WHERE t.task_id = ANY(:ids)"
                ),
                {"ids": task_ids},
            )
            return {task_id: (status, state) for task_id, status, state in rows}

    async def failures(self, ours: list[uuid.UUID]) -> dict[uuid.UUID, GenerationFailed]:
        def mine(records: Records) -> dict[uuid.UUID, GenerationFailed]:
            events = (GenerationFailed.parse(r.value) for r in records)
            return {e.task_id: e for e in events if e.task_id in ours}

        records = await read(
            self.settings.kafka_bootstrap_servers,
            self.topics.failed,
            lambda r: len(mine(r)) == len(ours),
        )
        return mine(records)


@pytest.fixture
async def sweeping(kafka_settings: Settings) -> AsyncIterator[Sweeping]:
    engine = create_engine(kafka_settings.database_url, pool_size=2)
    sweeping = Sweeping(kafka_settings, session_factory(engine))
    await sweeping.broker.start()
    try:
        yield sweeping
    finally:
        await sweeping.broker.stop()
        await engine.dispose()


async def test_unclaimed_and_stale_tasks_are_failed_refunded_and_announced(
    sweeping: Sweeping, user_id: str
) -> None:
    (queued, running), _ = await open_tasks(sweeping.settings, user_id, datetime.now(UTC), 2)
    async with unit_of_work(sweeping.sessions) as session:
        claim = await repo.claim_task(
            session, task_id=running, user_id=user_id, attempt_id=uuid.uuid4()
        )
    assert claim == (True, "running")

    ours = [queued, running]
    assert await sweeping.swept(ours, timedelta(0)) == []  # both are young
    assert await sweeping.swept(ours, timedelta(minutes=11)) == [(queued, "unclaimed")]
    assert await sweeping.states([queued, running]) == {
        queued: ("failed", "released"),
        running: ("running", "reserved"),  # claimed 11 minutes "ago": still generating
    }
    assert await sweeping.swept(ours, timedelta(minutes=31)) == [(running, "stale")]
    assert (await sweeping.states([running]))[running] == ("failed", "released")

    events = await sweeping.failures(ours)
    assert {t: e.details for t, e in events.items()} == {
        queued: {"reason": "unclaimed"},
        running: {"reason": "stale"},
    }
    assert {e.code.value for e in events.values()} == {"GENERATION_FAILED"}


async def test_a_deleted_campaigns_tasks_are_announced_once_and_dropped_by_the_consumer(
    sweeping: Sweeping, user_id: str
) -> None:
    (queued,), campaign_id = await open_tasks(sweeping.settings, user_id, datetime.now(UTC))
    async with unit_of_work(sweeping.sessions) as session:
        campaign = await repo.get_campaign(session, user_id, campaign_id)
        assert campaign is not None
        await repo.delete_campaign(session, campaign)

    assert (await sweeping.sweep()).announced >= 1  # others' deleted campaigns may be pending
    assert (await sweeping.sweep()).announced == 0  # marked: never announced twice
    event = (await sweeping.failures([queued]))[queued]
    assert (event.task_id, event.code.value, event.details, event.retryable) == (
        queued,
        "GENERATION_FAILED",
        {"reason": "campaign_deleted"},
        False,
    )
    async with running_consumer(sweeping.settings) as metrics:
        labels = {"topic": sweeping.topics.failed, "reason": "campaign_deleted"}
        await eventually(lambda: metrics.value("draft_store_events_dropped_total", **labels) >= 1)
    dead = metrics.value(
        "draft_store_dead_letters_total", topic=sweeping.topics.failed, reason="unprocessable"
    )
    assert dead == 0


async def test_the_outbox_announces_a_deleted_campaigns_task_without_waiting_for_a_sweep(
    sweeping: Sweeping, user_id: str
) -> None:
    (running,), campaign_id = await open_tasks(sweeping.settings, user_id, datetime.now(UTC))
    metrics = Metrics()
    outbox = asyncio.create_task(
        run_outbox(sweeping.sessions, sweeping.broker, sweeping.topics, every=0.05, metrics=metrics)
    )
    try:
        async with unit_of_work(sweeping.sessions) as session:
            campaign = await repo.get_campaign(session, user_id, campaign_id)
            assert campaign is not None
            await repo.delete_campaign(session, campaign)
        event = (await sweeping.failures([running]))[running]
        labels = {"reason": "campaign_deleted"}
        await eventually(lambda: metrics.value("draft_store_tasks_swept_total", **labels) >= 1)
    finally:
        outbox.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await outbox
    assert event.details == {"reason": "campaign_deleted"}
    async with sweeping.sessions() as session:
        announced = await session.scalar(
            text("SELECT announced_at IS NOT NULL FROM task_tombstones WHERE task_id = :t"),
            {"t": running},
        )
    assert announced is True
