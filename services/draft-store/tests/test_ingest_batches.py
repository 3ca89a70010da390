"""Batch semantics of ingest.py against the real database, and their cost on the wire."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from bcrao_contracts import api
from bcrao_contracts.enums import Archetype, Plan
from bcrao_draft_store import generation_tasks, ingest
from bcrao_draft_store import repository as repo
from bcrao_draft_store.db import session_factory, unit_of_work
from bcrao_draft_store.repository.driver import driver as driver_of
from bcrao_stacktest.factories import CAMPAIGN, draft_generated, generation_failed
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

NOW = datetime(2025, 8, 3, tzinfo=UTC)
REQUEST = api.GenerateRequest(subreddit="SaaS", archetype=Archetype.FEEDBACK)


async def _tasks(session: AsyncSession, user_id: str, n: int) -> tuple[list[uuid.UUID], uuid.UUID]:
    body = api.CampaignCreate.model_validate(CAMPAIGN)
    campaign = await repo.create_campaign(session, user_id=user_id, **body.model_dump(mode="json"))
    await repo.set_plan(session, user_id, Plan.GROWTH)
    opened = [
        await generation_tasks.open_generation(session, user_id, campaign.id, REQUEST, NOW)
        for _ in range(n)
    ]
    return [e.task_id for e in opened], campaign.id


async def _units(session: AsyncSession, user_id: str) -> dict[str, int]:
    rows = await session.execute(
        text("SELECT state, count(*) FROM usage_ledger WHERE user_id = :u GROUP BY 1"),
        {"u": user_id},
    )
    return {state: int(n) for state, n in rows}


async def _binds(session: AsyncSession, work: Callable[[], Awaitable[Any]]) -> int:
    """Statements sent while `work` runs, counted on the wire (libpq's protocol trace)."""
    conn = await driver_of(session)
    with tempfile.TemporaryFile() as trace:
        conn.pgconn.trace(trace.fileno())
        try:
            await work()
        finally:
            conn.pgconn.untrace()
        trace.seek(0)
        lines = [line.split("\t") for line in trace.read().decode().splitlines()]
    return sum(1 for line in lines if line[1:2] == ["F"] and line[3:4] == ["Bind"])


async def test_a_batch_of_drafts_is_two_statements_whatever_its_size(
    session: AsyncSession, user_id: str
) -> None:
    task_ids, campaign_id = await _tasks(session, user_id, 40)
    events = [draft_generated(t, user_id, campaign_id) for t in task_ids]
    outcomes: list[ingest.GeneratedOutcome] = []

    async def store() -> None:
        outcomes.extend(await ingest.store_generated_batch(session, events))

    assert await _binds(session, store) == 2
    assert all(isinstance(o, ingest.Stored) and o.inserted for o in outcomes)
    assert await _units(session, user_id) == {"used": 40}


async def test_a_batch_of_failures_is_one_statement(session: AsyncSession, user_id: str) -> None:
    task_ids, campaign_id = await _tasks(session, user_id, 25)
    events = [generation_failed(t, user_id, campaign_id) for t in task_ids]
    outcomes: list[ingest.FailedOutcome] = []

    async def fail() -> None:
        outcomes.extend(await ingest.record_failure_batch(session, events))

    assert await _binds(session, fail) == 1
    assert outcomes == [ingest.Applied(True)] * 25
    assert await _units(session, user_id) == {"released": 25}


async def test_a_mixed_batch_gets_one_outcome_per_message_in_order(
    session: AsyncSession, user_id: str
) -> None:
    (first, second, deleted), campaign_id = await _tasks(session, user_id, 3)
    stored = await ingest.store_generated(session, draft_generated(deleted, user_id, campaign_id))
    draft = await repo.get_draft(session, user_id, stored.draft.id)
    assert draft is not None
    await repo.delete_draft(session, draft)
    stranger = draft_generated(second, "someone-else", campaign_id)
    unknown = uuid.uuid4()
    batch = [
        draft_generated(first, user_id, campaign_id),
        draft_generated(first, user_id, campaign_id),  # the same task twice in one batch
        stranger,
        draft_generated(deleted, user_id, campaign_id),
        draft_generated(unknown, user_id, campaign_id),
    ]
    outcomes = await ingest.store_generated_batch(session, batch)
    assert isinstance(outcomes[0], ingest.Stored)
    assert outcomes[0].inserted
    assert isinstance(outcomes[1], ingest.Stored)
    assert not outcomes[1].inserted
    assert outcomes[0].draft.id == outcomes[1].draft.id
    assert outcomes[2] == ingest.Refused("the draft's user or campaign does not match its task")
    assert outcomes[3] == ingest.Dropped("draft_deleted")
    assert outcomes[4] == ingest.Refused(f"no generation task {unknown}")
    assert await _units(session, user_id) == {"used": 2, "reserved": 1}


async def test_redelivering_a_batch_moves_nothing(session: AsyncSession, user_id: str) -> None:
    (done, failed, late), campaign_id = await _tasks(session, user_id, 3)
    drafts = [draft_generated(t, user_id, campaign_id, cost=0.25) for t in (done, late)]
    failures = [generation_failed(t, user_id, campaign_id) for t in (failed, late)]
    first = await ingest.record_failure_batch(session, failures)
    stored = await ingest.store_generated_batch(session, drafts)  # the late draft still wins
    assert first == [ingest.Applied(True), ingest.Applied(True)]
    assert await _units(session, user_id) == {"used": 2, "released": 1}
    again_failed = await ingest.record_failure_batch(session, failures)
    again_stored = await ingest.store_generated_batch(session, drafts)
    assert again_failed == [ingest.Applied(False), ingest.Applied(False)]
    assert [o.inserted for o in again_stored if isinstance(o, ingest.Stored)] == [False, False]
    assert [o.draft.id for o in again_stored if isinstance(o, ingest.Stored)] == [
        o.draft.id for o in stored if isinstance(o, ingest.Stored)
    ]
    assert await _units(session, user_id) == {"used": 2, "released": 1}
    spend = await repo.month_usage(session, user_id, Plan.GROWTH, NOW)
    assert float(spend.spend_usd) == 0.5


async def test_a_redelivery_racing_the_drafts_delete_waits_and_is_dropped(
    engine: AsyncEngine, user_id: str
) -> None:
    """The delete holds the task's row lock until it commits its tombstone; the consumer's batch
    waits for that lock and only then reads tombstones, so it drops the draft, never revives it."""
    sessions = session_factory(engine)
    async with unit_of_work(sessions) as session:
        (task_id,), campaign_id = await _tasks(session, user_id, 1)
        stored = await ingest.store_generated(
            session, draft_generated(task_id, user_id, campaign_id)
        )
    redelivered = draft_generated(task_id, user_id, campaign_id)

    async def consume() -> list[ingest.GeneratedOutcome]:
        async with unit_of_work(sessions) as session:
            return await ingest.store_generated_batch(session, [redelivered])

    async with unit_of_work(sessions) as deleting:
        draft = await repo.get_draft(deleting, user_id, stored.draft.id)
        assert draft is not None
        await repo.delete_draft(deleting, draft)
        racing = asyncio.create_task(consume())
        async with engine.connect() as observer:
            for _ in range(3000):  # until the consumer's batch waits on the task's lock
                waiting = await observer.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                        " AND query LIKE '%FROM generation_tasks%FOR UPDATE%'"
                        " AND datname = current_database()"
                    )
                )
                await observer.rollback()
                if waiting or racing.done():
                    break
                await asyncio.sleep(0.02)
        assert not racing.done()
    assert await racing == [ingest.Dropped("draft_deleted")]
    async with sessions() as session:
        assert await repo.get_draft_by_task(session, task_id) is None
